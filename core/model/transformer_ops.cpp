#include "core/model/transformer_ops.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "core/common/error.h"
#include "core/model/hook_plan.h"
#include "core/model/kv_cache.h"

namespace saescope::model {

Activation parse_activation_name(const std::string& name, const std::string& where) {
  // gelu_new, gelu_pytorch_tanh and gelu_fast are the same tanh approximation.
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast") return Activation::GeluTanh;
  if (name == "gelu") return Activation::GeluErf;
  if (name == "relu") return Activation::Relu;
  if (name == "silu" || name == "swish") return Activation::Silu;
  throw InputError(where + " '" + name +
                   "' is not supported (gelu_new, gelu_pytorch_tanh, gelu_fast, gelu, relu, silu)");
}

at::Tensor activate(const at::Tensor& x, Activation kind) {
  switch (kind) {
    case Activation::GeluTanh: return at::gelu(x, "tanh");
    // Spelled out: LibTorch 1.13's at::gelu(x) takes a oneDNN path that
    // asserts outside InferenceMode, i.e. when training.
    case Activation::GeluErf: return x * 0.5 * (1.0 + at::erf(x * M_SQRT1_2));
    case Activation::Relu: return at::relu(x);
    case Activation::Silu: return at::silu(x);
  }
  throw InternalError("unknown activation");
}

namespace {

at::Tensor normalized(const at::Tensor& x, const Norm& n) {
  if (n.subtract_mean) return at::layer_norm(x, {x.size(-1)}, {}, {}, n.eps);
  // RMSNorm in float32 whatever the compute dtype, as Hugging Face does.
  const at::Tensor xf = x.to(at::kFloat);
  // mean(x²) from the 2-norm: no [.., d] temporary of squares.
  const at::Tensor mean_square =
      at::norm(xf, 2, {-1}, /*keepdim=*/true).square_().div_(static_cast<double>(x.size(-1)));
  return (xf * at::rsqrt(mean_square.add_(n.eps))).to(x.scalar_type());
}

at::Tensor with_gain(const at::Tensor& normed, const Norm& n) {
  return n.bias.defined() ? at::addcmul(n.bias, normed, n.gain) : normed * n.gain;
}

}  // namespace

at::Tensor apply_norm(const at::Tensor& x, const Norm& n, HookKind normalized_kind, HookKind out_kind,
                      int layer, HookPlan& hooks) {
  const at::Tensor normed = hooks.at(normalized_kind, layer, normalized(x, n));
  return hooks.at(out_kind, layer, with_gain(normed, n));
}

at::Tensor apply_norm(const at::Tensor& x, const Norm& n) { return with_gain(normalized(x, n), n); }

at::Tensor dense(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  if (x.numel() != x.size(-1)) return at::linear(x, weight, bias);
  std::vector<int64_t> shape = x.sizes().vec();
  shape.back() = weight.size(0);
  at::Tensor y = at::mv(weight, x.reshape({-1}));
  return (bias.defined() ? y + bias : y).view(shape);
}

RopeTable rope_table(const RopeSpec& s, int64_t T, const at::Tensor& like, int64_t first) {
  const int64_t half = s.rotary_dims / 2;
  const auto f64 = at::TensorOptions().dtype(at::kDouble);
  at::Tensor inv_freq = 1.0 / at::pow(s.theta, at::arange(0, half, f64) * 2.0 / static_cast<double>(s.rotary_dims));
  if (s.scaling == "linear") {
    inv_freq = inv_freq / s.factor;
  } else if (s.scaling == "llama3") {
    // Llama 3.1: long wavelengths slowed by `factor`, short ones kept, a
    // smooth blend between (transformers' _compute_llama3_parameters).
    const double old_len = static_cast<double>(s.original_max_positions);
    const double low_wavelen = old_len / s.low_freq_factor, high_wavelen = old_len / s.high_freq_factor;
    const at::Tensor wavelen = 2.0 * M_PI / inv_freq;
    at::Tensor scaled = at::where(wavelen > low_wavelen, inv_freq / s.factor, inv_freq);
    const at::Tensor smooth = (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    const at::Tensor blended = (1.0 - smooth) * scaled / s.factor + smooth * scaled;
    const at::Tensor medium = (wavelen >= high_wavelen).logical_and(wavelen <= low_wavelen);
    inv_freq = at::where(medium, blended, scaled);
  }
  const at::Tensor freqs = at::outer(at::arange(first, first + T, f64), inv_freq);  // [T, half]
  const at::Tensor angles = at::cat({freqs, freqs}, -1);
  const auto to = at::TensorOptions().dtype(like.scalar_type()).device(like.device());
  return {angles.cos().to(to), angles.sin().to(to)};
}

at::Tensor apply_rope(const at::Tensor& x, const RopeTable& table) {
  const int64_t R = table.cos.size(-1), Dh = x.size(-1), half = R / 2;
  // rotate_half(x) = [-x2, x1], and cos / sin repeat over the halves, so
  // x·cos + rotate_half(x)·sin is [x1·c - x2·s, x2·c + x1·s]: no rotated copy.
  // [T, R/2] -> [1, T, 1, R/2] against x's halves [B, T, H, R/2].
  const at::Tensor c = table.cos.narrow(-1, 0, half).unsqueeze(1), s = table.sin.narrow(-1, 0, half).unsqueeze(1);
  const at::Tensor x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
  const at::Tensor out1 = at::addcmul(x1 * c, x2, s, /*value=*/-1.0);
  const at::Tensor out2 = at::addcmul(x2 * c, x1, s);
  return R == Dh ? at::cat({out1, out2}, -1) : at::cat({out1, out2, x.narrow(-1, R, Dh - R)}, -1);
}

at::Tensor causal_mask(int64_t T, int64_t window, const at::Tensor& like, int64_t past) {
  const auto opts = at::TensorOptions().dtype(like.scalar_type()).device(like.device());
  const int64_t S = past + T;  // query i (row) is at position past + i
  const double inf = std::numeric_limits<double>::infinity();
  at::Tensor m = at::full({T, S}, -inf, opts).triu(past + 1);
  if (window > 0 && window < S)  // keys more than window - 1 before the query: masked
    m = m + at::full({T, S}, -inf, opts).tril(past - window);
  return m;
}

at::Tensor attend(const at::Tensor& q, const at::Tensor& k_in, const at::Tensor& v_in,
                  const AttentionSpec& spec, const at::Tensor& mask, int layer, HookPlan& hooks) {
  const int64_t B = q.size(0), T = q.size(1), H = q.size(2), Dh = q.size(3), Hkv = k_in.size(2);
  const auto [k_all, v_all] = hooks.cache() ? hooks.cache()->append(layer, k_in, v_in) : std::make_pair(k_in, v_in);
  const int64_t S = k_all.size(1);
  const auto per_head = [&](const at::Tensor& t) {  // [B, T, H, Dh] -> [B·H, T, Dh], one copy
    return t.transpose(1, 2).reshape({B * H, t.size(1), Dh});
  };
  // [B, S, Hkv, Dh] -> [B·H, S, Dh], each kv head repeated for its H / Hkv
  // query heads, in the same one copy.
  const auto per_query_head = [&](const at::Tensor& t) {
    if (Hkv == H) return per_head(t);
    return t.transpose(1, 2).unsqueeze(2).expand({B, Hkv, H / Hkv, S, Dh}).reshape({B * H, S, Dh});
  };
  const at::Tensor k = per_query_head(k_all), v = per_query_head(v_all);
  at::Tensor scores;
  if (spec.softcap > 0) {
    scores = at::bmm(per_head(q), k.transpose(1, 2)) * spec.scale;
    scores = at::tanh(scores / spec.softcap) * spec.softcap + mask;
  } else {  // scale·q·kᵀ + mask in one call
    scores = at::baddbmm(mask, per_head(q), k.transpose(1, 2), /*beta=*/1.0, /*alpha=*/spec.scale);
  }
  const at::Tensor pattern = hooks.at(HookKind::Pattern, layer, at::softmax(scores, -1).view({B, H, T, S}));
  return hooks.at(HookKind::Z, layer,
                  at::bmm(pattern.reshape({B * H, T, S}), v).view({B, H, T, Dh}).transpose(1, 2));
}

void finish_forward(const at::Tensor& x, const Norm& final_norm, const at::Tensor& unembed, double softcap,
                    HookPlan& hooks, RunResult& result) {
  if (!hooks.complete()) {
    result.ran_final_ln = true;
    const at::Tensor out = apply_norm(x, final_norm, HookKind::LnFinalNormalized, HookKind::LnFinalOut, -1, hooks);
    if (!hooks.complete()) {
      result.ran_unembed = true;
      at::Tensor logits = dense(out, unembed);
      if (softcap > 0) logits = at::tanh(logits / softcap) * softcap;
      hooks.at(HookKind::Logits, -1, logits);
    }
  }
  result.hooks = hooks.take_values();
}

}  // namespace saescope::model
