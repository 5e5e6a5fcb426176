#pragma once
// An SAE training run as people ask for it (`saescope-cli train`, the GUI's
// Train): model folder, hook and corpus in, a SAELens SAE folder out. Builds
// (or continues, or reuses) the activation cache for (model, hook, corpus,
// context, tokens), keeps the last windows of it out of training, trains on
// the rest, saves the SAE with its provenance in cfg.json, and evaluates it
// on the held-out windows. Rerunning after an interruption continues the
// cache where it stopped; training itself starts over.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/common/progress.h"
#include "core/sae/sae_trainer.h"


namespace saescope::dist {
class ProcessGroup;
}

namespace saescope::sae {

struct ArchitectureSpec;

struct SaeTrainRequest {
  std::string model_dir;
  std::string hook;
  std::string corpus;
  std::string out;    // the SAE folder
  std::string cache;  // "" = out + ".cache"
  // "standard" | "topk" | "batchtopk" | "jumprelu" | "gated" (batchtopk is
  // saved as JumpReLU with one shared threshold, as SAELens does).
  std::string architecture;
  double expansion = 0;  // d_sae = expansion × d_in, unless d_sae is given
  int64_t d_sae = 0;
  int64_t k = 0;           // required for topk / batchtopk / matryoshka_batchtopk
  std::vector<int64_t> matryoshka_widths;  // matryoshka_batchtopk (empty: d_sae/4, d_sae/2, d_sae)
  // A transcoder: reads `hook`, reconstructs `hook_out` (a second activation
  // cache of the same windows, beside the first: OUT.out.cache); with
  // skip_connection also x·W_skipᵀ (SAELens's skip_transcoder).
  std::string hook_out;
  bool skip_connection = false;
  double l1 = -1;          // < 0: the trainer's default (standard and gated only)
  double l0 = -1;          // < 0: the trainer's default (jumprelu only: the L0 coefficient)
  double jumprelu_bandwidth = -1;       // < 0: the trainer's default (SAELens 6: 0.05)
  double jumprelu_init_threshold = -1;  // < 0: the trainer's default (SAELens 6: 0.01)
  std::string jumprelu_sparsity;        // "" | "step" | "tanh" (SAELens's jumprelu_sparsity_loss_mode)
  double jumprelu_tanh_scale = -1;      // < 0: the trainer's default (SAELens: 4)
  double pre_act_loss = -1;             // < 0: off (SAELens: pre_act_loss_coefficient None)
  double lr = -1;          // < 0: the trainer's default
  int64_t tokens = 0;      // training tokens; 0: one pass over the cache
  int64_t batch = 4096;
  int64_t context = 128;
  uint64_t seed = 42;
  std::string device = "cpu";
  bool center_writing_weights = false;
  double holdout_fraction = 0.02;     // windows evaluated, never trained on
  int64_t checkpoint_every = -1;      // tokens; < 0: a fifth of training, 0: none
  std::string save_dtype = "float32";  // float32, float16 or bfloat16 (trained in float32)
};

struct SaeTrainOutcome {
  std::string cache_path;
  bool cache_reused = false;          // complete before this run
  int64_t cache_resumed_from_rows = 0;
  int64_t cache_rows = 0;
  int64_t train_rows = 0, holdout_rows = 0;
  int64_t d_in = 0, d_sae = 0;
  TrainStatus status = TrainStatus::Finished;
  std::string message;  // the trainer's, when it stopped early
  int64_t steps = 0, tokens = 0, epochs = 0;
  double train_seconds = 0;
  TrainProgress last;
  nlohmann::json evaluation;  // run_sae_eval_on_cache's metrics
  std::vector<std::string> warnings;

  nlohmann::json to_json() const;
};

// Validates the request (InputError naming the option), then runs the flow.
// Progress goes to `on_progress` (stages "cache", "train", "evaluate"; one
// ProgressSink per stage, so each stage's rate and ETA count from its own
// start); `cancel` stops the work at the next batch (saescope::Cancelled),
// with the cache committed and the last checkpoint in `out` kept.
// Data-parallel when started distributed (dist::world()).
SaeTrainOutcome train_sae_from_corpus(const SaeTrainRequest& request,
                                      const jobs::ProgressSink::Callback& on_progress = {},
                                      const jobs::CancelFlag* cancel = nullptr);
// Data-parallel over `group` (every rank writes a shard of the caches, each
// trains on its slice of every batch, rank 0 saves); nullptr: one process.
SaeTrainOutcome train_sae_from_corpus(const SaeTrainRequest& request, const jobs::ProgressSink::Callback& on_progress,
                                      const jobs::CancelFlag* cancel, dist::ProcessGroup* group);

// A sweep: several SAEs of one model and corpus (of one hook or several),
// each on all the data. Every hook's activation cache is built once (the
// first request of that hook names it; the others read it). One process
// trains them one after another; with `group` (--sae-per-rank) the ranks
// build each cache together, a shard each, then request i trains on rank
// i mod W, which saves and evaluates it: the ranks need one filesystem for
// the caches. Returns every outcome (SaeTrainOutcome::to_json, with "sae"
// and "rank"), in request order, on rank 0 (the others' own only).
// InputError when the requests do not share the model, corpus, context,
// token budget, holdout and device, or name a transcoder.
std::vector<nlohmann::json> train_sweep(std::vector<SaeTrainRequest> requests,
                                         const jobs::ProgressSink::Callback& on_progress,
                                         const jobs::CancelFlag* cancel, dist::ProcessGroup* group);

// The trainer's architecture for a name; InputError naming the option.
// The architecture --arch names, if it is trained here; InputError listing them otherwise.
const ArchitectureSpec& parse_train_architecture(const std::string& name);

}  // namespace saescope::sae
