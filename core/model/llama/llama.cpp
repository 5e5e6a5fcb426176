#include "core/model/llama/llama.h"

#include <ATen/ATen.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/model/checkpoint_reader.h"
#include "core/model/config_json.h"
#include "core/model/family.h"
#include "core/model/hook_plan.h"

namespace saescope::model {

LlamaConfig read_llama_config(const ConfigJson& j) {
  LlamaConfig c;
  c.model_type = j.optional_string("model_type", "llama");
  c.d_model = j.positive_int({"hidden_size"});
  c.n_layer = j.positive_int({"num_hidden_layers"});
  c.n_head = j.positive_int({"num_attention_heads"});
  c.n_kv_head = j.has("num_key_value_heads") ? j.positive_int({"num_key_value_heads"}) : c.n_head;
  c.d_mlp = j.positive_int({"intermediate_size"});
  c.vocab_size = j.positive_int({"vocab_size"});
  c.n_positions = j.positive_int({"max_position_embeddings"});
  if (j.has("head_dim")) {
    c.d_head = j.positive_int({"head_dim"});
  } else if (c.model_type == "qwen3") {
    c.d_head = 128;  // Qwen3Config's default
  } else {
    if (c.d_model % c.n_head != 0)
      j.fail("hidden_size " + std::to_string(c.d_model) + " is not a multiple of num_attention_heads " +
             std::to_string(c.n_head) + " and no head_dim is given");
    c.d_head = c.d_model / c.n_head;
  }
  if (c.n_head % c.n_kv_head != 0)
    j.fail("num_attention_heads " + std::to_string(c.n_head) + " is not a multiple of num_key_value_heads " +
           std::to_string(c.n_kv_head));
  if (c.d_head % 2 != 0) j.fail("head_dim " + std::to_string(c.d_head) + " is odd; rotary needs it even");
  c.rms_norm_eps = j.positive_number("rms_norm_eps", 1e-6);
  c.rope.rotary_dims = c.d_head;
  c.rope.theta = j.positive_number("rope_theta", 10000.0);
  c.rope = read_rope_scaling(j, c.rope, /*allow_llama3=*/true);
  if (j.has("partial_rotary_factor") && j.positive_number("partial_rotary_factor", 1.0) != 1.0)
    j.fail("partial_rotary_factor other than 1 is not supported for " + c.model_type);
  c.activation = parse_activation_name(j.optional_string("hidden_act", "silu"), j.path() + ": hidden_act");
  const bool attention_bias = j.optional_bool("attention_bias", false);
  c.qkv_bias = c.model_type == "qwen2" || attention_bias;
  c.o_bias = c.model_type != "qwen2" && attention_bias;
  c.mlp_bias = j.optional_bool("mlp_bias", false);
  c.qk_norm = c.model_type == "qwen3";
  c.tied = j.optional_bool("tie_word_embeddings", false);
  if (j.optional_bool("use_sliding_window", false))
    j.fail("use_sliding_window true is not supported (Qwen's sliding-window attention)");
  c.bos_token_id = j.optional_int("bos_token_id", -1);
  c.eos_token_id = j.optional_int("eos_token_id", -1);
  return c;
}

ModelInfo llama_info(const LlamaConfig& c) {
  ModelInfo m;
  m.family = "llama";
  m.model_type = c.model_type;
  m.n_layer = c.n_layer;
  m.d_model = c.d_model;
  m.n_head = c.n_head;
  m.n_kv_head = c.n_kv_head;
  m.d_head = c.d_head;
  m.d_mlp = c.d_mlp;
  m.vocab_size = c.vocab_size;
  m.n_positions = c.n_positions;
  m.bos_token_id = c.bos_token_id;
  m.eos_token_id = c.eos_token_id;
  // TransformerLens: Llama prepends BOS, Qwen does not.
  m.prepend_bos = c.model_type == "llama" && c.bos_token_id >= 0;
  m.layer_norm = false;
  return m;
}

HookSchema llama_hook_schema(const ModelInfo& info) {
  using K = HookKind;
  HfModulePaths hf;
  hf.layer_prefixes = {"model.layers", "layers"};
  hf.in_layer = {{"", K::ResidPost},
                 {"input", K::ResidPre},
                 {"input_layernorm", K::Ln1Out},
                 {"self_attn.input", K::Ln1Out},
                 {"self_attn.q_proj", K::Q},
                 {"self_attn.k_proj", K::K},
                 {"self_attn.v_proj", K::V},
                 {"self_attn.o_proj.input", K::Z},
                 {"self_attn.o_proj", K::AttnOut},
                 {"self_attn", K::AttnOut},
                 {"post_attention_layernorm", K::Ln2Out},
                 {"mlp.input", K::Ln2Out},
                 {"mlp.gate_proj", K::MlpPre},
                 {"mlp.up_proj", K::MlpPreLinear},
                 {"mlp.down_proj.input", K::MlpPost},
                 {"mlp.down_proj", K::MlpOut},
                 {"mlp", K::MlpOut}};
  hf.outside = {{"model.embed_tokens", K::Embed}, {"embed_tokens", K::Embed},
                {"model.norm", K::LnFinalOut},    {"norm", K::LnFinalOut},
                {"lm_head", K::Logits}};
  return HookSchema(info,
                    {K::Embed, K::ResidPre, K::Ln1Normalized, K::Ln1Out, K::Q, K::K, K::V, K::Pattern,
                     K::Z, K::AttnOut, K::ResidMid, K::MlpIn, K::Ln2Normalized, K::Ln2Out, K::MlpPre,
                     K::MlpPreLinear, K::MlpPost, K::MlpOut, K::ResidPost, K::LnFinalNormalized,
                     K::LnFinalOut, K::Logits},
                    std::move(hf));
}

Llama::Llama(const LlamaConfig& c, ModelInfo info, const std::string& checkpoint, const ModelOptions& options)
    : LanguageModel(info, llama_hook_schema(info), options), config_(c) {
  const int64_t d = c.d_model, Dh = c.d_head, H = c.n_head, Hkv = c.n_kv_head;
  const std::string context = "config.json: hidden_size " + std::to_string(d) + ", num_attention_heads " +
                              std::to_string(H) + ", num_key_value_heads " + std::to_string(Hkv) +
                              ", head_dim " + std::to_string(Dh) + ", intermediate_size " +
                              std::to_string(c.d_mlp) + ", vocab_size " + std::to_string(c.vocab_size);
  const CheckpointReader r(checkpoint, {"model.", ""}, "embed_tokens.weight", context, options.device, options.dtype);
  const auto rms = [&](const std::string& name, int64_t n) {
    return Norm{r.get(name + ".weight", {n}), {}, c.rms_norm_eps, false};
  };
  const auto bias = [&](bool has, const std::string& name, int64_t n) {
    return has ? r.get(name + ".bias", {n}) : at::Tensor();
  };
  embed_ = r.get("embed_tokens.weight", {c.vocab_size, d});
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    LlamaBlock b;
    b.ln1 = rms(p + "input_layernorm", d);
    b.ln2 = rms(p + "post_attention_layernorm", d);
    if (c.qk_norm) {
      b.q_norm = rms(p + "self_attn.q_norm", Dh);
      b.k_norm = rms(p + "self_attn.k_norm", Dh);
    }
    const std::string a = p + "self_attn.", m = p + "mlp.";
    b.qkv_weight = r.get_rows({{a + "q_proj.weight", {H * Dh, d}},
                               {a + "k_proj.weight", {Hkv * Dh, d}},
                               {a + "v_proj.weight", {Hkv * Dh, d}}});
    if (c.qkv_bias)
      b.qkv_bias = r.get_rows({{a + "q_proj.bias", {H * Dh}}, {a + "k_proj.bias", {Hkv * Dh}},
                               {a + "v_proj.bias", {Hkv * Dh}}});
    b.o_weight = r.get(a + "o_proj.weight", {d, H * Dh});
    b.o_bias = bias(c.o_bias, a + "o_proj", d);
    b.gate_up_weight = r.get_rows({{m + "gate_proj.weight", {c.d_mlp, d}}, {m + "up_proj.weight", {c.d_mlp, d}}});
    if (c.mlp_bias) b.gate_up_bias = r.get_rows({{m + "gate_proj.bias", {c.d_mlp}}, {m + "up_proj.bias", {c.d_mlp}}});
    b.down_weight = r.get(m + "down_proj.weight", {d, c.d_mlp});
    b.down_bias = bias(c.mlp_bias, m + "down_proj", d);
    blocks_.push_back(std::move(b));
  }
  ln_final_ = rms("norm", d);
  if (c.tied) {
    unembed_ = embed_;
  } else {
    unembed_ = r.get_unprefixed("lm_head.weight", {c.vocab_size, d});  // beside model.*
  }
  if (options.center_writing_weights)
    throw InputError("center_writing_weights applies to LayerNorm models only; " + c.model_type +
                     " uses RMSNorm");
  if (options.fold_value_biases && c.qkv_bias) fold_value_biases();  // without value biases: nothing to fold
}

// TransformerLens's fold_value_biases: each query head's z carries its kv
// head's value bias; o_proj·(those, per query head) joins o_proj's bias.
void Llama::fold_value_biases() {
  const int64_t H = config_.n_head, Hkv = config_.n_kv_head, Dh = config_.d_head;
  for (LlamaBlock& b : blocks_) {
    at::Tensor bias = b.qkv_bias.clone();
    at::Tensor b_v = bias.narrow(0, (H + Hkv) * Dh, Hkv * Dh);
    const at::Tensor per_query_head = b_v.view({Hkv, 1, Dh}).expand({Hkv, H / Hkv, Dh}).reshape({H * Dh});
    const at::Tensor moved = at::matmul(b.o_weight, per_query_head);
    b.o_bias = b.o_bias.defined() ? b.o_bias + moved : moved;
    b_v.zero_();
    b.qkv_bias = bias;
  }
}

RunResult Llama::forward(const at::Tensor& token_ids, const RunRequest& request) const {
  HookPlan hooks(request, schema_);
  RunResult result;
  const int64_t past = hooks.past();
  check_ids(token_ids, past);  // before size(1): ids may not be 2-D
  const int64_t T = token_ids.size(1);
  if (hooks.complete()) return result;
  at::Tensor x = hooks.at(HookKind::Embed, -1, at::embedding(embed_, token_ids.to(options_.device, at::kLong)));
  const RopeTable rope = rope_table(config_.rope, T, x, past);
  const at::Tensor mask = causal_mask(T, 0, x, past);
  for (int layer = 0; layer < config_.n_layer && !hooks.complete(); ++layer) {
    const LlamaBlock& b = blocks_[layer];
    x = hooks.at(HookKind::ResidPre, layer, x);
    if (hooks.complete()) break;
    ++result.blocks_computed;
    const at::Tensor attn_in = apply_norm(x, b.ln1, HookKind::Ln1Normalized, HookKind::Ln1Out, layer, hooks);
    const at::Tensor attn_out = hooks.at(HookKind::AttnOut, layer, attention(attn_in, layer, rope, mask, hooks));
    x = hooks.at(HookKind::ResidMid, layer, x + attn_out);
    if (hooks.complete()) break;
    const at::Tensor mlp_in =
        apply_norm(hooks.at(HookKind::MlpIn, layer, x), b.ln2, HookKind::Ln2Normalized, HookKind::Ln2Out, layer, hooks);
    const at::Tensor mlp_out = hooks.at(HookKind::MlpOut, layer, mlp(mlp_in, layer, hooks));
    x = hooks.at(HookKind::ResidPost, layer, x + mlp_out);
  }
  finish_forward(x, ln_final_, unembed_, /*softcap=*/0, hooks, result);
  return result;
}

at::Tensor Llama::attention(const at::Tensor& x, int layer, const RopeTable& rope, const at::Tensor& mask,
                            HookPlan& hooks) const {
  const LlamaBlock& w = blocks_[layer];
  const int64_t B = x.size(0), T = x.size(1), H = config_.n_head, Hkv = config_.n_kv_head, Dh = config_.d_head;
  const at::Tensor qkv = dense(x, w.qkv_weight, w.qkv_bias);
  at::Tensor q = hooks.at(HookKind::Q, layer, qkv.narrow(-1, 0, H * Dh).view({B, T, H, Dh}));
  at::Tensor k = hooks.at(HookKind::K, layer, qkv.narrow(-1, H * Dh, Hkv * Dh).view({B, T, Hkv, Dh}));
  const at::Tensor v = hooks.at(HookKind::V, layer, qkv.narrow(-1, (H + Hkv) * Dh, Hkv * Dh).view({B, T, Hkv, Dh}));
  if (config_.qk_norm) {  // Qwen 3: per head, over head_dim, before RoPE
    q = apply_norm(q, w.q_norm);
    k = apply_norm(k, w.k_norm);
  }
  const AttentionSpec spec{1.0 / std::sqrt(static_cast<double>(Dh))};
  const at::Tensor z = attend(apply_rope(q, rope), apply_rope(k, rope), v, spec, mask, layer, hooks);
  return dense(z.reshape({B, T, H * Dh}), w.o_weight, w.o_bias);
}

at::Tensor Llama::mlp(const at::Tensor& x, int layer, HookPlan& hooks) const {
  const LlamaBlock& w = blocks_[layer];
  const at::Tensor gate_up = dense(x, w.gate_up_weight, w.gate_up_bias);
  const int64_t M = config_.d_mlp;
  const at::Tensor gate = hooks.at(HookKind::MlpPre, layer, gate_up.narrow(-1, 0, M));
  const at::Tensor up = hooks.at(HookKind::MlpPreLinear, layer, gate_up.narrow(-1, M, M));
  // act(gate) is a fresh tensor that no hook holds: multiply it in place (one
  // [tokens, d_mlp] pass and allocation fewer; its backward needs gate, not it).
  const at::Tensor post = hooks.at(HookKind::MlpPost, layer, activate(gate, config_.activation).mul_(up));
  return dense(post, w.down_weight, w.down_bias);
}

Family llama_family() {
  return family_of<Llama>(read_llama_config, llama_info,
                          +[](const ModelInfo& info, const LlamaConfig&) { return llama_hook_schema(info); });
}

}  // namespace saescope::model
