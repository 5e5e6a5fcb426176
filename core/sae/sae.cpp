#include "core/sae/sae.h"

#include <ATen/ATen.h>

#include <cmath>
#include <utility>
#include <vector>

#include "core/common/error.h"
#include "core/sae/arch/architecture.h"

namespace saescope::sae {
namespace {

std::string shape_str(const at::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

// The float32 copy of a stored tensor after checking its shape and values.
at::Tensor checked(const at::Tensor& t, const char* name, std::vector<int64_t> shape,
                   const std::string& source, bool allow_neg_inf = false) {
  std::string want = "[";
  for (size_t i = 0; i < shape.size(); ++i) want += (i ? ", " : "") + std::to_string(shape[i]);
  want += "]";
  if (t.sizes() != at::IntArrayRef(shape))
    throw InputError(source + ": tensor `" + name + "` has shape " + shape_str(t) + ", expected " +
                     want);
  if (!t.is_floating_point())
    throw InputError(source + ": tensor `" + name + "` is not a floating-point tensor");
  at::Tensor f = t.to(at::kFloat).contiguous();
  const bool ok = allow_neg_inf
                      ? !(at::isnan(f).any().item<bool>() || (f == INFINITY).any().item<bool>())
                      : at::isfinite(f).all().item<bool>();
  if (!ok) throw InputError(source + ": tensor `" + name + "` holds NaN or infinite values");
  return f;
}

at::Tensor required(const at::Tensor& t, const char* name, std::vector<int64_t> shape,
                    const SaeConfig& cfg, const std::string& source) {
  if (!t.defined())
    throw InputError(source + ": " + to_string(cfg.architecture) + " SAE without tensor `" + name +
                     "`");
  return checked(t, name, std::move(shape), source);
}

}  // namespace

Sae::Sae(SaeConfig cfg, SaeWeights w, std::string source)
    : cfg_(std::move(cfg)), source_(std::move(source)) {
  if (cfg_.d_out <= 0) cfg_.d_out = cfg_.d_in;
  const int64_t d = cfg_.d_in, s = cfg_.d_sae, o = cfg_.d_out;
  if (!cfg_.transcoder && o != d)
    throw InputError(source_ + ": an SAE reconstructs its input, but d_out " + std::to_string(o) +
                     " ≠ d_in " + std::to_string(d) + " (a transcoder names hook_name_out)");
  if (cfg_.apply_b_dec_to_input && o != d)
    throw InputError(source_ + ": b_dec is subtracted from the input, but d_out " + std::to_string(o) +
                     " ≠ d_in " + std::to_string(d));
  w_.W_enc = required(w.W_enc, "W_enc", {d, s}, cfg_, source_);
  w_.W_dec = required(w.W_dec, "W_dec", {s, o}, cfg_, source_);
  w_.b_dec = required(w.b_dec, "b_dec", {o}, cfg_, source_);
  if (cfg_.skip_connection) w_.W_skip = required(w.W_skip, "W_skip", {o, d}, cfg_, source_);
  const ArchitectureSpec& arch = architecture_spec(cfg_.architecture);
  if (arch.runs_as != arch.id)
    throw InternalError(source_ + ": a " + arch.name + " SAE runs as " + to_string(arch.runs_as) +
                        "; convert it before building one");
  for (const auto& [name, slot] : arch.tensors) w_.*slot = required(w.*slot, name.c_str(), {s}, cfg_, source_);
  if (cfg_.architecture == Architecture::TopK && (cfg_.k <= 0 || cfg_.k > s))
    throw InputError(source_ + ": topk SAE with k = " + std::to_string(cfg_.k) + " outside 1.." +
                     std::to_string(s));
  if (cfg_.normalize_activations == Normalization::ExpectedAverageOnlyIn) {
    if (!cfg_.scaling_factor)
      throw InputError(source_ +
                       ": normalize_activations is expected_average_only_in but the scaling "
                       "factor is unknown (no activation_scaler.json, no norm_scaling_factor "
                       "in cfg.json); it is not part of the weights");
    for (const auto& f : {cfg_.scaling_factor, cfg_.output_scaling_factor})
      if (f && (!std::isfinite(*f) || *f <= 0))
        throw InputError(source_ + ": the activation scaling factor must be finite and positive");
  }
  prepare();
}

void Sae::prepare() {
  dec_norm_ = cfg_.rescale_acts_by_decoder_norm ? w_.W_dec.norm(2, {1}) : at::Tensor();
  const ArchitectureSpec& arch = architecture_spec(cfg_.architecture);
  derived_ = arch.derive ? arch.derive(w_) : at::Tensor();
}

void Sae::set_log_sparsity(at::Tensor t, const std::string& file) {
  if (!t.defined()) {
    log_sparsity_ = at::Tensor();
    return;
  }
  // log10 of a zero density is −inf: allowed; NaN is not.
  log_sparsity_ =
      checked(t, "sparsity", {cfg_.d_sae}, file.empty() ? source_ : file, /*allow_neg_inf=*/true);
}

void Sae::expect_d_in(int64_t n, const std::string& hook) const {
  if (n == cfg_.d_in) return;
  throw InputError(
      source_ + ": this SAE reads " + std::to_string(cfg_.d_in) + "-dimensional activations" +
      (cfg_.meta.hook_name.empty() ? std::string() : " at " + cfg_.meta.hook_name) + ", but " +
      (hook.empty() ? std::string("the input") : hook) + " has " + std::to_string(n));
}

at::Tensor Sae::normalize_in(const at::Tensor& x, InputNormState* state) const {
  switch (cfg_.normalize_activations) {
    case Normalization::None:
      return x;
    case Normalization::ExpectedAverageOnlyIn:
      return x * *cfg_.scaling_factor;
    case Normalization::ConstantNormRescale: {
      at::Tensor coeff = std::sqrt(static_cast<double>(cfg_.d_in)) / x.norm(2, {-1}, true);
      if (state) state->coeff = coeff;
      return x * coeff;
    }
    case Normalization::LayerNorm: {
      at::Tensor mu = x.mean({-1}, true);
      at::Tensor centred = x - mu;
      // Unbiased (n − 1), as torch.Tensor.std by default.
      at::Tensor std = (centred * centred).sum({-1}, true).div_(cfg_.d_in - 1).sqrt_();
      if (state) {
        state->mu = mu;
        state->std = std;
      }
      return centred / (std + 1e-5);
    }
  }
  throw InternalError("unknown normalisation");
}

at::Tensor Sae::normalize_out(const at::Tensor& y, const InputNormState* state) const {
  switch (cfg_.normalize_activations) {
    case Normalization::None:
      return y;
    case Normalization::ExpectedAverageOnlyIn:
      return y / cfg_.output_scaling_factor.value_or(*cfg_.scaling_factor);
    case Normalization::ConstantNormRescale:
      if (!state || !state->coeff.defined())
        throw InternalError("decode of a constant_norm_rescale SAE needs the encode state");
      return y / state->coeff;
    case Normalization::LayerNorm:
      if (!state || !state->std.defined())
        throw InternalError("decode of a layer_norm SAE needs the encode state");
      return y * state->std + state->mu;  // SAELens undoes it without the eps
  }
  throw InternalError("unknown normalisation");
}

at::Tensor Sae::encode(const at::Tensor& x_in, InputNormState* state) const {
  if (x_in.dim() != 2 || x_in.size(1) != cfg_.d_in)
    throw InputError(source_ + ": activations of shape " + shape_str(x_in) +
                     " given to an SAE that reads [n, " + std::to_string(cfg_.d_in) + "]");
  at::Tensor x = x_in.to(w_.W_enc.device(), at::kFloat);
  if (state && w_.W_skip.defined()) state->skip = at::matmul(x, w_.W_skip.t());
  at::Tensor xc = normalize_in(x, state);
  if (cfg_.apply_b_dec_to_input) xc = xc - w_.b_dec;
  return architecture_spec(cfg_.architecture).encode(xc, w_, cfg_, derived_, dec_norm_);
}

at::Tensor Sae::decode(const at::Tensor& features, const InputNormState* state) const {
  if (features.dim() != 2 || features.size(1) != cfg_.d_sae)
    throw InputError(source_ + ": features of shape " + shape_str(features) +
                     " given to an SAE with " + std::to_string(cfg_.d_sae) + " features");
  if (state && state->skip.defined() && state->skip.size(0) != features.size(0))
    throw InternalError("decode: the encode state is of another batch");
  at::Tensor f = features.to(w_.W_dec.device(), at::kFloat);
  if (cfg_.rescale_acts_by_decoder_norm) f = f / dec_norm_;
  at::Tensor y = normalize_out(at::addmm(w_.b_dec, f, w_.W_dec), state);
  if (!w_.W_skip.defined()) return y;
  if (!state || !state->skip.defined())
    throw InternalError("decode of a skip transcoder needs the encode state (its skip term)");
  return y + state->skip;
}

SaeOutput Sae::forward(const at::Tensor& x) const {
  InputNormState state;
  SaeOutput out;
  out.features = encode(x, &state);
  out.reconstruction = decode(out.features, &state);
  return out;
}

void Sae::to_device(const at::Device& device) {
  for (at::Tensor* t : {&w_.W_enc, &w_.W_dec, &w_.b_enc, &w_.b_dec, &w_.threshold, &w_.b_gate,
                        &w_.b_mag, &w_.r_mag, &w_.W_skip})
    if (t->defined()) *t = t->to(device);
  prepare();
}

at::Device Sae::device() const {
  return w_.W_enc.defined() ? w_.W_enc.device() : at::Device(at::kCPU);
}

}  // namespace saescope::sae
