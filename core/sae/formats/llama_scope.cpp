// Llama Scope (OpenMOSS, Llama-3.1-8B): a folder `Llama3_1-8B-Base-L15R-8x`
// with hyperparams.json and checkpoints/final.safetensors (encoder.weight
// [d_sae, d], encoder.bias, decoder.weight [d_out, d_sae], decoder.bias;
// bfloat16). Read as the authors' loader of the release (Language-Model-SAEs
// at 4ec6f0aa, SparseAutoEncoder.from_config) computes, with
// s_in = √d / norm_in and s_out = √d / norm_out (dataset_average_activation_norm):
//   pre_i  = (x·s_in)·W_E[i] + b_E[i]
//   n_i    = ‖W_D[:, i]‖ · s_in / s_out      (sparsity_include_decoder_norm)
//   f_i    = g_i·[g_i > τ],  g_i = n_i · pre_i / s_in
//   x̂     = (Σ_i pre_i·[g_i > τ]·W_D[:, i] + b_D) / s_out
// τ (jump_relu_threshold) is in raw units with the decoder norm folded in:
// the release calibrated it with that same loader (post_processing.py). So it
// is folded here into a plain JumpReLU on the raw input:
//   W_enc = W_Eᵀ·diag(n), b_enc = b_E·n / s_in, threshold = τ,
//   W_dec = diag(s_in / (s_out·n))·W_Dᵀ, b_dec = b_D / s_out.
// SAELens gates on pre > τ·s_in instead, which is the same only when every n_i
// is 1, and reports features s_in times larger (tests/fixtures/sae_formats/README.md).
#include <ATen/ATen.h>

#include <cmath>
#include <filesystem>

#include "core/common/error.h"
#include "core/common/json_file.h"
#include "core/sae/formats/readers.h"
#include "core/sae/formats/release_reader.h"
#include "core/sae/formats/tensor_set.h"

namespace saescope::sae {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
constexpr const char* kTitle = "Llama Scope";

std::string weights_of(const fs::path& dir) { return (dir / "checkpoints" / "final.safetensors").string(); }

bool claims_llama_scope(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && fs::is_regular_file(fs::path(path) / "hyperparams.json", ec);
}

double positive(const json& j, const char* key, const std::string& file) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number() || !(it->get<double>() > 0) || !std::isfinite(it->get<double>()))
    throw InputError(file + ": field " + std::string(key) + " is missing or not a positive number");
  return it->get<double>();
}

std::string text(const json& j, const char* key, const std::string& file) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) throw InputError(file + ": field " + std::string(key) + " is missing or not a string");
  return it->get<std::string>();
}

Sae read_llama_scope(const std::string& path, const LoadOptions& options) {
  const fs::path dir(path);
  const std::string hp_file = (dir / "hyperparams.json").string();
  const json hp = read_json_file(hp_file);
  if (!hp.is_object()) throw InputError(hp_file + ": not a JSON object");
  const std::string act = text(hp, "act_fn", hp_file);
  if (act != "jumprelu") throw InputError(hp_file + ": act_fn \"" + act + "\" is not read (Llama Scope's releases are jumprelu)");
  if (hp.value("apply_decoder_bias_to_pre_encoder", false))
    throw InputError(hp_file + ": apply_decoder_bias_to_pre_encoder is true, which Llama Scope's releases never are");
  if (hp.value("use_glu_encoder", false)) throw InputError(hp_file + ": GLU encoders are not read");
  const std::string norm = hp.value("norm_activation", std::string("dataset-wise"));
  if (norm != "dataset-wise") throw InputError(hp_file + ": norm_activation \"" + norm + "\" is not read (dataset-wise)");
  auto avg = hp.find("dataset_average_activation_norm");
  if (avg == hp.end() || !avg->is_object()) throw InputError(hp_file + ": no dataset_average_activation_norm {in, out}");
  const double threshold = [&] {
    auto it = hp.find("jump_relu_threshold");
    if (it == hp.end() || !it->is_number() || it->get<double>() < 0)
      throw InputError(hp_file + ": jump_relu_threshold is missing or negative");
    return it->get<double>();
  }();
  const bool decoder_norm_in_sparsity = hp.value("sparsity_include_decoder_norm", true);

  const std::string weights = weights_of(dir);
  if (!fs::exists(weights)) throw InputError(weights + ": missing (Llama Scope keeps its weights in checkpoints/final.safetensors)");
  TensorSet ts = TensorSet::from_safetensors(weights);
  const at::Tensor W_E = ts.take("encoder.weight").to(at::kDouble), b_E = ts.take("encoder.bias").to(at::kDouble);
  const at::Tensor W_D = ts.take("decoder.weight").to(at::kDouble), b_D = ts.take("decoder.bias").to(at::kDouble);
  ts.expect_all_taken("a Llama Scope SAE (encoder.weight, encoder.bias, decoder.weight, decoder.bias)");
  if (W_E.dim() != 2 || W_D.dim() != 2)
    throw InputError(weights + ": encoder.weight and decoder.weight must be 2-D");
  SaeConfig c = release_config(Architecture::JumpReLU, kTitle);
  c.d_sae = W_E.size(0);
  c.d_in = W_E.size(1);
  c.d_out = W_D.size(0);
  // The folded weights are no longer the stored values: they are kept (and
  // saved) as float32, whatever the file held.
  if (ts.stored_dtype("encoder.weight") != "float32")
    c.assumptions.push_back("stored as " + ts.stored_dtype("encoder.weight") + "; folded and held as float32");
  const int64_t d_model = static_cast<int64_t>(positive(hp, "d_model", hp_file));
  if (d_model != c.d_in)
    throw InputError(weights + ": encoder.weight reads " + std::to_string(c.d_in) + " dimensions, but " + hp_file +
                     " says d_model " + std::to_string(d_model));
  ts.expect_shape(W_D, "decoder.weight", {c.d_out, c.d_sae});
  ts.expect_shape(b_E, "encoder.bias", {c.d_sae});
  ts.expect_shape(b_D, "decoder.bias", {c.d_out});

  const double s_in = std::sqrt(static_cast<double>(c.d_in)) / positive(*avg, "in", hp_file);
  const double s_out = std::sqrt(static_cast<double>(c.d_out)) / positive(*avg, "out", hp_file);
  const at::Tensor n = decoder_norm_in_sparsity ? W_D.norm(2, {0}) * (s_in / s_out) : at::ones({c.d_sae}, W_D.options());
  if (!(n.min().item<double>() > 0)) throw InputError(weights + ": a decoder column of norm 0");
  SaeWeights w;
  w.W_enc = (W_E.t() * n).to(at::kFloat).contiguous();
  w.b_enc = (b_E * n / s_in).to(at::kFloat);
  w.threshold = at::full({c.d_sae}, threshold, at::kFloat);
  w.W_dec = (W_D.t() * (s_in / s_out / n).unsqueeze(1)).to(at::kFloat).contiguous();
  w.b_dec = (b_D / s_out).to(at::kFloat);

  c.meta.hook_name = text(hp, "hook_point_in", hp_file);
  const std::string out = hp.value("hook_point_out", c.meta.hook_name);
  c.meta.hook_layer = layer_of_hook(c.meta.hook_name);
  if (out != c.meta.hook_name) {
    c.transcoder = true;
    c.meta.hook_name_out = out;
    c.meta.hook_layer_out = layer_of_hook(out);
  }
  c.meta.model_name = "meta-llama/Llama-3.1-8B";
  c.assumptions.push_back("the input scale √d/norm_in and the decoder norms folded into the weights as the "
                          "authors' loader does; features in its units (raw, decoder norm included)");
  apply_hook_override(c, options);
  return Sae(std::move(c), std::move(w), weights);
}

}  // namespace

SaeFormat llama_scope_format() {
  return {"llama_scope", kTitle,
          "a folder with hyperparams.json and checkpoints/final.safetensors (encoder.weight, encoder.bias, "
          "decoder.weight, decoder.bias)",
          claims_llama_scope, read_llama_scope};
}

}  // namespace saescope::sae
