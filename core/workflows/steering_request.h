#pragma once
// Steering and ablation as people ask for them (`saescope-cli steer` /
// `ablate`, the app's Steer panel): folders and a text, and optionally a
// workspace that keeps the result (kinds "steer" and "ablate", keyed by the
// model's and the SAE's content hashes and every parameter), so asking again
// returns the stored answer without loading anything.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/analysis/steering.h"

namespace saescope::store {
class Workspace;
}

namespace saescope::jobs {

class EngineCache;
class ProgressSink;

struct SteerRequest {
  std::string model_dir, sae_path, device = "cpu";
  std::string prompt;
  std::vector<analysis::FeatureEdit> edits;
  analysis::SteerOptions options;
  // Add strengths are multiples of the feature's largest activation in the
  // workspace's harvest of this SAE on this model (InputError when there is none).
  bool strength_in_max_units = false;
};

struct AblateRequest {
  std::string model_dir, sae_path, device = "cpu";
  std::string text;
  std::vector<int64_t> features;
};

struct SteeringOutcome {
  // steer: {"prompt", "hook", "edits", "baseline": {ids, text}, "steered": {ids, text},
  //         "next_token": {promoted, suppressed, kl}}
  // ablate: {"hook", "features", "tokens": [{position, token, next_id, next_token,
  //          log_prob_with, log_prob_without}], "total_change"}
  nlohmann::json result;
  bool reused = false;
  int64_t result_id = 0;  // 0 without a workspace
};

// `progress` gets tokens generated (both continuations) and is asked about
// cancelling between tokens: a cancelled run stores nothing and throws Cancelled.
SteeringOutcome run_steer(const SteerRequest& request, store::Workspace* workspace, EngineCache& engines,
                          ProgressSink& progress);
SteeringOutcome run_ablate(const AblateRequest& request, store::Workspace* workspace, EngineCache& engines);

}  // namespace saescope::jobs
