#pragma once
// GPT-2 (Radford et al. 2019) as a LibTorch forward pass whose every hook
// point (hook_point.h) can be read or replaced. Runs on the CPU or CUDA, in
// float32 or bfloat16.
//
//   auto model = Gpt2::load("models/gpt2");
//   TokenBatch batch = make_token_batch({{464, 3290}, {15496}}, model->config());
//   RunResult r = model->run(batch, {{"blocks.5.hook_resid_pre"}, {}});
//
// A run computes only as far as its last asked hook: no later blocks, no final
// LayerNorm unless ln_final or logits are asked, no unembedding unless logits are.
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>

#include "core/model/gpt2_config.h"
#include "core/model/gpt2_weights.h"
#include "core/model/model_options.h"
#include "core/model/run_request.h"
#include "core/model/token_batch.h"

namespace saescope::model {

class HookPlan;

class Gpt2 {
 public:
  // `dir` is a Hugging Face GPT-2 folder: config.json plus model.safetensors
  // or model.safetensors.index.json. InputError names the file at fault.
  static std::shared_ptr<const Gpt2> load(const std::string& dir, const ModelOptions& options = {});

  // From weights in memory (converted to the options' device and dtype).
  Gpt2(Gpt2Config config, Gpt2Weights weights, const ModelOptions& options = {});

  const Gpt2Config& config() const { return config_; }
  const Gpt2Weights& weights() const { return weights_; }
  const ModelOptions& options() const { return options_; }

  // Reads hooks under c10::InferenceMode. InputError for unknown hook names.
  RunResult run(const TokenBatch& batch, const RunRequest& request) const;

  // The same forward pass without InferenceMode, so gradients can flow (for
  // training); `ids` is [batch, pos] int64 on any device.
  RunResult forward(const at::Tensor& ids, const RunRequest& request) const;

 private:
  at::Tensor layer_norm(const at::Tensor& x, const at::Tensor& gain, const at::Tensor& bias,
                        HookKind kind, int layer, HookPlan& hooks) const;
  at::Tensor attention(const at::Tensor& x, int layer, HookPlan& hooks) const;
  at::Tensor mlp(const at::Tensor& x, int layer, HookPlan& hooks) const;

  Gpt2Config config_;
  Gpt2Weights weights_;
  ModelOptions options_;
  at::Tensor causal_bias_;  // [n_positions, n_positions]: 0 where a query may look, -inf after it
};

}  // namespace saescope::model
