#pragma once
// Feature dashboards' data: one harvest runs GPT-2 over a corpus once and
// fills, for every feature of every SAE given, the workspace's feature
// tables (store/SCHEMA.md): top-k activating windows with per-token
// activations, interval samples, histogram, density, max/mean, logit effects.
//
// Three passes over the windows, each resumable:
//   1. model + SAEs: density, max, mean, streaming top-k (feature_stats.h);
//      each SAE's features go to a spill file, sparse (code_spill.h), or,
//      for an SAE whose L0 exceeds its d_in, the hook activations do
//      (activation_spill.h);
//   2. from the spill: histograms, interval counts and samples, which need
//      each feature's max from pass 1: exact, not re-binned;
//   3. over just the windows that hold an example: each example's
//      per-token activations. Then the rows of every feature, the interval
//      examples and the logit effects are written in one transaction with
//      finish_result.
// One forward pass serves all SAEs, and stops at the last hook they read.
//
// State (the accumulators, pass, next window) is committed every few batches:
// a safetensors file beside the workspace (<workspace>.harvest-<key>.state-N)
// named in results.progress, written before the progress row. A cancelled
// run commits and stops; a killed one resumes from its last commit, and the
// windows' order, batches and sampling are fixed, so the result equals an
// uninterrupted run's.
//
// Distributed (HarvestInputs::group): batch b (windows b·B .. b·B+B-1) is
// rank b mod world's. Each rank accumulates its own windows and keeps its own
// spill and state files (".rank-R"); at the end of passes 1 and 2 the
// accumulators are merged through collectives (FeatureStats::merge_pass*), so
// every rank holds what one process would; in pass 3 each rank reads its own
// windows' examples and sends them to rank 0, the only one with a workspace.
// Commits happen together (rank 0 decides when) and rank 0's progress row
// names them all, so a killed run resumes from the last commit every rank made.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/corpus/window_source.h"

namespace saescope::model {
class LanguageModel;
}
namespace saescope::sae {
class Sae;
}
namespace saescope::store {
class Workspace;
}
namespace saescope::tokenizer {
class BpeTokenizer;
}
namespace saescope::jobs {
class ProgressSink;
}
namespace saescope::dist {
class ProcessGroup;
}

namespace saescope::analysis {

// What pass 1 keeps on disk for passes 2-3.
enum class SpillKind {
  Auto,         // Features where L0 <= d_in (at most 2x the activations' bytes), else Activations
  Features,     // each SAE's non-zero features: passes 2-3 read them (no model, no SAE)
  Activations,  // the hook activations: passes 2-3 run the SAE again
};

struct HarvestOptions {
  int64_t top_k = 20;
  int64_t batch_windows = 8;     // windows per forward pass (a resumed run keeps its own)
  int64_t commit_every = 0;      // batches between commits; 0: every commit_seconds
  double commit_seconds = 60;
  int intervals = 10;
  int interval_samples = 5;
  int histogram_bins = 50;
  double histogram_decades = 3;
  int64_t logit_effects = 10;    // promoted and suppressed tokens per feature; 0: none
  uint64_t seed = 0;
  bool spill = true;             // keep pass 1's results on disk; false: passes 2-3 rerun the model
  SpillKind spill_kind = SpillKind::Auto;
};

// One SAE of a harvest. The SAE must already be on the model's device.
struct HarvestTarget {
  const sae::Sae* sae = nullptr;
  std::string hook;         // TransformerLens hook name it reads
  int64_t result_id = 0;    // begun with Workspace::begin_result (kind "harvest")
  std::string key;          // that result's key: names its files
};

struct HarvestInputs {
  const model::LanguageModel* model = nullptr;
  WindowSource* windows = nullptr;  // any position: the harvest seeks
  int64_t context = 128;            // window length the source was cut with
  const tokenizer::BpeTokenizer* tokenizer = nullptr;  // token texts (vocab, top_tokens)
  std::optional<int64_t> model_id;  // the vocab table's rows go under this input
  dist::ProcessGroup* group = nullptr;  // several ranks: each takes its share of the batches
};

struct HarvestReport {
  int64_t windows = 0, tokens = 0;
  int64_t counted_tokens = 0;       // tokens that count: BOS excluded
  std::vector<std::string> notes;   // "result 3: resumed in pass 2 at window 40", ...
  double pass_seconds[3] = {0, 0, 0};
  double logit_seconds = 0;
  double write_seconds = 0;         // the final rows (in pass 3's time)
  int64_t examples = 0;             // example rows written
  int64_t peak_rss_bytes = 0;
  bool spilled = false;             // passes 2-3 read the spill files
  int64_t spill_bytes = 0;          // their size on disk after pass 1
  double sent_bytes[3] = {0, 0, 0}; // distributed: what this rank sent through collectives, by pass
};

// Runs (or resumes) the harvest of every target; they must share one model
// and one corpus. Throws Cancelled (after committing) when `progress` says stop.
HarvestReport harvest_features(store::Workspace& ws, const HarvestInputs& inputs,
                               const std::vector<HarvestTarget>& targets,
                               const HarvestOptions& options, jobs::ProgressSink& progress);
// A rank of a distributed harvest: rank 0 passes its workspace, the others
// nullptr and the workspace's path (their files go beside it) and targets
// whose keys equal rank 0's (result ids unused).
HarvestReport harvest_features(store::Workspace* ws, const std::string& workspace_path,
                               const HarvestInputs& inputs, const std::vector<HarvestTarget>& targets,
                               const HarvestOptions& options, jobs::ProgressSink& progress);

// Files a running harvest keeps beside the workspace (state, spill), by key.
std::string harvest_file_prefix(const std::string& workspace_path, const std::string& key);

}  // namespace saescope::analysis
