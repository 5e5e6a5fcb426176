#pragma once
// Llama 3 / 3.1 / 3.2, Qwen 2.5 and Qwen 3 as Hugging Face's modeling_llama.py,
// modeling_qwen2.py and modeling_qwen3.py compute them: RMSNorm (weight after
// the cast back), grouped-query attention (head_dim may differ from d/H),
// SwiGLU, RoPE with "llama3" or "linear" scaling; Qwen 2 adds q/k/v biases,
// Qwen 3 RMSNorms q and k per head before RoPE. Tied or untied lm_head.
#include <ATen/core/Tensor.h>

#include <vector>

#include "core/model/language_model.h"
#include "core/model/transformer_ops.h"

namespace saescope::model {

class ConfigJson;
class HookPlan;

struct LlamaConfig {
  std::string model_type;  // llama, qwen2, qwen3
  int64_t n_layer = 0, d_model = 0, n_head = 0, n_kv_head = 0, d_head = 0, d_mlp = 0;
  int64_t vocab_size = 0, n_positions = 0;
  double rms_norm_eps = 1e-6;
  RopeSpec rope;
  Activation activation = Activation::Silu;
  bool qkv_bias = false, o_bias = false, mlp_bias = false, qk_norm = false, tied = false;
  int64_t bos_token_id = -1, eos_token_id = -1;
};
LlamaConfig read_llama_config(const ConfigJson& config);
ModelInfo llama_info(const LlamaConfig& c);

struct LlamaBlock {
  Norm ln1, ln2, q_norm, k_norm;                  // q/k norms: Qwen 3 only
  // q_proj | k_proj | v_proj stacked [H·Dh + 2·Hkv·Dh, d], gate_proj | up_proj
  // [2·d_mlp, d]: one matmul each, the hooks views of its output.
  at::Tensor qkv_weight, qkv_bias, o_weight, o_bias;
  at::Tensor gate_up_weight, gate_up_bias, down_weight, down_bias;  // biases: mlp_bias only
};

class Llama final : public LanguageModel {
 public:
  Llama(const LlamaConfig& config, ModelInfo info, const std::string& checkpoint, const ModelOptions& options);
  RunResult forward(const at::Tensor& ids, const RunRequest& request) const override;
  Unembedding unembedding() const override { return {ln_final_.gain, unembed_}; }

 private:
  at::Tensor attention(const at::Tensor& x, int layer, const RopeTable& rope, const at::Tensor& mask,
                       HookPlan& hooks) const;
  at::Tensor mlp(const at::Tensor& x, int layer, HookPlan& hooks) const;
  void fold_value_biases();

  LlamaConfig config_;
  at::Tensor embed_;
  std::vector<LlamaBlock> blocks_;
  Norm ln_final_;
  at::Tensor unembed_;
};

HookSchema llama_hook_schema(const ModelInfo& info);

}  // namespace saescope::model
