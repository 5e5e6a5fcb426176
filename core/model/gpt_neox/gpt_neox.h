#pragma once
// GPT-NeoX (Pythia) as Hugging Face's modeling_gpt_neox.py computes it:
// parallel residual h + attn(ln1 h) + mlp(ln2 h) (or sequential), a fused
// query_key_value laid out per head (head, q|k|v, d_head), rotary on the first
// rotary_pct·d_head dims, exact-erf GELU, LayerNorm with biases, untied embed_out.
#include <ATen/core/Tensor.h>

#include <vector>

#include "core/model/language_model.h"
#include "core/model/transformer_ops.h"

namespace saescope::model {

class ConfigJson;
class HookPlan;

struct GptNeoxConfig {
  int64_t n_layer = 0, d_model = 0, n_head = 0, d_head = 0, d_mlp = 0, vocab_size = 0, n_positions = 0;
  double layer_norm_eps = 1e-5;
  int64_t rotary_dims = 0;     // int(d_head · rotary_pct), even
  double rope_theta = 10000;   // rotary_emb_base
  bool parallel_residual = true;
  bool tied = false;
  Activation activation = Activation::GeluErf;
  int64_t bos_token_id = 0, eos_token_id = 0;
};
GptNeoxConfig read_gpt_neox_config(const ConfigJson& config);
ModelInfo gpt_neox_info(const GptNeoxConfig& c);

struct GptNeoxBlock {
  Norm ln1, ln2;
  at::Tensor qkv_weight, qkv_bias;     // [3d, d], [3d]: rows per head q|k|v
  at::Tensor dense_weight, dense_bias; // [d, d]
  at::Tensor fc_weight, fc_bias;       // dense_h_to_4h [d_mlp, d]
  at::Tensor proj_weight, proj_bias;   // dense_4h_to_h [d, d_mlp]
};

class GptNeox final : public LanguageModel {
 public:
  GptNeox(const GptNeoxConfig& config, ModelInfo info, const std::string& checkpoint,
          const ModelOptions& options);
  RunResult forward(const at::Tensor& ids, const RunRequest& request) const override;
  Unembedding unembedding() const override { return {ln_final_.gain, unembed_}; }

 private:
  at::Tensor attention(const at::Tensor& x, int layer, const RopeTable& rope, const at::Tensor& mask,
                       HookPlan& hooks) const;
  at::Tensor mlp(const at::Tensor& x, int layer, HookPlan& hooks) const;
  void center_writing_weights();
  void fold_value_biases();

  GptNeoxConfig config_;
  at::Tensor embed_;    // [vocab, d]
  std::vector<GptNeoxBlock> blocks_;
  Norm ln_final_;
  at::Tensor unembed_;  // embed_out [vocab, d]
};

HookSchema gpt_neox_hook_schema(const ModelInfo& info);

}  // namespace saescope::model
