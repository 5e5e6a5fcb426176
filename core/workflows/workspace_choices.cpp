#include "core/workflows/workspace_choices.h"

#include <algorithm>

#include "core/model/hook_point.h"
#include "core/model/model_registry.h"

namespace saescope::workflows {

int64_t default_context(const std::string& model_dir) {
  return std::min<int64_t>(128, model::read_model_info(model_dir).n_positions);
}

std::string default_training_hook(const store::InputRecord& model) {
  return model::middle_residual_hook(model.config.value("n_layer", int64_t(1)));
}

}  // namespace saescope::workflows
