#pragma once
// Trains a GPT-2-architecture language model from scratch with the project's
// own forward pass (Gpt2::forward, autograd through ATen): next-token cross
// entropy on random windows of a token stream, AdamW, linear warm-up then
// cosine decay of the learning rate, gradient-norm clipping, periodic
// validation loss, and atomic checkpoints (lm_checkpoint.h) from which a
// killed run resumes. The same seed, data and thread count give the same
// weights, resumed or not.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "core/model/gpt2/gpt2_config.h"
#include "core/model/gpt2/gpt2_weights.h"
#include "core/model/lm_adamw.h"

namespace saescope::jobs {
class ProgressSink;
}

namespace saescope::model {

class Gpt2;
struct TokenStream;

struct LmTrainOptions {
  Gpt2Config config;      // shape; n_positions >= context
  int64_t context = 128;  // tokens per training window
  int64_t batch = 16;     // windows per step
  int64_t steps = 1000;
  double lr = 1e-3;            // peak learning rate
  double min_lr = -1;          // end of the cosine; < 0: lr / 10
  int64_t warmup_steps = -1;   // linear warm-up; < 0: steps / 20 (at least 1)
  double max_grad_norm = 1.0;  // <= 0: no clipping
  AdamWOptions adamw;
  uint64_t seed = 0;  // initial weights and batches

  int64_t checkpoint_every = 100;         // steps; 0: only when stopping
  int64_t valid_every = 100;              // steps; 0: only at the end
  int64_t valid_windows = 64;             // windows of the validation stream
  at::ScalarType save_dtype = at::kHalf;  // model.safetensors (the state stays float32)

  std::string out_dir;        // required
  std::string tokenizer_dir;  // its files are copied into out_dir; "" for none
  std::string data_id;        // identity of the data (e.g. hashes): a resume must match it
  nlohmann::json extra_info = nlohmann::json::object();  // kept in training.json

  bool resume = false;               // continue from out_dir's training state (fresh if none)
  int64_t pause_at_step = 0;         // > 0: checkpoint and stop once this step is done
  double time_budget_s = 0;          // > 0: checkpoint and stop before this run exceeds it
  bool checkpoint_on_cancel = true;  // on Cancelled from the progress sink
};

struct LmTrainResult {
  int64_t step = 0;             // steps done (of options.steps)
  int64_t resumed_from = 0;     // step the run started at
  bool finished = false;        // all steps done, final model saved
  std::string stopped_because;  // "finished", "paused", "time budget"
  double train_loss = 0;        // mean over the steps since the previous validation
  double valid_loss = 0;        // latest validation loss (NaN if none ran)
  double elapsed_s = 0;         // this run
  double total_elapsed_s = 0;   // all runs of this training, up to the last checkpoint
  double tokens_per_s = 0;      // this run
  Gpt2Weights weights;          // the final float32 weights (detached)
};

using LmLogFn = std::function<void(const std::string& line)>;

// The learning rate of 0-based `step`.
double lm_learning_rate(const LmTrainOptions& options, int64_t step);

// Mean next-token cross entropy of `model` on windows [n, T + 1], in batches.
double lm_loss(const Gpt2& model, const at::Tensor& windows, int64_t batch);

// InputError for bad options, for a resumed state written with other
// settings or data, or for an out_dir that holds a training state without
// `resume`; InternalError when the loss becomes NaN or infinite (the last
// checkpoint is kept). Cancelled (from `progress`) after saving a checkpoint
// when checkpoint_on_cancel.
LmTrainResult train_lm(const TokenStream& train, const TokenStream& valid,
                       const LmTrainOptions& options, jobs::ProgressSink& progress,
                       const LmLogFn& log = {});

}  // namespace saescope::model
