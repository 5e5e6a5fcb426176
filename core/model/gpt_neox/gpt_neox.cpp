#include "core/model/gpt_neox/gpt_neox.h"

#include <ATen/ATen.h>

#include <cmath>

#include "core/common/error.h"
#include "core/model/checkpoint_reader.h"
#include "core/model/config_json.h"
#include "core/model/family.h"
#include "core/model/hook_plan.h"

namespace saescope::model {

GptNeoxConfig read_gpt_neox_config(const ConfigJson& j) {
  GptNeoxConfig c;
  c.d_model = j.positive_int({"hidden_size"});
  c.n_layer = j.positive_int({"num_hidden_layers"});
  c.n_head = j.positive_int({"num_attention_heads"});
  c.d_mlp = j.positive_int({"intermediate_size"});
  c.vocab_size = j.positive_int({"vocab_size"});
  c.n_positions = j.positive_int({"max_position_embeddings"});
  if (c.d_model % c.n_head != 0)
    j.fail("hidden_size " + std::to_string(c.d_model) + " is not a multiple of num_attention_heads " +
           std::to_string(c.n_head));
  c.d_head = c.d_model / c.n_head;
  c.layer_norm_eps = j.positive_number("layer_norm_eps", 1e-5);
  const double pct = j.has("rotary_pct") ? j.positive_number("rotary_pct", 0.25)
                                         : j.positive_number("partial_rotary_factor", 0.25);
  if (pct > 1) j.fail("rotary_pct " + std::to_string(pct) + " is above 1");
  c.rotary_dims = static_cast<int64_t>(static_cast<double>(c.d_head) * pct);
  if (c.rotary_dims % 2 != 0) j.fail("rotary_pct gives an odd number of rotary dims (" + std::to_string(c.rotary_dims) + ")");
  c.rope_theta = j.has("rotary_emb_base") ? j.positive_number("rotary_emb_base", 10000)
                                          : j.positive_number("rope_theta", 10000);
  c.parallel_residual = j.optional_bool("use_parallel_residual", true);
  c.tied = j.optional_bool("tie_word_embeddings", false);
  c.activation = parse_activation_name(j.optional_string("hidden_act", "gelu"), j.path() + ": hidden_act");
  if (!j.optional_bool("attention_bias", true)) j.fail("attention_bias false is not supported for gpt_neox");
  c.bos_token_id = j.optional_int("bos_token_id", 0);
  c.eos_token_id = j.optional_int("eos_token_id", c.bos_token_id);
  return c;
}

ModelInfo gpt_neox_info(const GptNeoxConfig& c) {
  ModelInfo m;
  m.family = m.model_type = "gpt_neox";
  m.n_layer = c.n_layer;
  m.d_model = c.d_model;
  m.n_head = m.n_kv_head = c.n_head;
  m.d_head = c.d_head;
  m.d_mlp = c.d_mlp;
  m.vocab_size = c.vocab_size;
  m.n_positions = c.n_positions;
  m.bos_token_id = c.bos_token_id;
  m.eos_token_id = c.eos_token_id;
  m.prepend_bos = false;  // Pythia: TransformerLens does not prepend BOS
  m.layer_norm = true;
  m.parallel_residual = c.parallel_residual;
  return m;
}

HookSchema gpt_neox_hook_schema(const ModelInfo& info) {
  using K = HookKind;
  HfModulePaths hf;
  hf.layer_prefixes = {"gpt_neox.layers", "layers"};
  hf.in_layer = {{"", K::ResidPost},
                 {"input", K::ResidPre},
                 {"input_layernorm", K::Ln1Out},
                 {"attention.input", K::Ln1Out},
                 {"attention.dense.input", K::Z},
                 {"attention.dense", K::AttnOut},
                 {"attention", K::AttnOut},
                 {"post_attention_layernorm", K::Ln2Out},
                 {"mlp.input", K::Ln2Out},
                 {"mlp.dense_h_to_4h", K::MlpPre},
                 {"mlp.act", K::MlpPost},
                 {"mlp.dense_4h_to_h.input", K::MlpPost},
                 {"mlp.dense_4h_to_h", K::MlpOut},
                 {"mlp", K::MlpOut}};
  hf.outside = {{"gpt_neox.embed_in", K::Embed}, {"embed_in", K::Embed},
                {"gpt_neox.final_layer_norm", K::LnFinalOut}, {"final_layer_norm", K::LnFinalOut},
                {"embed_out", K::Logits}};
  std::vector<K> kinds = {K::Embed, K::ResidPre, K::Ln1Normalized, K::Ln1Out, K::Q, K::K, K::V,
                          K::Pattern, K::Z, K::AttnOut, K::MlpIn, K::Ln2Normalized, K::Ln2Out,
                          K::MlpPre, K::MlpPost, K::MlpOut, K::ResidPost, K::LnFinalNormalized,
                          K::LnFinalOut, K::Logits};
  if (!info.parallel_residual) kinds.push_back(K::ResidMid);
  return HookSchema(info, kinds, std::move(hf));
}

GptNeox::GptNeox(const GptNeoxConfig& c, ModelInfo info, const std::string& checkpoint,
                 const ModelOptions& options)
    : LanguageModel(info, gpt_neox_hook_schema(info), options), config_(c) {
  const int64_t d = c.d_model;
  const CheckpointReader r(checkpoint, {"gpt_neox.", ""}, "embed_in.weight",
                           "config.json: hidden_size " + std::to_string(d) + ", intermediate_size " +
                               std::to_string(c.d_mlp) + ", vocab_size " + std::to_string(c.vocab_size),
                           options.device, options.dtype);
  const auto norm = [&](const std::string& name) {
    return Norm{r.get(name + ".weight", {d}), r.get(name + ".bias", {d}), c.layer_norm_eps, true};
  };
  embed_ = r.get("embed_in.weight", {c.vocab_size, d});
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    GptNeoxBlock b;
    b.ln1 = norm(p + "input_layernorm");
    b.ln2 = norm(p + "post_attention_layernorm");
    b.qkv_weight = r.get(p + "attention.query_key_value.weight", {3 * d, d});
    b.qkv_bias = r.get(p + "attention.query_key_value.bias", {3 * d});
    b.dense_weight = r.get(p + "attention.dense.weight", {d, d});
    b.dense_bias = r.get(p + "attention.dense.bias", {d});
    b.fc_weight = r.get(p + "mlp.dense_h_to_4h.weight", {c.d_mlp, d});
    b.fc_bias = r.get(p + "mlp.dense_h_to_4h.bias", {c.d_mlp});
    b.proj_weight = r.get(p + "mlp.dense_4h_to_h.weight", {d, c.d_mlp});
    b.proj_bias = r.get(p + "mlp.dense_4h_to_h.bias", {d});
    blocks_.push_back(std::move(b));
  }
  ln_final_ = norm("final_layer_norm");
  if (c.tied) {
    unembed_ = embed_;
  } else {  // embed_out sits beside gpt_neox.*, not under it
    unembed_ = r.get_unprefixed("embed_out.weight", {c.vocab_size, d});
  }
  if (options.center_writing_weights) center_writing_weights();
  if (options.fold_value_biases) fold_value_biases();
}

// TransformerLens's center_writing_weights: what writes into the residual
// stream (embed_in, attention.dense, mlp.dense_4h_to_h, weights and biases)
// loses its mean over d_model, so every later LayerNorm reads the same and the
// residual stream is mean-zero. The unembedding keeps the original weights.
void GptNeox::center_writing_weights() {
  const auto rows = [](const at::Tensor& t) { return t - t.mean(-1, /*keepdim=*/true); };  // [.., d]
  const auto cols = [](const at::Tensor& t) { return t - t.mean(0, /*keepdim=*/true); };   // Linear [d, in]
  if (unembed_.is_same(embed_)) unembed_ = embed_.clone();
  embed_ = rows(embed_);
  for (GptNeoxBlock& b : blocks_) {
    b.dense_weight = cols(b.dense_weight);
    b.dense_bias = rows(b.dense_bias);
    b.proj_weight = cols(b.proj_weight);
    b.proj_bias = rows(b.proj_bias);
  }
}

// TransformerLens's fold_value_biases: the value bias (per head: q|k|v rows)
// moves into the dense output's bias, dense·b_V; hook_v and hook_z lose it.
void GptNeox::fold_value_biases() {
  const int64_t H = config_.n_head, Dh = config_.d_head;
  for (GptNeoxBlock& b : blocks_) {
    at::Tensor qkv = b.qkv_bias.clone();
    at::Tensor b_v = qkv.view({H, 3, Dh}).select(1, 2);
    b.dense_bias = b.dense_bias + at::matmul(b.dense_weight, b_v.reshape({H * Dh}));
    b_v.zero_();
    b.qkv_bias = qkv;
  }
}

RunResult GptNeox::forward(const at::Tensor& token_ids, const RunRequest& request) const {
  HookPlan hooks(request, schema_);
  RunResult result;
  const int64_t past = hooks.past();
  check_ids(token_ids, past);  // before size(1): ids may not be 2-D
  const int64_t T = token_ids.size(1);
  if (hooks.complete()) return result;
  at::Tensor x = hooks.at(HookKind::Embed, -1, at::embedding(embed_, token_ids.to(options_.device, at::kLong)));
  const RopeTable rope = rope_table({config_.rotary_dims, config_.rope_theta}, T, x, past);
  const at::Tensor mask = causal_mask(T, 0, x, past);
  for (int layer = 0; layer < config_.n_layer && !hooks.complete(); ++layer) {
    const GptNeoxBlock& b = blocks_[layer];
    x = hooks.at(HookKind::ResidPre, layer, x);
    if (hooks.complete()) break;
    ++result.blocks_computed;
    const at::Tensor attn_in = apply_norm(x, b.ln1, HookKind::Ln1Normalized, HookKind::Ln1Out, layer, hooks);
    const at::Tensor attn_out = hooks.at(HookKind::AttnOut, layer, attention(attn_in, layer, rope, mask, hooks));
    if (!config_.parallel_residual) x = hooks.at(HookKind::ResidMid, layer, x + attn_out);
    if (hooks.complete()) break;
    // Parallel: the MLP reads the block's input, not x + attention.
    const at::Tensor mlp_in =
        apply_norm(hooks.at(HookKind::MlpIn, layer, x), b.ln2, HookKind::Ln2Normalized, HookKind::Ln2Out, layer, hooks);
    const at::Tensor mlp_out = hooks.at(HookKind::MlpOut, layer, mlp(mlp_in, layer, hooks));
    x = hooks.at(HookKind::ResidPost, layer, config_.parallel_residual ? x + attn_out + mlp_out : x + mlp_out);
  }
  finish_forward(x, ln_final_, unembed_, /*softcap=*/0, hooks, result);
  return result;
}

at::Tensor GptNeox::attention(const at::Tensor& x, int layer, const RopeTable& rope, const at::Tensor& mask,
                              HookPlan& hooks) const {
  const GptNeoxBlock& w = blocks_[layer];
  const int64_t B = x.size(0), T = x.size(1), H = config_.n_head, Dh = config_.d_head;
  const at::Tensor qkv = dense(x, w.qkv_weight, w.qkv_bias).view({B, T, H, 3, Dh});
  const at::Tensor q = hooks.at(HookKind::Q, layer, qkv.select(3, 0));
  const at::Tensor k = hooks.at(HookKind::K, layer, qkv.select(3, 1));
  const at::Tensor v = hooks.at(HookKind::V, layer, qkv.select(3, 2));
  const AttentionSpec spec{1.0 / std::sqrt(static_cast<double>(Dh))};
  const at::Tensor z = attend(apply_rope(q, rope), apply_rope(k, rope), v, spec, mask, layer, hooks);
  return dense(z.reshape({B, T, H * Dh}), w.dense_weight, w.dense_bias);
}

at::Tensor GptNeox::mlp(const at::Tensor& x, int layer, HookPlan& hooks) const {
  const GptNeoxBlock& w = blocks_[layer];
  const at::Tensor pre = hooks.at(HookKind::MlpPre, layer, dense(x, w.fc_weight, w.fc_bias));
  const at::Tensor post = hooks.at(HookKind::MlpPost, layer, activate(pre, config_.activation));
  return dense(post, w.proj_weight, w.proj_bias);
}

Family gpt_neox_family() {
  return family_of<GptNeox>(read_gpt_neox_config, gpt_neox_info,
                            +[](const ModelInfo& info, const GptNeoxConfig&) { return gpt_neox_hook_schema(info); });
}

}  // namespace saescope::model
