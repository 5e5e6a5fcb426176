#include "core/model/gpt2/gpt2.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "core/common/error.h"
#include "core/model/checkpoint_reader.h"
#include "core/model/config_json.h"
#include "core/model/family.h"
#include "core/model/hook_plan.h"

namespace saescope::model {
namespace {

// Hugging Face's "Conv1D": y = x·W + b with W stored [in, out].
at::Tensor conv1d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  if (x.numel() == x.size(-1)) return dense(x, weight.t(), bias);  // one row: gemv (transformer_ops.h)
  std::vector<int64_t> out_shape = x.sizes().vec();
  out_shape.back() = weight.size(1);
  return at::addmm(bias, x.reshape({-1, weight.size(0)}), weight).view(out_shape);
}

Gpt2Weights converted(Gpt2Weights w, c10::Device device, at::ScalarType dtype) {
  const auto to = [&](at::Tensor& t) { t = t.to(device, dtype); };  // no-op when it matches
  const bool tied = w.unembed.is_same(w.token_embed);
  to(w.token_embed);
  to(w.pos_embed);
  for (Gpt2BlockWeights& b : w.blocks)
    for (at::Tensor* t : {&b.ln1_gain, &b.ln1_bias, &b.qkv_weight, &b.qkv_bias, &b.attn_out_weight,
                          &b.attn_out_bias, &b.ln2_gain, &b.ln2_bias, &b.mlp_in_weight,
                          &b.mlp_in_bias, &b.mlp_out_weight, &b.mlp_out_bias})
      to(*t);
  to(w.ln_final_gain);
  to(w.ln_final_bias);
  w.unembed = tied ? w.token_embed : w.unembed.to(device, dtype);
  return w;
}

}  // namespace

HookSchema gpt2_hook_schema(const ModelInfo& info) {
  using K = HookKind;
  HfModulePaths hf;
  hf.layer_prefixes = {"transformer.h", "h"};
  hf.in_layer = {{"", K::ResidPost},        {"input", K::ResidPre},         {"ln_1", K::Ln1Out},
                 {"attn.input", K::Ln1Out}, {"attn.c_proj.input", K::Z},    {"attn.c_proj", K::AttnOut},
                 {"attn", K::AttnOut},      {"ln_2", K::Ln2Out},            {"mlp.input", K::Ln2Out},
                 {"mlp.c_fc", K::MlpPre},   {"mlp.act", K::MlpPost},        {"mlp.c_proj.input", K::MlpPost},
                 {"mlp.c_proj", K::MlpOut}, {"mlp", K::MlpOut}};
  hf.outside = {{"transformer.wte", K::Embed}, {"wte", K::Embed},           {"transformer.wpe", K::PosEmbed},
                {"wpe", K::PosEmbed},          {"transformer.ln_f", K::LnFinalOut},
                {"ln_f", K::LnFinalOut},       {"lm_head", K::Logits}};
  return HookSchema(info,
                    {K::Embed, K::PosEmbed, K::ResidPre, K::Ln1Normalized, K::Ln1Out, K::Q, K::K, K::V,
                     K::Pattern, K::Z, K::AttnOut, K::ResidMid, K::MlpIn, K::Ln2Normalized, K::Ln2Out,
                     K::MlpPre, K::MlpPost, K::MlpOut, K::ResidPost, K::LnFinalNormalized,
                     K::LnFinalOut, K::Logits},
                    std::move(hf));
}

std::shared_ptr<const Gpt2> Gpt2::load(const std::string& dir, const ModelOptions& options) {
  namespace fs = std::filesystem;
  const fs::path folder(dir);
  if (!fs::is_directory(folder))
    throw InputError(dir + ": not a folder (a Hugging Face GPT-2 model is a folder holding "
                           "config.json and model.safetensors)");
  if (!fs::exists(folder / "config.json"))
    throw InputError(dir + ": config.json is missing (a Hugging Face GPT-2 folder holds "
                           "config.json and model.safetensors)");
  const Gpt2Config config = load_gpt2_config((folder / "config.json").string());
  const std::string weights = checkpoint_in(dir);
  return std::make_shared<const Gpt2>(
      config, load_gpt2_weights(weights, config, options.device, options.dtype), options,
      fs::path(dir).filename().string());
}

Gpt2::Gpt2(Gpt2Config config, Gpt2Weights weights, const ModelOptions& options, const std::string& name)
    : LanguageModel(gpt2_info(config, name), gpt2_hook_schema(gpt2_info(config, name)), options),
      config_(config), weights_(converted(std::move(weights), options.device, options.dtype)) {
  if (static_cast<int64_t>(weights_.blocks.size()) != config_.n_layer)
    throw InternalError("GPT-2 weights hold " + std::to_string(weights_.blocks.size()) +
                        " blocks, the config says " + std::to_string(config_.n_layer));
  if (options_.center_writing_weights) center_writing_weights(weights_);
  if (options_.fold_value_biases) fold_value_biases(weights_);  // after centring, as TransformerLens
  const int64_t P = config_.n_positions;
  causal_bias_ = at::full({P, P}, -std::numeric_limits<double>::infinity(),
                          at::TensorOptions().dtype(options_.dtype).device(options_.device))
                     .triu(1);
}

RunResult Gpt2::forward(const at::Tensor& token_ids, const RunRequest& request) const {
  HookPlan hooks(request, schema_);
  RunResult result;
  const int64_t past = hooks.past();
  check_ids(token_ids, past);  // before size(1): ids may not be 2-D
  const int64_t T = token_ids.size(1);
  const at::Tensor ids = token_ids.to(options_.device, at::kLong);
  const Gpt2Weights& w = weights_;

  if (!hooks.complete()) {
    const at::Tensor embed = hooks.at(HookKind::Embed, -1, at::embedding(w.token_embed, ids));
    const at::Tensor pos_embed =
        hooks.at(HookKind::PosEmbed, -1, w.pos_embed.slice(0, past, past + T).expand_as(embed));
    at::Tensor x = embed + pos_embed;  // the residual stream [batch, pos, d_model]

    for (int layer = 0; layer < config_.n_layer && !hooks.complete(); ++layer) {
      const Gpt2BlockWeights& b = w.blocks[layer];
      x = hooks.at(HookKind::ResidPre, layer, x);
      if (hooks.complete()) break;
      ++result.blocks_computed;
      const at::Tensor attn_in = apply_norm(x, {b.ln1_gain, b.ln1_bias, config_.layer_norm_eps},
                                            HookKind::Ln1Normalized, HookKind::Ln1Out, layer, hooks);
      const at::Tensor attn_out = hooks.at(HookKind::AttnOut, layer, attention(attn_in, layer, past, hooks));
      x = hooks.at(HookKind::ResidMid, layer, x + attn_out);
      if (hooks.complete()) break;
      const at::Tensor mlp_in = apply_norm(hooks.at(HookKind::MlpIn, layer, x),
                                           {b.ln2_gain, b.ln2_bias, config_.layer_norm_eps},
                                           HookKind::Ln2Normalized, HookKind::Ln2Out, layer, hooks);
      const at::Tensor mlp_out = hooks.at(HookKind::MlpOut, layer, mlp(mlp_in, layer, hooks));
      x = hooks.at(HookKind::ResidPost, layer, x + mlp_out);
    }

    if (!hooks.complete()) {
      result.ran_final_ln = true;
      const at::Tensor final_out =
          apply_norm(x, {w.ln_final_gain, w.ln_final_bias, config_.layer_norm_eps},
                     HookKind::LnFinalNormalized, HookKind::LnFinalOut, -1, hooks);
      if (!hooks.complete()) {
        result.ran_unembed = true;
        hooks.at(HookKind::Logits, -1, dense(final_out, w.unembed));  // tied: wteᵀ
      }
    }
  }
  result.hooks = hooks.take_values();
  return result;
}

// Causal multi-head self-attention, one fused Q|K|V matmul.
at::Tensor Gpt2::attention(const at::Tensor& x, int layer, int64_t past, HookPlan& hooks) const {
  const Gpt2BlockWeights& w = weights_.blocks[layer];
  const int64_t B = x.size(0), T = x.size(1), H = config_.n_head, Dh = config_.d_head;
  const at::Tensor qkv = conv1d(x, w.qkv_weight, w.qkv_bias).view({B, T, 3, H, Dh});
  const at::Tensor q = hooks.at(HookKind::Q, layer, qkv.select(2, 0));  // [B, T, H, Dh]
  const at::Tensor k = hooks.at(HookKind::K, layer, qkv.select(2, 1));
  const at::Tensor v = hooks.at(HookKind::V, layer, qkv.select(2, 2));
  AttentionSpec spec;
  spec.scale = config_.scale_attn_weights ? 1.0 / std::sqrt(static_cast<double>(Dh)) : 1.0;
  if (config_.scale_attn_by_inverse_layer_idx) spec.scale /= static_cast<double>(layer + 1);
  // -inf on keys after the query; queries at past..past+T-1 over keys 0..past+T-1.
  const at::Tensor causal = causal_bias_.slice(0, past, past + T).slice(1, 0, past + T);
  const at::Tensor z = attend(q, k, v, spec, causal, layer, hooks);      // [B, T, H, Dh]
  return conv1d(z.reshape({B, T, H * Dh}), w.attn_out_weight, w.attn_out_bias);
}

at::Tensor Gpt2::mlp(const at::Tensor& x, int layer, HookPlan& hooks) const {
  const Gpt2BlockWeights& w = weights_.blocks[layer];
  const at::Tensor pre = hooks.at(HookKind::MlpPre, layer, conv1d(x, w.mlp_in_weight, w.mlp_in_bias));
  const at::Tensor post = hooks.at(HookKind::MlpPost, layer, activate(pre, config_.activation));
  return conv1d(post, w.mlp_out_weight, w.mlp_out_bias);
}

Family gpt2_family() {
  Family f;
  f.read_info = [](const ConfigJson& config) { return gpt2_info(load_gpt2_config(config.path())); };
  f.hook_schema = [](const ModelInfo& info, const ConfigJson&) { return gpt2_hook_schema(info); };
  f.load = [](const std::string& dir, const ConfigJson& config, const ModelInfo& info,
              const ModelOptions& options) -> std::shared_ptr<const LanguageModel> {
    const Gpt2Config c = load_gpt2_config(config.path());
    return std::make_shared<const Gpt2>(
        c, load_gpt2_weights(checkpoint_in(dir), c, options.device, options.dtype), options, info.name);
  };
  return f;
}

}  // namespace saescope::model
