#pragma once
// GPT-2 (Radford et al. 2019) as a LanguageModel whose every hook point can be
// read or replaced. Runs on the CPU or CUDA, in float32 or bfloat16.
//
// A run computes only as far as its last asked hook: no later blocks, no final
// LayerNorm unless ln_final or logits are asked, no unembedding unless logits are.
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>

#include "core/model/gpt2/gpt2_config.h"
#include "core/model/gpt2/gpt2_weights.h"
#include "core/model/language_model.h"

namespace saescope::model {

class HookPlan;
class ConfigJson;

class Gpt2 final : public LanguageModel {
 public:
  // `dir` is a Hugging Face GPT-2 folder: config.json plus model.safetensors
  // or model.safetensors.index.json. InputError names the file at fault.
  static std::shared_ptr<const Gpt2> load(const std::string& dir, const ModelOptions& options = {});

  // From weights in memory (converted to the options' device and dtype).
  Gpt2(Gpt2Config config, Gpt2Weights weights, const ModelOptions& options = {},
       const std::string& name = "gpt2");

  const Gpt2Config& config() const { return config_; }
  const Gpt2Weights& weights() const { return weights_; }

  RunResult forward(const at::Tensor& ids, const RunRequest& request) const override;
  Unembedding unembedding() const override { return {weights_.ln_final_gain, weights_.unembed}; }

 private:
  at::Tensor attention(const at::Tensor& x, int layer, int64_t past, HookPlan& hooks) const;
  at::Tensor mlp(const at::Tensor& x, int layer, HookPlan& hooks) const;

  Gpt2Config config_;
  Gpt2Weights weights_;
  at::Tensor causal_bias_;  // [n_positions, n_positions]: 0 where a query may look, -inf after it
};

// The GPT-2 hook schema: TransformerLens names and GPT2LMHeadModel's module paths.
HookSchema gpt2_hook_schema(const ModelInfo& info);

}  // namespace saescope::model
