#include "core/model/gemma/gemma.h"

#include <ATen/ATen.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/model/checkpoint_reader.h"
#include "core/model/config_json.h"
#include "core/model/family.h"
#include "core/model/hook_plan.h"

namespace saescope::model {
namespace {

// An optional number where an explicit null means "off" (soft-capping).
double number_or_off(const ConfigJson& j, const char* key, double fallback) {
  if (!j.raw().contains(key)) return fallback;
  if (j.raw().at(key).is_null()) return 0;
  return j.positive_number(key, fallback);
}

// The text model's config: config.json itself, or its text_config (gemma3).
ConfigJson text_config(const ConfigJson& j) {
  if (j.optional_string("model_type", "") != "gemma3") return j;
  if (!j.has("text_config"))
    j.fail("a Gemma 3 multimodal config without text_config: no text model to load");
  return j.sub("text_config");
}

}  // namespace

GemmaConfig read_gemma_config(const ConfigJson& root) {
  const ConfigJson j = text_config(root);
  GemmaConfig c;
  c.model_type = root.optional_string("model_type", "gemma2");
  c.gemma3 = c.model_type != "gemma2";
  // Gemma 3's text_config often omits what Gemma3TextConfig defaults.
  const auto dim = [&](const char* key, int64_t gemma3_default) {
    return c.gemma3 && !j.has(key) ? gemma3_default : j.positive_int({key});
  };
  c.d_model = dim("hidden_size", 2304);
  c.n_layer = dim("num_hidden_layers", 26);
  c.n_head = dim("num_attention_heads", 8);
  c.n_kv_head = j.has("num_key_value_heads") ? j.positive_int({"num_key_value_heads"}) : (c.gemma3 ? 4 : c.n_head);
  c.d_head = j.has("head_dim") ? j.positive_int({"head_dim"}) : 256;
  c.d_mlp = dim("intermediate_size", 9216);
  c.vocab_size = dim("vocab_size", 262208);
  c.n_positions = dim("max_position_embeddings", 131072);
  if (c.n_head % c.n_kv_head != 0)
    j.fail("num_attention_heads " + std::to_string(c.n_head) + " is not a multiple of num_key_value_heads " +
           std::to_string(c.n_kv_head));
  c.rms_norm_eps = j.positive_number("rms_norm_eps", 1e-6);
  c.query_pre_attn_scalar = j.positive_number("query_pre_attn_scalar", 256);
  c.attn_softcap = number_or_off(j, "attn_logit_softcapping", c.gemma3 ? 0 : 50.0);
  c.final_softcap = number_or_off(j, "final_logit_softcapping", c.gemma3 ? 0 : 30.0);
  c.sliding_window = j.has("sliding_window") ? j.positive_int({"sliding_window"}) : 4096;
  if (j.has("layer_types")) {
    const nlohmann::json& types = j.raw().at("layer_types");
    if (!types.is_array() || static_cast<int64_t>(types.size()) != c.n_layer)
      j.fail("field '" + j.field("layer_types") + "' must list one type per layer (" + std::to_string(c.n_layer) + ")");
    for (const auto& t : types) {
      const std::string s = t.is_string() ? t.get<std::string>() : t.dump();
      if (s != "sliding_attention" && s != "full_attention")
        j.fail("layer_types holds '" + s + "' (sliding_attention or full_attention)");
      c.sliding.push_back(s == "sliding_attention");
    }
  } else {  // Gemma 2: layer 0 slides, then every other; Gemma 3: 5 sliding : 1 full
    const int64_t pattern = c.gemma3 ? j.optional_int("sliding_window_pattern", 6) : 2;
    if (pattern <= 0) j.fail("sliding_window_pattern must be positive");
    for (int64_t l = 0; l < c.n_layer; ++l) c.sliding.push_back((l + 1) % pattern != 0);
  }
  c.rope_global.rotary_dims = c.rope_local.rotary_dims = c.d_head;
  c.rope_global.theta = j.positive_number("rope_theta", c.gemma3 ? 1000000.0 : 10000.0);
  c.rope_local.theta = c.gemma3 ? j.positive_number("rope_local_base_freq", 10000.0) : c.rope_global.theta;
  if (c.gemma3) c.rope_global = read_rope_scaling(j, c.rope_global, /*allow_llama3=*/false);
  c.activation = parse_activation_name(
      j.optional_string("hidden_activation", j.optional_string("hidden_act", "gelu_pytorch_tanh")),
      j.path() + ": hidden_activation");
  if (j.optional_bool("attention_bias", false)) j.fail("attention_bias true is not supported for Gemma");
  c.bos_token_id = root.optional_int("bos_token_id", j.optional_int("bos_token_id", 2));
  c.eos_token_id = root.optional_int("eos_token_id", j.optional_int("eos_token_id", 1));
  return c;
}

ModelInfo gemma_info(const GemmaConfig& c) {
  ModelInfo m;
  m.family = "gemma";
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
  m.prepend_bos = c.bos_token_id >= 0;  // Gemma is trained with BOS first
  m.layer_norm = false;
  return m;
}

HookSchema gemma_hook_schema(const ModelInfo& info, bool gemma3) {
  using K = HookKind;
  HfModulePaths hf;
  // Multimodal Gemma 3 checkpoints name the text model language_model (newer
  // transformers: model.language_model).
  hf.layer_prefixes = {"model.layers", "layers", "model.language_model.layers", "language_model.model.layers"};
  hf.in_layer = {{"", K::ResidPost},
                 {"input", K::ResidPre},
                 {"input_layernorm", K::Ln1Out},
                 {"self_attn.input", K::Ln1Out},
                 {"self_attn.q_proj", K::Q},
                 {"self_attn.k_proj", K::K},
                 {"self_attn.v_proj", K::V},
                 {"self_attn.o_proj.input", K::Z},
                 {"self_attn.o_proj", K::AttnPreNorm},
                 {"self_attn", K::AttnPreNorm},
                 {"post_attention_layernorm", K::AttnOut},
                 {"pre_feedforward_layernorm", K::Ln2Out},
                 {"mlp.input", K::Ln2Out},
                 {"mlp.gate_proj", K::MlpPre},
                 {"mlp.up_proj", K::MlpPreLinear},
                 {"mlp.down_proj.input", K::MlpPost},
                 {"mlp.down_proj", K::MlpPreNorm},
                 {"mlp", K::MlpPreNorm},
                 {"post_feedforward_layernorm", K::MlpOut}};
  hf.outside = {{"model.norm", K::LnFinalOut}, {"norm", K::LnFinalOut}};
  if (gemma3)  // Gemma3TextScaledWordEmbedding: its output is already scaled
    hf.outside.insert(hf.outside.end(), {{"model.embed_tokens", K::Embed}, {"embed_tokens", K::Embed},
                                         {"model.language_model.embed_tokens", K::Embed},
                                         {"language_model.model.embed_tokens", K::Embed}});
  return HookSchema(info,
                    {K::Embed, K::ResidPre, K::Ln1Normalized, K::Ln1Out, K::Q, K::K, K::V, K::Pattern,
                     K::Z, K::AttnPreNorm, K::AttnOut, K::ResidMid, K::MlpIn, K::Ln2Normalized,
                     K::Ln2Out, K::MlpPre, K::MlpPreLinear, K::MlpPost, K::MlpPreNorm, K::MlpOut,
                     K::ResidPost, K::LnFinalNormalized, K::LnFinalOut, K::Logits},
                    std::move(hf));
}

Gemma::Gemma(const GemmaConfig& c, ModelInfo info, const std::string& checkpoint, const ModelOptions& options)
    : LanguageModel(info, gemma_hook_schema(info, c.gemma3), options), config_(c) {
  const int64_t d = c.d_model, Dh = c.d_head, H = c.n_head, Hkv = c.n_kv_head;
  const std::string context = "config.json: hidden_size " + std::to_string(d) + ", num_attention_heads " +
                              std::to_string(H) + ", num_key_value_heads " + std::to_string(Hkv) +
                              ", head_dim " + std::to_string(Dh) + ", intermediate_size " +
                              std::to_string(c.d_mlp) + ", vocab_size " + std::to_string(c.vocab_size);
  const CheckpointReader r(checkpoint, {"model.", "", "language_model.model.", "model.language_model."},
                           "embed_tokens.weight", context, options.device, options.dtype);
  // Gemma's RMSNorm multiplies by 1 + w, formed in float32 as HF does.
  const auto norm = [&](const std::string& name, int64_t n) {
    const at::Tensor w = r.get(name + ".weight", {n});
    return Norm{(w.to(at::kFloat) + 1.0).to(w.scalar_type()), {}, c.rms_norm_eps, false};
  };
  embed_ = r.get("embed_tokens.weight", {c.vocab_size, d});
  const double scale = std::sqrt(static_cast<double>(d));
  embed_scale_ = options.dtype == at::kBFloat16 ? static_cast<double>(static_cast<float>(c10::BFloat16(static_cast<float>(scale))))
                                                : static_cast<double>(static_cast<float>(scale));
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    GemmaBlock b;
    b.input_norm = norm(p + "input_layernorm", d);
    b.post_attn_norm = norm(p + "post_attention_layernorm", d);
    b.pre_ff_norm = norm(p + "pre_feedforward_layernorm", d);
    b.post_ff_norm = norm(p + "post_feedforward_layernorm", d);
    if (c.gemma3) {
      b.q_norm = norm(p + "self_attn.q_norm", Dh);
      b.k_norm = norm(p + "self_attn.k_norm", Dh);
    }
    b.qkv_weight = r.get_rows({{p + "self_attn.q_proj.weight", {H * Dh, d}},
                               {p + "self_attn.k_proj.weight", {Hkv * Dh, d}},
                               {p + "self_attn.v_proj.weight", {Hkv * Dh, d}}});
    b.o_weight = r.get(p + "self_attn.o_proj.weight", {d, H * Dh});
    b.gate_up_weight = r.get_rows({{p + "mlp.gate_proj.weight", {c.d_mlp, d}}, {p + "mlp.up_proj.weight", {c.d_mlp, d}}});
    b.down_weight = r.get(p + "mlp.down_proj.weight", {d, c.d_mlp});
    blocks_.push_back(std::move(b));
  }
  ln_final_ = norm("norm", d);
  if (options.center_writing_weights)
    throw InputError("center_writing_weights applies to LayerNorm models only; Gemma uses RMSNorm");
}

RunResult Gemma::forward(const at::Tensor& token_ids, const RunRequest& request) const {
  HookPlan hooks(request, schema_);
  RunResult result;
  const int64_t past = hooks.past();
  check_ids(token_ids, past);  // before size(1): ids may not be 2-D
  const int64_t T = token_ids.size(1);
  if (hooks.complete()) return result;
  at::Tensor x = hooks.at(HookKind::Embed, -1,
                          at::embedding(embed_, token_ids.to(options_.device, at::kLong)) * embed_scale_);
  const RopeTable rope_global = rope_table(config_.rope_global, T, x, past);
  const RopeTable rope_local = config_.gemma3 ? rope_table(config_.rope_local, T, x, past) : rope_global;
  const at::Tensor full_mask = causal_mask(T, 0, x, past);
  const at::Tensor sliding_mask = causal_mask(T, config_.sliding_window, x, past);
  for (int layer = 0; layer < config_.n_layer && !hooks.complete(); ++layer) {
    const GemmaBlock& b = blocks_[layer];
    const bool sliding = config_.sliding[static_cast<size_t>(layer)];
    x = hooks.at(HookKind::ResidPre, layer, x);
    if (hooks.complete()) break;
    ++result.blocks_computed;
    const at::Tensor attn_in = apply_norm(x, b.input_norm, HookKind::Ln1Normalized, HookKind::Ln1Out, layer, hooks);
    const at::Tensor raw = hooks.at(HookKind::AttnPreNorm, layer,
                                    attention(attn_in, layer, sliding ? rope_local : rope_global,
                                              sliding ? sliding_mask : full_mask, hooks));
    const at::Tensor attn_out = hooks.at(HookKind::AttnOut, layer, apply_norm(raw, b.post_attn_norm));
    x = hooks.at(HookKind::ResidMid, layer, x + attn_out);
    if (hooks.complete()) break;
    const at::Tensor mlp_in = apply_norm(hooks.at(HookKind::MlpIn, layer, x), b.pre_ff_norm,
                                         HookKind::Ln2Normalized, HookKind::Ln2Out, layer, hooks);
    const at::Tensor raw_mlp = hooks.at(HookKind::MlpPreNorm, layer, mlp(mlp_in, layer, hooks));
    const at::Tensor mlp_out = hooks.at(HookKind::MlpOut, layer, apply_norm(raw_mlp, b.post_ff_norm));
    x = hooks.at(HookKind::ResidPost, layer, x + mlp_out);
  }
  finish_forward(x, ln_final_, embed_, config_.final_softcap, hooks, result);  // tied
  return result;
}

at::Tensor Gemma::attention(const at::Tensor& x, int layer, const RopeTable& rope, const at::Tensor& mask,
                            HookPlan& hooks) const {
  const GemmaBlock& w = blocks_[layer];
  const int64_t B = x.size(0), T = x.size(1), H = config_.n_head, Hkv = config_.n_kv_head, Dh = config_.d_head;
  const at::Tensor qkv = dense(x, w.qkv_weight);
  at::Tensor q = hooks.at(HookKind::Q, layer, qkv.narrow(-1, 0, H * Dh).view({B, T, H, Dh}));
  at::Tensor k = hooks.at(HookKind::K, layer, qkv.narrow(-1, H * Dh, Hkv * Dh).view({B, T, Hkv, Dh}));
  const at::Tensor v = hooks.at(HookKind::V, layer, qkv.narrow(-1, (H + Hkv) * Dh, Hkv * Dh).view({B, T, Hkv, Dh}));
  if (config_.gemma3) {
    q = apply_norm(q, w.q_norm);
    k = apply_norm(k, w.k_norm);
  }
  // The sliding window is in `mask` (the caller's choice per layer).
  const AttentionSpec spec{1.0 / std::sqrt(config_.query_pre_attn_scalar), config_.attn_softcap};
  const at::Tensor z = attend(apply_rope(q, rope), apply_rope(k, rope), v, spec, mask, layer, hooks);
  return dense(z.reshape({B, T, H * Dh}), w.o_weight);
}

at::Tensor Gemma::mlp(const at::Tensor& x, int layer, HookPlan& hooks) const {
  const GemmaBlock& w = blocks_[layer];
  const at::Tensor gate_up = dense(x, w.gate_up_weight);
  const int64_t M = config_.d_mlp;
  const at::Tensor gate = hooks.at(HookKind::MlpPre, layer, gate_up.narrow(-1, 0, M));
  const at::Tensor up = hooks.at(HookKind::MlpPreLinear, layer, gate_up.narrow(-1, M, M));
  // act(gate) is a fresh tensor that no hook holds: multiply it in place (one
  // [tokens, d_mlp] pass and allocation fewer; its backward needs gate, not it).
  const at::Tensor post = hooks.at(HookKind::MlpPost, layer, activate(gate, config_.activation).mul_(up));
  return dense(post, w.down_weight);
}

Family gemma_family() {
  return family_of<Gemma>(read_gemma_config, gemma_info, +[](const ModelInfo& info, const GemmaConfig& c) {
    return gemma_hook_schema(info, c.gemma3);
  });
}

}  // namespace saescope::model
