// Gemma Scope (Gemma 2): `params.npz` — W_enc [d_in, d_sae], W_dec [d_sae,
// d_in], b_enc, b_dec, threshold (keys may be written w_enc, w_dec). No
// config: JumpReLU that does not subtract b_dec from its input, the hook from
// the release's path:
//   gemma-scope-2b-pt-res/layer_L/…  → blocks.L.hook_resid_post
//   gemma-scope-2b-pt-mlp/layer_L/…  → blocks.L.hook_mlp_out
//   gemma-scope-2b-pt-att/layer_L/…  → blocks.L.attn.hook_z (heads flattened)
//   …-res/embedding/…                → hook_embed
// The embedding SAEs were trained on the embeddings before Gemma's √d_model
// scale; hook_embed is after it, so W_enc is divided and the decoder (W_dec
// and b_dec) multiplied by √d_in. SAELens scales W_enc and W_dec only: the
// same features, and a reconstruction that differs from ours by b_dec·(√d_in−1).
#include <ATen/ATen.h>

#include <cmath>
#include <regex>

#include "core/common/error.h"
#include "core/io/npy.h"
#include "core/sae/formats/readers.h"
#include "core/sae/formats/release_reader.h"
#include "core/sae/formats/tensor_set.h"

namespace saescope::sae {
namespace {

constexpr const char* kTitle = "Gemma Scope (Gemma 2)";

std::optional<std::string> params_file(const std::string& path) {
  if (auto f = file_in(path, "params.npz")) return f;
  if (auto f = file_in(path, ""); f && f->size() > 4 && f->compare(f->size() - 4, 4, ".npz") == 0) return f;
  return std::nullopt;
}

// The hook the release's path implies, or "" with `why` saying what is missing.
std::string hook_from_path(const std::string& file, bool* embedding, std::string* why) {
  static const std::regex site_re(R"(-(res|mlp|att)(?:-[a-z]+)?$)");
  static const std::regex layer_re(R"(^layer_(\d{1,6})$)");
  std::string site, layer;
  for (const std::string& part : path_components(file)) {
    std::smatch m;
    if (std::regex_search(part, m, site_re)) site = m[1].str();
    if (std::regex_match(part, m, layer_re)) layer = m[1].str();
    if (part == "embedding") *embedding = true;
  }
  if (site.empty()) {
    *why = "no release folder ending in -res, -mlp or -att in its path";
    return {};
  }
  if (*embedding) {
    if (site != "res") *why = "an embedding SAE outside a -res release";
    return site == "res" ? "hook_embed" : "";
  }
  if (layer.empty()) {
    *why = "no layer_L folder in its path";
    return {};
  }
  if (site == "res") return "blocks." + layer + ".hook_resid_post";
  if (site == "mlp") return "blocks." + layer + ".hook_mlp_out";
  return "blocks." + layer + ".attn.hook_z";
}

Sae read_gemma_scope(const std::string& path, const LoadOptions& options) {
  const std::string file = *params_file(path);
  TensorSet ts(file, io::read_npz(file));
  SaeWeights w;
  w.W_enc = ts.take({"W_enc", "w_enc"});
  if (w.W_enc.dim() != 2)
    throw InputError(file + ": tensor `W_enc` has shape " + shape_string(w.W_enc.sizes()) + ", expected [d_in, d_sae]");
  SaeConfig c = release_config(Architecture::JumpReLU, kTitle);
  c.d_in = w.W_enc.size(0);
  c.d_sae = w.W_enc.size(1);
  c.dtype = ts.stored_dtype(ts.has("W_enc") ? "W_enc" : "w_enc");
  w.W_dec = ts.take({"W_dec", "w_dec"});
  w.b_enc = ts.take("b_enc");
  w.b_dec = ts.take("b_dec");
  w.threshold = ts.take("threshold");
  ts.expect_all_taken("a Gemma Scope JumpReLU SAE (W_enc, W_dec, b_enc, b_dec, threshold)");

  bool embedding = false;
  std::string why;
  c.meta.hook_name = hook_from_path(file, &embedding, &why);
  if (c.meta.hook_name.empty() && options.hook.empty())
    throw InputError(file + ": Gemma Scope's params.npz has no config; its hook comes from the release's "
                     "path, and this path has " + why + ". Keep the file under its release folders (…/gemma-scope-2b-pt-res/layer_L/…), or name the hook with --hook (sae-info, encode).");
  if (!c.meta.hook_name.empty())
    c.assumptions.push_back("hook " + c.meta.hook_name + " from the release's path");
  c.meta.hook_layer = layer_of_hook(c.meta.hook_name);
  if (c.meta.hook_name.find("attn.hook_z") != std::string::npos) c.reshape_activations = "hook_z";
  if (embedding) {
    const double s = std::sqrt(static_cast<double>(c.d_in));
    w.W_enc = w.W_enc / s;
    w.W_dec = w.W_dec * s;
    w.b_dec = w.b_dec * s;
    c.assumptions.push_back("an embedding SAE: trained before Gemma's √d_model embedding scale, so its "
                            "encoder is divided and its decoder multiplied by √d_in");
  }
  apply_hook_override(c, options);
  return Sae(std::move(c), std::move(w), file);
}

}  // namespace

SaeFormat gemma_scope_format() {
  return {"gemma_scope", kTitle,
          "params.npz (or its folder) with W_enc, W_dec, b_enc, b_dec, threshold; the hook from the "
          "release's path (gemma-scope-2b-pt-res/layer_L/…), or --hook",
          [](const std::string& path) { return params_file(path).has_value(); }, read_gemma_scope};
}

}  // namespace saescope::sae
