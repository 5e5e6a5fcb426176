#pragma once
// Gemma 2 and Gemma 3 (text; and the text part of Gemma 3 multimodal
// checkpoints) as Hugging Face's modeling_gemma2.py / modeling_gemma3.py
// compute them: embeddings times √d_model, Gemma RMSNorm x·(1 + w) in float32,
// four norms per layer, GeGLU with tanh GELU, query_pre_attn_scalar, attention
// logit soft-capping before the mask, sliding-window layers, final logit
// soft-capping, tied embeddings. Gemma 3 adds q/k norms before RoPE and a
// local RoPE base on sliding layers.
#include <ATen/core/Tensor.h>

#include <vector>

#include "core/model/language_model.h"
#include "core/model/transformer_ops.h"

namespace saescope::model {

class ConfigJson;
class HookPlan;

struct GemmaConfig {
  std::string model_type;  // gemma2, gemma3_text, gemma3
  bool gemma3 = false;
  int64_t n_layer = 0, d_model = 0, n_head = 0, n_kv_head = 0, d_head = 0, d_mlp = 0;
  int64_t vocab_size = 0, n_positions = 0;
  double rms_norm_eps = 1e-6;
  double query_pre_attn_scalar = 256;
  double attn_softcap = 0, final_softcap = 0;  // 0: none
  int64_t sliding_window = 4096;
  std::vector<bool> sliding;                    // per layer
  RopeSpec rope_global, rope_local;             // local: sliding layers (Gemma 3)
  Activation activation = Activation::GeluTanh;
  int64_t bos_token_id = 2, eos_token_id = 1;
};
GemmaConfig read_gemma_config(const ConfigJson& config);
ModelInfo gemma_info(const GemmaConfig& c);

struct GemmaBlock {
  Norm input_norm, post_attn_norm, pre_ff_norm, post_ff_norm, q_norm, k_norm;  // gains 1 + w
  at::Tensor qkv_weight, o_weight;      // q_proj | k_proj | v_proj stacked: one matmul
  at::Tensor gate_up_weight, down_weight;  // gate_proj | up_proj stacked
};

class Gemma final : public LanguageModel {
 public:
  Gemma(const GemmaConfig& config, ModelInfo info, const std::string& checkpoint, const ModelOptions& options);
  RunResult forward(const at::Tensor& ids, const RunRequest& request) const override;
  Unembedding unembedding() const override { return {ln_final_.gain, embed_, config_.final_softcap}; }

 private:
  at::Tensor attention(const at::Tensor& x, int layer, const RopeTable& rope, const at::Tensor& mask,
                       HookPlan& hooks) const;
  at::Tensor mlp(const at::Tensor& x, int layer, HookPlan& hooks) const;

  GemmaConfig config_;
  at::Tensor embed_;        // tied: also the unembedding
  double embed_scale_ = 1;  // √d_model rounded to the compute dtype, as HF's normalizer tensor
  std::vector<GemmaBlock> blocks_;
  Norm ln_final_;
};

HookSchema gemma_hook_schema(const ModelInfo& info, bool gemma3);

}  // namespace saescope::model
