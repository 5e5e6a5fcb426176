// EleutherAI sparsify: a folder per hookpoint (`layers.6`, `layers.4.mlp`)
// holding cfg.json and sae.safetensors — encoder.weight [N, d_in],
// encoder.bias [N], W_dec [N, d_out], b_dec [d_out], and W_skip [d_out, d_in]
// when skip_connection. Its math (sparsify's SparseCoder):
//   pre = ReLU(encoder(x − b_dec))        (x itself for a transcoder)
//   f   = the k largest of pre, the rest 0  (activation "topk")
//   x̂  = f·W_dec + b_dec (+ x·W_skipᵀ)
// The hookpoint is a Hugging Face module path: an SAE reads and writes the
// module's output; a transcoder reads the module's input and writes its output.
#include <ATen/ATen.h>

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
constexpr const char* kTitle = "EleutherAI sparsify";

bool claims_sparsify(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && fs::is_regular_file(fs::path(path) / "cfg.json", ec) &&
         fs::is_regular_file(fs::path(path) / "sae.safetensors", ec);
}

template <typename T>
T field(const json& cfg, const char* key, T fallback, const std::string& file) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    throw InputError(file + ": field " + key + " has the wrong type (" + it->dump() + ")");
  }
}

Sae read_sparsify(const std::string& path, const LoadOptions& options) {
  const std::string cfg_file = (fs::path(path) / "cfg.json").string();
  const std::string weights = (fs::path(path) / "sae.safetensors").string();
  const json cfg = read_json_file(cfg_file);
  if (!cfg.is_object()) throw InputError(cfg_file + ": not a JSON object");
  const std::string activation = field<std::string>(cfg, "activation", "topk", cfg_file);
  if (activation != "topk")
    throw InputError(cfg_file + ": activation \"" + activation + "\" is not read (SAEScope reads sparsify's topk SAEs)");
  if (field<bool>(cfg, "multi_topk", false, cfg_file))
    throw InputError(cfg_file + ": multi_topk SAEs are not read");
  const bool transcode = field<bool>(cfg, "transcode", false, cfg_file);
  const bool skip = field<bool>(cfg, "skip_connection", false, cfg_file);

  TensorSet ts = TensorSet::from_safetensors(weights);
  SaeWeights w;
  const at::Tensor enc = ts.take("encoder.weight");
  if (enc.dim() != 2) throw InputError(weights + ": tensor `encoder.weight` must be 2-D [num_latents, d_in]");
  SaeConfig c = release_config(Architecture::TopK, kTitle);
  c.d_sae = enc.size(0);
  c.d_in = enc.size(1);
  w.W_enc = enc.t().contiguous();
  w.b_enc = ts.take("encoder.bias");
  w.W_dec = ts.take("W_dec");
  w.b_dec = ts.take("b_dec");
  if (w.W_dec.dim() == 2) c.d_out = w.W_dec.size(1);
  if (skip) w.W_skip = ts.take("W_skip");
  ts.expect_all_taken(std::string("a sparsify ") + (transcode ? "transcoder" : "SAE") +
                      (skip ? " with a skip connection" : "") + " (as cfg.json says)");

  const int64_t d_in = field<int64_t>(cfg, "d_in", c.d_in, cfg_file);
  if (d_in != c.d_in)
    throw InputError(weights + ": encoder.weight reads " + std::to_string(c.d_in) + " dimensions, but " + cfg_file +
                     " says d_in " + std::to_string(d_in));
  // Older files give only expansion_factor (num_latents 0 or absent).
  int64_t latents = field<int64_t>(cfg, "num_latents", 0, cfg_file);
  if (latents <= 0) latents = d_in * field<int64_t>(cfg, "expansion_factor", 0, cfg_file);
  if (latents > 0 && latents != c.d_sae)
    throw InputError(weights + ": encoder.weight has " + std::to_string(c.d_sae) + " latents, but " + cfg_file +
                     " implies " + std::to_string(latents) + " (num_latents, or d_in × expansion_factor)");
  if (field<bool>(cfg, "signed", false, cfg_file))
    throw InputError(cfg_file + ": signed SAEs (activations of either sign) are not read");
  c.k = field<int64_t>(cfg, "k", 0, cfg_file);
  if (c.k <= 0 || c.k > c.d_sae)
    throw InputError(cfg_file + ": k " + std::to_string(c.k) + " is outside 1.." + std::to_string(c.d_sae));
  c.dtype = ts.stored_dtype("encoder.weight");
  c.transcoder = transcode;
  c.skip_connection = skip;
  c.apply_b_dec_to_input = !transcode;

  const std::string hookpoint = fs::path(path).lexically_normal().filename().empty()
                                    ? fs::path(path).lexically_normal().parent_path().filename().string()
                                    : fs::path(path).lexically_normal().filename().string();
  if (transcode) {
    c.meta.hook_name = hookpoint + ".input";
    c.meta.hook_name_out = hookpoint;
    c.meta.hook_layer_out = layer_of_hook(hookpoint);
    c.assumptions.push_back("a transcoder reading " + hookpoint + "'s input and writing its output (the folder's name)");
  } else {
    c.meta.hook_name = hookpoint;
    c.assumptions.push_back("hook " + hookpoint + " (the module's output) from the folder's name");
  }
  c.meta.hook_layer = layer_of_hook(c.meta.hook_name);
  apply_hook_override(c, options);
  return Sae(std::move(c), std::move(w), weights);
}

}  // namespace

SaeFormat sparsify_format() {
  return {"sparsify", kTitle,
          "a hookpoint folder (layers.L, layers.L.mlp) with cfg.json and sae.safetensors (encoder.weight, "
          "encoder.bias, W_dec, b_dec)",
          claims_sparsify, read_sparsify};
}

}  // namespace saescope::sae
