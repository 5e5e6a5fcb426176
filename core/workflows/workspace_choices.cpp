#include "core/workflows/workspace_choices.h"

#include <algorithm>

#include "core/model/hook_point.h"
#include "core/model/model_registry.h"

namespace saescope::workflows {

std::optional<store::InputRecord> model_for_sae(store::Workspace& ws, int64_t sae_id) {
  const auto results = ws.results();  // oldest first
  for (auto r = results.rbegin(); r != results.rend(); ++r)
    if (r->sae_id == sae_id && r->model_id)
      if (auto model = ws.input(*r->model_id)) return model;
  return newest_model(ws);
}

std::optional<store::InputRecord> newest_model(store::Workspace& ws) {
  auto models = ws.inputs(store::InputKind::Model);  // by id: the order they were added
  if (models.empty()) return std::nullopt;
  return std::move(models.back());
}

int64_t default_context(const std::string& model_dir) {
  return std::min<int64_t>(128, model::read_model_info(model_dir).n_positions);
}

std::string default_training_hook(const store::InputRecord& model) {
  return model::middle_residual_hook(model.config.value("n_layer", int64_t(1)));
}

}  // namespace saescope::workflows
