// Gemma Scope 2 (Gemma 3): a folder `layer_L_width_16k_l0_small[_affine]`
// under a site folder (resid_post[_all], mlp_out, attn_out, transcoder, ...),
// holding params.safetensors — w_enc [d_in, d_sae], w_dec [d_sae, d_out],
// b_enc, b_dec, threshold, and for affine (skip) transcoders
// affine_skip_connection [d_in, d_out] — and config.json (hf_hook_point_in,
// hf_hook_point_out, width, model_name, architecture "jump_relu", l0,
// affine_connection, type). The hooks are Hugging Face module paths, resolved
// by the model's family. Math (the Gemma Scope 2 tutorial's JumpReLUSAE):
//   pre = x·w_enc + b_enc;  f = pre·[pre > threshold]
//   x̂  = f·w_dec + b_dec (+ x·affine_skip_connection)
// Without config.json the folder and site names say the same (as SAELens).
#include <ATen/ATen.h>

#include <filesystem>
#include <regex>

#include "core/common/error.h"
#include "core/common/json_file.h"
#include "core/sae/formats/readers.h"
#include "core/sae/formats/release_reader.h"
#include "core/sae/formats/tensor_set.h"

namespace saescope::sae {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
constexpr const char* kTitle = "Gemma Scope 2 (Gemma 3)";

struct Hooks {
  std::string in, out;
  bool affine = false;
};

// SAELens's inference when config.json is absent: the layer and _affine from
// the folder's name, the hooks from the site folder's.
Hooks hooks_from_path(const fs::path& folder, const std::string& params) {
  static const std::regex name_re(R"(^layer_(\d{1,6})_width_[0-9a-z]+_l0_[a-z0-9]+(_affine)?$)");
  std::smatch m;
  const std::string name = folder.filename().string();
  if (!std::regex_match(name, m, name_re))
    throw InputError(params + ": Gemma Scope 2 without config.json, and its folder's name '" + name +
                     "' is not layer_L_width_W_l0_S[_affine]: where does it read? Keep its config.json beside it.");
  const std::string layer = "model.layers." + m[1].str();
  Hooks h;
  h.affine = m[2].matched;
  std::string site = folder.parent_path().filename().string();
  if (site.size() > 4 && site.compare(site.size() - 4, 4, "_all") == 0) site.resize(site.size() - 4);
  if (site == "resid_post") h.in = h.out = layer + ".output";
  else if (site == "mlp_out") h.in = h.out = layer + ".post_feedforward_layernorm.output";
  else if (site == "attn_out") h.in = h.out = layer + ".self_attn.o_proj.input";
  else if (site == "transcoder") {
    h.in = layer + ".pre_feedforward_layernorm.output";
    h.out = layer + ".post_feedforward_layernorm.output";
  } else
    throw InputError(params + ": Gemma Scope 2 without config.json under '" + site +
                     "', which is not a site SAEScope knows (resid_post, mlp_out, attn_out, transcoder); "
                     "cross-layer transcoders and crosscoders are not read");
  return h;
}

Hooks hooks_from_config(const std::string& file) {
  const json cfg = read_json_file(file);
  if (!cfg.is_object()) throw InputError(file + ": not a JSON object");
  auto str = [&](const char* key) {
    auto it = cfg.find(key);
    if (it == cfg.end() || !it->is_string()) throw InputError(file + ": field " + std::string(key) + " is missing or not a string");
    return it->get<std::string>();
  };
  const std::string arch = str("architecture");
  if (arch != "jump_relu") throw InputError(file + ": architecture \"" + arch + "\" is not read (Gemma Scope 2 is jump_relu)");
  if (cfg.contains("type") && cfg["type"].is_string() && cfg["type"] != "sae" && cfg["type"] != "transcoder")
    throw InputError(file + ": type \"" + cfg["type"].get<std::string>() + "\" is not read (sae or transcoder)");
  Hooks h{str("hf_hook_point_in"), str("hf_hook_point_out"), false};
  if (cfg.contains("affine_connection")) {
    if (!cfg["affine_connection"].is_boolean()) throw InputError(file + ": field affine_connection is not true or false");
    h.affine = cfg["affine_connection"].get<bool>();
  }
  return h;
}

std::optional<std::string> params_file(const std::string& path) { return file_in(path, "params.safetensors"); }

Sae read_gemma_scope_2(const std::string& path, const LoadOptions& options) {
  const std::string params = *params_file(path);
  const fs::path folder = fs::absolute(params).parent_path();
  const fs::path cfg_file = folder / "config.json";
  SaeConfig c = release_config(Architecture::JumpReLU, kTitle);
  Hooks h;
  if (fs::exists(cfg_file)) {
    h = hooks_from_config(cfg_file.string());
    const json cfg = read_json_file(cfg_file.string());
    if (cfg.contains("model_name") && cfg["model_name"].is_string()) c.meta.model_name = cfg["model_name"];
  } else {
    h = hooks_from_path(folder, params);
    c.assumptions.push_back("no config.json: hooks " + h.in + (h.in == h.out ? "" : " → " + h.out) +
                            (h.affine ? " with an affine skip connection" : "") +
                            " from the folder names (as SAELens infers them)");
  }
  TensorSet ts = TensorSet::from_safetensors(params);
  SaeWeights w;
  w.W_enc = ts.take({"w_enc", "W_enc"});
  if (w.W_enc.dim() != 2)
    throw InputError(params + ": tensor `w_enc` has shape " + shape_string(w.W_enc.sizes()) + ", expected [d_in, d_sae]");
  c.d_in = w.W_enc.size(0);
  c.d_sae = w.W_enc.size(1);
  c.dtype = ts.stored_dtype(ts.has("w_enc") ? "w_enc" : "W_enc");
  w.W_dec = ts.take({"w_dec", "W_dec"});
  if (w.W_dec.dim() == 2) c.d_out = w.W_dec.size(1);
  w.b_enc = ts.take("b_enc");
  w.b_dec = ts.take("b_dec");
  w.threshold = ts.take("threshold");
  if (h.affine) w.W_skip = ts.take("affine_skip_connection").t().contiguous();  // x·A = x·(Aᵀ)ᵀ
  ts.expect_all_taken(std::string("a Gemma Scope 2 JumpReLU ") + (h.in == h.out ? "SAE" : "transcoder") +
                      (h.affine ? " with an affine skip connection" : " (config.json: affine_connection false)"));
  c.meta.hook_name = h.in;
  c.meta.hook_layer = layer_of_hook(h.in);
  c.transcoder = h.in != h.out || h.affine;
  c.skip_connection = h.affine;
  if (c.transcoder) {
    c.meta.hook_name_out = h.out;
    c.meta.hook_layer_out = layer_of_hook(h.out);
  }
  apply_hook_override(c, options);
  return Sae(std::move(c), std::move(w), params);
}

}  // namespace

SaeFormat gemma_scope_2_format() {
  return {"gemma_scope_2", kTitle,
          "params.safetensors (or its folder layer_L_width_W_l0_S[_affine]) with w_enc, w_dec, b_enc, b_dec, "
          "threshold, and config.json (hf_hook_point_in, hf_hook_point_out) or a site folder above it",
          [](const std::string& path) { return params_file(path).has_value(); }, read_gemma_scope_2};
}

}  // namespace saescope::sae
