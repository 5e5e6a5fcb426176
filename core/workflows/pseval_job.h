#pragma once
// A PS-Eval run from files, as the CLI (and the GUI) ask for it: load the
// model, tokenizer, SAEs and dataset, reuse what a workspace already holds,
// compute the rest in one pass per model setting, store it, and return the
// report objects (pseval_report.h).
//
// Weight processing: each SAE says whether it was trained on TransformerLens's
// centred residual stream (SaeConfig::center_writing_weights). SAEs are
// grouped by that setting and the model is loaded once per group, so every
// SAE reads the activations it was trained on. `centering` overrides it.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/common/progress.h"
#include "core/polysemy/pseval_report.h"
#include "core/polysemy/pseval_runner.h"
#include "core/store/workspace.h"

namespace saescope::polysemy {

enum class Centering { from_sae, on, off };

struct PsEvalJob {
  std::string model_dir;
  std::string tokenizer_dir;  // empty: the model folder
  std::vector<std::string> sae_dirs;
  std::string dataset_path;      // pairs (or occurrences: pairs are formed from them)
  std::string occurrences_path;  // sense-labelled occurrences; empty: the dataset's own, if any
  std::string split;             // only pairs of this split ("" = all)
  // Unlabelled occurrences of the occurrence words found in this corpus (the
  // first `corpus_per_word` of each), shown by the Senses view with the sense
  // their feature predicts; never part of purity / NMI. Empty path: none.
  std::string corpus_path;
  std::size_t corpus_per_word = 8;  // with corpus_path
  PsEvalOptions options;
  std::string device = "cpu";
  std::string dtype = "float32";
  Centering centering = Centering::from_sae;
  // Where results are reused from and stored: an open workspace (the GUI's),
  // else one opened from `workspace_path`; neither: nothing reused or stored.
  store::Workspace* workspace = nullptr;
  std::string workspace_path;
  bool per_word = true;        // fill PsEvalJobSae::per_word
};

struct PsEvalJobSae {
  std::string dir;
  nlohmann::ordered_json metrics;  // the report object, plus "baseline_at_hook"
  bool cached = false;             // read from the workspace, not computed
  int64_t result_id = -1;          // in the workspace, when there is one
  std::vector<PerWordRow> per_word;
};

struct PsEvalJobResult {
  std::vector<PsEvalJobSae> saes;                  // in the order given
  std::vector<nlohmann::ordered_json> baselines;   // one per (hook, centring)
  std::vector<std::string> dataset_issues;         // lines the readers could not use
  std::size_t pairs = 0, occurrences = 0;
  PsEvalStats stats;                               // of the computing part (0 when all cached)
};

PsEvalJobResult run_pseval_job(const PsEvalJob& job, jobs::ProgressSink* progress = nullptr);

}  // namespace saescope::polysemy
