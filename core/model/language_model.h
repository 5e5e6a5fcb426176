#pragma once
// The one model interface: everything outside core/model reads activations
// through it, whatever the family (GPT-2, GPT-NeoX, Llama / Qwen, Gemma).
//
//   auto model = load_language_model("models/pythia-70m");   // model_registry.h
//   TokenBatch batch = make_token_batch({{464, 3290}}, model->info());
//   RunResult r = model->run(batch, {{"blocks.3.hook_resid_post"}, {}});
//
// A run computes only as far as its last asked hook.
#include <ATen/core/Tensor.h>

#include <string>

#include "core/model/hook_schema.h"
#include "core/model/model_info.h"
#include "core/model/model_options.h"
#include "core/model/run_request.h"
#include "core/model/token_batch.h"

namespace saescope::model {

// What a direction in the residual stream does to the logits, as the family
// defines it: logits ≈ (x̂ · diag(final_norm_gain)) · unembedᵀ for a
// normalised x̂ (before any final soft-capping, which is monotone).
struct Unembedding {
  at::Tensor final_norm_gain;  // [d_model]: LayerNorm's γ, RMSNorm's w, Gemma's 1 + w
  at::Tensor unembed;          // [vocab, d_model]
  // The logits are exactly ln_final.hook_out · unembedᵀ, then, when this is
  // > 0, softcap · tanh(logits / softcap) (Gemma 2): what a caller needs to
  // compute them itself a few rows at a time.
  double final_softcap = 0;
};

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;

  const ModelInfo& info() const { return info_; }
  const HookSchema& hook_schema() const { return schema_; }
  const ModelOptions& options() const { return options_; }

  // Reads hooks under c10::InferenceMode. InputError for unknown hook names.
  RunResult run(const TokenBatch& batch, const RunRequest& request) const;

  // The same forward pass without InferenceMode, so gradients can flow;
  // `ids` is [batch, pos] int64 on any device.
  virtual RunResult forward(const at::Tensor& ids, const RunRequest& request) const = 0;

  virtual Unembedding unembedding() const = 0;

 protected:
  LanguageModel(ModelInfo info, HookSchema schema, ModelOptions options)
      : info_(std::move(info)), schema_(std::move(schema)), options_(options) {}
  // InputError unless ids are [batch, pos] with past + pos within n_positions.
  void check_ids(const at::Tensor& ids, int64_t past = 0) const;

  ModelInfo info_;
  HookSchema schema_;
  ModelOptions options_;
};

}  // namespace saescope::model
