#pragma once
// An SAE evaluation as people ask for it (`saescope-cli sae-eval`): folders
// and files, and optionally a workspace that keeps the result. The SAE's
// center_writing_weights expectation decides how the model is loaded (a
// warning says so when the SAE's config left it to be assumed). With a
// workspace, the result (kind "reconstruction") is keyed by the content
// hashes of model, SAE and corpus and the parameters, so an identical
// request returns the stored metrics without loading anything, and a
// changed file or parameter computes afresh.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/sae/sae_evaluation.h"

namespace saescope::store {
class Workspace;
}

namespace saescope::sae {

struct SaeEvalRequest {
  std::string model_dir;
  std::string sae_dir;
  std::string corpus;
  std::string tokenizer_dir;  // "" = the model folder
  std::string device = "cpu";
  int64_t context = 128;
  int64_t max_tokens = 0;  // 0: the whole corpus (window tokens, BOS counted)
  SaeEvalOptions options;
};

struct SaeEvalOutcome {
  nlohmann::json metrics;             // evaluation_json + hook, context, center_writing_weights...
  std::vector<std::string> warnings;  // for stderr
  bool reused = false;                // read from the workspace, nothing ran
  int64_t result_id = 0;              // 0 without a workspace
  std::string key;
};

// The parameters the result key holds (also stored as the result's params).
nlohmann::json sae_eval_params(const SaeEvalRequest& request, const std::string& hook,
                               bool center_writing_weights, const std::string& tokenizer_hash);

SaeEvalOutcome run_sae_eval(const SaeEvalRequest& request, store::Workspace* workspace,
                            jobs::ProgressSink& progress);

// Several at once, one outcome per request in order: requests that differ
// only in their SAE share one model load and one pass over the corpus
// (evaluate_saes_on_windows), each with its own stored result, equal to the
// one run_sae_eval stores for it alone.
std::vector<SaeEvalOutcome> run_sae_evals(const std::vector<SaeEvalRequest>& requests,
                                          store::Workspace* workspace, jobs::ProgressSink& progress);

// Activation-side metrics only (no CE: a cache holds no tokens) on the
// held-out tail of an activation cache: the last `holdout_fraction` of its
// windows (1: all of it), at most `max_tokens` rows (0: all). InputError
// when the cache was taken at another hook or with the other
// center_writing_weights than the SAE says it expects.
// A transcoder is measured against `target_cache_path`: the same windows
// at the hook it writes (required for one, refused for an SAE).
SaeEvalOutcome run_sae_eval_on_cache(const std::string& sae_dir, const std::string& cache_path,
                                     double holdout_fraction, int64_t max_tokens,
                                     const SaeEvalOptions& options, const std::string& target_cache_path = {});

}  // namespace saescope::sae
