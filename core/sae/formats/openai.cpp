// OpenAI's sparse_autoencoder (GPT-2 small): `<location>[_v4|_v5_32k|_v5_128k]
// /autoencoders/<layer>.pt`, torch.save of Autoencoder.state_dict(): pre_bias
// [d], latent_bias [n], encoder.weight [n, d], decoder.weight [d, n], the
// statistics buffers, `activation` ("TopK" or "ReLU"; absent in the first
// releases: ReLU) and `activation_state_dict` ({"k", "postact_fn"}). Math
// (model.py): TopK autoencoders layer-normalise their input (unbiased std,
// eps added to the std) and undo it on the output; encode
// (x − pre_bias)·encoderᵀ + latent_bias, then ReLU or the top k (ReLU of the
// kept values); decode f·decoderᵀ + pre_bias. The location says the hook:
//   resid_delta_attn → hook_attn_out,  resid_post_attn → hook_resid_mid,
//   resid_delta_mlp → hook_mlp_out,    resid_post_mlp → hook_resid_post,
//   mlp_post_act → mlp.hook_post.
#include <ATen/ATen.h>

#include <filesystem>
#include <regex>

#include "core/common/error.h"
#include "core/io/torch_pt.h"
#include "core/sae/formats/readers.h"
#include "core/sae/formats/release_reader.h"
#include "core/sae/formats/tensor_set.h"

namespace saescope::sae {
namespace {

namespace fs = std::filesystem;
constexpr const char* kTitle = "OpenAI sparse_autoencoder";

bool claims_openai(const std::string& path) {
  std::error_code ec;
  const fs::path p(path);
  return fs::is_regular_file(p, ec) && p.extension() == ".pt" && p.filename() != "ae.pt";
}

std::string hook_from_path(const std::string& file) {
  static const std::regex loc_re(R"(^(resid_delta_attn|resid_post_attn|resid_delta_mlp|resid_post_mlp|mlp_post_act)(_v\w+)?$)");
  static const std::regex layer_re(R"(^(\d{1,6})\.pt$)");
  std::string site, layer;
  for (const std::string& part : path_components(file)) {
    std::smatch m;
    if (std::regex_match(part, m, loc_re)) site = m[1].str();
    if (std::regex_match(part, m, layer_re)) layer = m[1].str();
  }
  if (site.empty() || layer.empty()) return {};
  const std::string b = "blocks." + layer + ".";
  if (site == "resid_delta_attn") return b + "hook_attn_out";
  if (site == "resid_post_attn") return b + "hook_resid_mid";
  if (site == "resid_delta_mlp") return b + "hook_mlp_out";
  if (site == "resid_post_mlp") return b + "hook_resid_post";
  return b + "mlp.hook_post";
}

Sae read_openai(const std::string& path, const LoadOptions& options) {
  io::TorchPtDict pt = io::read_torch_pt_dict(path);
  std::string activation = "ReLU";
  int64_t k = 0;
  for (const auto& [key, value] : pt.others) {
    if (key == "activation") {
      if (!value.is(io::PickleValue::Kind::String)) throw InputError(path + ": `activation` is not a string");
      activation = value.as_string();
    } else if (key == "activation_state_dict") {
      if (const io::PickleValue* kv = value.find("k")) {
        if (!kv->is(io::PickleValue::Kind::Int)) throw InputError(path + ": activation_state_dict.k is not an integer");
        k = kv->as_int();
      }
      if (const io::PickleValue* post = value.find("postact_fn"))
        if (!post->is(io::PickleValue::Kind::String) || post->as_string() != "ReLU")
          throw InputError(path + ": activation_state_dict.postact_fn is not \"ReLU\"");
    } else {
      throw InputError(path + ": entry `" + key + "` (a " + value.kind_name() +
                       ") is not part of an OpenAI autoencoder's state dict");
    }
  }
  if (activation != "ReLU" && activation != "TopK")
    throw InputError(path + ": activation \"" + activation + "\" is not read (ReLU or TopK)");
  TensorSet ts(path, std::move(pt.tensors));
  SaeWeights w;
  w.W_enc = ts.take("encoder.weight").t().contiguous();
  w.W_dec = ts.take("decoder.weight").t().contiguous();
  w.b_enc = ts.take("latent_bias");
  w.b_dec = ts.take("pre_bias");
  for (const char* stat : {"stats_last_nonzero", "latents_activation_frequency", "latents_mean_square"}) ts.take_raw(stat);
  ts.expect_all_taken("an OpenAI autoencoder (pre_bias, latent_bias, encoder.weight, decoder.weight)");
  SaeConfig c = release_config(activation == "TopK" ? Architecture::TopK : Architecture::Standard, kTitle);
  c.d_in = w.W_enc.size(0);
  c.d_sae = w.W_enc.size(1);
  c.dtype = ts.stored_dtype("encoder.weight");
  c.apply_b_dec_to_input = true;
  if (activation == "TopK") {
    if (k <= 0) throw InputError(path + ": a TopK autoencoder without activation_state_dict.k");
    c.k = k;
    c.normalize_activations = Normalization::LayerNorm;  // model.py: normalize iff TopK
  }
  c.meta.model_name = "gpt2";
  c.meta.hook_name = hook_from_path(path);
  if (c.meta.hook_name.empty() && options.hook.empty())
    throw InputError(path + ": OpenAI's .pt files carry no hook; it comes from the release's path "
                     "(<location>_v5_32k/autoencoders/<layer>.pt), which this path is not. Keep the file under its release folders, or name the hook with --hook (sae-info, encode).");
  if (!c.meta.hook_name.empty()) c.assumptions.push_back("hook " + c.meta.hook_name + " from the release's path");
  c.meta.hook_layer = layer_of_hook(c.meta.hook_name);
  apply_hook_override(c, options);
  return Sae(std::move(c), std::move(w), path);
}

}  // namespace

SaeFormat openai_format() {
  return {"openai", kTitle,
          "a .pt state dict (pre_bias, latent_bias, encoder.weight, decoder.weight); the hook from its path "
          "(resid_post_mlp_v5_32k/autoencoders/L.pt), or --hook",
          claims_openai, read_openai};
}

}  // namespace saescope::sae
