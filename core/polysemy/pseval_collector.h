#pragma once
// Step two of a PS-Eval run: the model over every planned prompt, ONCE,
// batched. Prompts are sorted by length and run `batch_size` at a time
// (right-padded: under causal attention the padding never changes a real
// position, token_batch.h). One forward pass asks for every hook any SAE
// needs (the model stops after the last of them); at each hook only the rows
// that are read are gathered -- the target position of each prompt, and all
// real positions of the prompts whose MSE/L0 are measured -- and every SAE of
// that hook, and the no-SAE baseline, reads those rows. A sweep of 12 SAEs
// over 12 layers is one pass over the dataset, not 12.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/common/progress.h"
#include "core/model/language_model.h"
#include "core/polysemy/pseval_plan.h"
#include "core/sae/sae.h"

namespace saescope::polysemy {

// The strongest entry of a code: the lowest index among the maximal values.
struct FeaturePick {
  int64_t feature = -1;
  float activation = 0;
  bool all_zero = false;  // every entry is exactly 0 (feature is then 0)
};

// codes: [n, d] -> n picks (one device-to-host copy).
std::vector<FeaturePick> argmax_picks(const at::Tensor& codes);

// Width of the per-position vector at `hook` (heads flattened for q/k/v/z).
// InputError for unknown hooks and for attention patterns (not per position).
int64_t hook_width(const model::HookSchema& schema, const std::string& hook);

// A hook value as [batch, pos, width] (q/k/v/z heads flattened, as SAELens's
// hook_z SAEs read them).
at::Tensor position_major(const at::Tensor& value);

struct SaeAtHook {
  const sae::Sae* sae = nullptr;
  std::string hook;
};

struct CollectOptions {
  int64_t batch_size = 32;
  bool baseline = true;        // argmax of the raw activation, per hook
  bool reconstruction = true;  // MSE and L0 on every first_of_pair prompt
};

struct Collected {
  std::vector<std::string> hooks;                         // distinct, in forward order
  std::vector<std::size_t> sae_hook;                      // [sae] -> index into hooks
  std::vector<std::vector<FeaturePick>> sae_picks;        // [sae][prompt]
  std::vector<std::vector<FeaturePick>> baseline_picks;   // [hook][prompt]; empty without baseline
  std::vector<std::vector<double>> mse, l0;               // [sae][prompt]; NaN unless first_of_pair
  std::vector<at::Tensor> occurrence_rows;                // [hook]: [rows, width] float32 on the CPU
  std::vector<int64_t> occurrence_row;                    // [prompt] -> row, or -1
  int64_t batches = 0, tokens = 0, padded_tokens = 0;
};

// InputError when an SAE has no hook, a hook the model lacks, or a d_in that
// is not the hook's width. Cancellation (through `progress`) between batches.
Collected collect_picks(const model::LanguageModel& model, const PromptPlan& plan,
                        const std::vector<SaeAtHook>& saes, const CollectOptions& options,
                        jobs::ProgressSink* progress = nullptr);

}  // namespace saescope::polysemy
