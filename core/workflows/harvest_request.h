#pragma once
// A harvest as people ask for it: folders and files. Loads the model, the
// SAEs and the tokenizer, registers them (and the corpus) in the workspace,
// keys each SAE's result by the content hashes and parameters — so a changed
// SAE, model or corpus gets a new harvest and an identical request reuses the
// finished one — and runs or resumes the SAEs whose harvest is not done.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/analysis/feature_harvest.h"

namespace saescope::store {
class Workspace;
}
namespace saescope::dist {
class ProcessGroup;
}

namespace saescope::analysis {

struct HarvestRequest {
  std::string model_dir;
  std::vector<std::string> sae_dirs;
  std::string corpus;
  std::string tokenizer_dir;   // "" = the model folder
  std::string device = "cpu";
  int64_t context = 128;
  int64_t max_tokens = 0;      // 0 = the whole corpus
  HarvestOptions options;
};

struct HarvestedSae {
  std::string sae_dir;
  std::string hook;
  int64_t sae_id = 0;
  int64_t result_id = 0;
  std::string key;
  bool reused = false;  // finished before: nothing ran for it
};

struct HarvestOutcome {
  std::vector<HarvestedSae> saes;
  int64_t model_id = 0, corpus_id = 0;
  std::string corpus_problems;  // bad JSONL lines, "" when none
  bool ran = false;             // false when every SAE's harvest was already done
  HarvestReport report;
};

// InputError for unreadable inputs, an SAE whose hook the model lacks or
// whose width does not match, or SAEs that disagree on the model's weight
// processing (center_writing_weights).
HarvestOutcome run_harvest(store::Workspace& ws, const HarvestRequest& request,
                           jobs::ProgressSink& progress);
// One rank of a distributed harvest (feature_harvest.h): rank 0 passes its
// workspace, the others nullptr; all pass the workspace's path. Ranks given
// other files than rank 0's are refused before any work.
HarvestOutcome run_harvest(store::Workspace* ws, const std::string& workspace_path, const HarvestRequest& request,
                           jobs::ProgressSink& progress, dist::ProcessGroup* group);

// The parameters a harvest's result key holds (also stored as its params).
nlohmann::json harvest_params(const HarvestRequest& request, const std::string& hook,
                              bool center_writing_weights, int64_t tokens, int64_t windows);

}  // namespace saescope::analysis
