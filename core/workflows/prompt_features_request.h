#pragma once
// "What fires here" as people ask for it: a model folder, an SAE folder and a
// text. Loads (or finds in the engine cache) the SAE, the model as that SAE
// was trained on it (run_inputs.h: the one centring rule) and the model's
// tokenizer, and returns each token's strongest features.
#include <cstdint>
#include <string>
#include <vector>

#include "core/analysis/prompt_features.h"

namespace saescope::jobs {
class EngineCache;
class ProgressSink;
}  // namespace saescope::jobs

namespace saescope::workflows {

struct PromptFeaturesRequest {
  std::string model_dir, sae_dir, device = "cpu";
  std::string text;
  int64_t top_n = 5;  // features per token
};

// InputError as analysis::prompt_features, or naming a folder that does not load.
// `progress` gets "load" then "run" (2 steps) and is asked about cancelling between them.
std::vector<analysis::TokenFeatures> run_prompt_features(const PromptFeaturesRequest& request,
                                                         jobs::EngineCache& engines, jobs::ProgressSink& progress);

}  // namespace saescope::workflows
