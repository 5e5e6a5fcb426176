#pragma once
// Causal checks of an SAE feature (the steering issue): continue a prompt
// with and without edits to features at the SAE's hook, compare the next
// token's distribution, and attribute a text's next-token log-probs to a
// feature by ablating it. Edits apply at every position from `from_position`
// on, prompt and continuation alike (generation.h).
//
//   Add s     x + s·W_dec[f] at the hook the SAE writes (s in raw units)
//   Clamp v   encode, set f to v, decode, and add the SAE's error back:
//             x + decode(c with c_f = v) − decode(c), so only f changes
//   Ablate    Clamp 0
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/model/generation.h"

namespace saescope::model {
class LanguageModel;
}
namespace saescope::sae {
class Sae;
}

namespace saescope::analysis {

enum class FeatureEditKind { Add, Clamp, Ablate };
const char* to_string(FeatureEditKind kind);

struct FeatureEdit {
  int64_t feature = 0;
  FeatureEditKind kind = FeatureEditKind::Add;
  double value = 0;  // Add: the strength s; Clamp: the value; Ablate: unused
};

// InputError for a feature outside the SAE, a value that is not finite, an
// SAE whose hook the model lacks or whose width differs from the hook's.
void check_feature_edits(const model::LanguageModel& model, const sae::Sae& sae,
                         const std::vector<FeatureEdit>& edits);

// The edits as hook edits: one at the hook the SAE writes; a transcoder's
// clamp also reads its input hook (unchanged) on the same pass.
std::vector<model::PositionedEdit> sae_feature_edits(const sae::Sae& sae, const std::vector<FeatureEdit>& edits,
                                                     int64_t from_position = 0);

struct TokenChange {
  int64_t id = 0;
  double log_prob_before = 0, log_prob_after = 0;
};
struct NextTokenEffect {
  std::vector<TokenChange> promoted;    // largest log-prob rise first
  std::vector<TokenChange> suppressed;  // largest fall first
  double kl = 0;                        // KL(before ‖ after), nats
};
// Between two [vocab] log-prob vectors.
NextTokenEffect next_token_effect(const at::Tensor& before, const at::Tensor& after, int64_t top_n);

struct SteerOptions {
  int64_t max_new_tokens = 32;
  model::Sampling sampling;   // the same seed for both continuations
  int64_t from_position = 0;
  int64_t top_n = 10;         // promoted / suppressed tokens listed
};
struct SteerResult {
  model::Generation baseline, steered;
  NextTokenEffect next_token;  // after the prompt
};
// `prompt`: token ids with BOS as the run's rule adds it (steering_prompt).
SteerResult steer(const model::LanguageModel& model, const sae::Sae& sae, const std::vector<int64_t>& prompt,
                  const std::vector<FeatureEdit>& edits, const SteerOptions& options,
                  const std::function<bool()>& cancelled = {},
                  const std::function<void(int64_t done, int64_t total)>& progress = {});

struct TokenAttribution {
  int64_t position = 0;   // of the token whose successor is scored
  int64_t next_id = 0;    // the actual next token
  double log_prob_with = 0, log_prob_without = 0;  // without: the features ablated
};
// One entry per position but the last. InputError for fewer than 2 tokens
// or more than the model's context.
std::vector<TokenAttribution> ablation_attribution(const model::LanguageModel& model, const sae::Sae& sae,
                                                   const std::vector<int64_t>& ids,
                                                   const std::vector<int64_t>& features);

}  // namespace saescope::analysis
