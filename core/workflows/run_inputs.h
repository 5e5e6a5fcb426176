#pragma once
// How the model must run for a set of SAEs, decided in one place for every
// use case (harvest, evaluation, PS-Eval, "what fires here"): the device and
// dtype asked for, and TransformerLens's center_writing_weights as the SAEs'
// cfg.json says (SaeConfig::center_writing_weights), unless overridden.
// (The BOS rule, which also needs the model's config: sae::run_prepends_bos.)
#include <optional>
#include <string>
#include <vector>

#include "core/model/model_options.h"

namespace saescope::sae {
struct SaeConfig;
}

namespace saescope::workflows {

struct SaeRef {
  std::string source;  // folder, for messages
  const sae::SaeConfig* config = nullptr;
};

// InputError naming two SAEs whose centring differs (they need two model loads:
// run them separately), or a bad device / dtype.
model::ModelOptions model_options_for(const std::vector<SaeRef>& saes, const std::string& device,
                                      const std::string& dtype = "float32",
                                      std::optional<bool> centring_override = std::nullopt);

}  // namespace saescope::workflows
