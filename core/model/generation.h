#pragma once
// Text continuation for every family: greedy, or seeded sampling with
// temperature, top-k and top-p (Hugging Face's order), with edits at hook
// points applied at every position of prompt and continuation. With the KV
// cache each new token costs one position's forward pass; without it the
// whole sequence is recomputed at each step (the reference the cache is
// tested and benchmarked against).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/model/run_request.h"

namespace saescope::model {

class LanguageModel;

struct Sampling {
  double temperature = 0.0;  // 0: greedy (the first of equal maxima)
  int64_t top_k = 0;         // 0: every token
  double top_p = 1.0;        // 1: every token
  uint64_t seed = 0;
};

// An edit at a hook point during generation: gets the hook's value for the
// positions this forward pass computes, [B, T, ...], and the position of the
// first of them (0 = the prompt's first token); returns the value to go on with.
struct PositionedEdit {
  std::string hook;
  std::function<at::Tensor(const at::Tensor& value, int64_t first_position)> edit;
};

// The edits as one forward pass's replacements, for positions from `first` on.
std::vector<std::pair<std::string, HookFn>> replacements_for(const std::vector<PositionedEdit>& edits, int64_t first);

struct GenerationRequest {
  std::vector<int64_t> prompt;  // token ids, BOS included where the family's rule adds it
  int64_t max_new_tokens = 32;
  Sampling sampling;
  bool stop_at_eos = true;      // the model's eos_token_id, when it has one
  std::vector<PositionedEdit> edits;
  bool use_cache = true;
};

struct Generation {
  std::vector<int64_t> ids;     // the generated tokens only
  at::Tensor first_log_probs;   // [vocab] float32 CPU: log-softmax of the logits after the prompt
  bool stopped_at_eos = false;
};

// InputError for an empty prompt, a token outside the vocabulary, a prompt
// and continuation longer than the model's context, or bad sampling values.
// `cancelled` is polled before each token (jobs::Cancelled is thrown by the
// caller's choice: here the loop just stops and returns what it has).
Generation generate(const LanguageModel& model, const GenerationRequest& request,
                    const std::function<bool()>& cancelled = {},
                    const std::function<void(int64_t generated)>& on_token = {});

// The next token from `logits` [vocab] as `sampling` says, drawing from `rng`.
int64_t choose_token(const at::Tensor& logits, const Sampling& sampling, std::mt19937_64& rng);

}  // namespace saescope::model
