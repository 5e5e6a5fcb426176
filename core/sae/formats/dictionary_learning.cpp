// dictionary_learning (saprmarks; SAEBench's baselines): `trainer_N/ae.pt`
// (torch.save of the dictionary's state dict) beside `config.json`
// ({"trainer": {"dict_class", "activation_dim", "dict_size", "k", "layer",
// "lm_name", "submodule_name", ...}, "buffer": {...}}). Each class's tensors
// and inference, as dictionary.py and trainers/*.py define them (nn.Linear
// weights are [out, in]):
//   AutoEncoder          f = ReLU(encoder(x − bias)); x̂ = decoder(f) + bias.
//                        from_pretrained normalises decoder columns by default
//                        (encoder rows and bias scaled to match): so here too.
//   AutoEncoderTopK      top-k of ReLU(encoder(x − b_dec)) per token
//   BatchTopKSAE         post·[post > threshold], post = ReLU(encoder(x − b_dec))
//   MatryoshkaBatchTopKSAE  the same with raw W_enc [d, N], b_enc, W_dec [N, d]
//   JumpReluAutoEncoder  pre = x·W_enc + b_enc; f = pre·[pre > threshold]
//   GatedAutoEncoder     x_enc = encoder(x − decoder_bias);
//                        f = [x_enc + gate_bias > 0]·ReLU(exp(r_mag)·x_enc + mag_bias)
#include <ATen/ATen.h>

#include <filesystem>
#include <regex>

#include "core/common/error.h"
#include "core/common/json_file.h"
#include "core/io/torch_pt.h"
#include "core/sae/formats/readers.h"
#include "core/sae/formats/release_reader.h"
#include "core/sae/formats/tensor_set.h"

namespace saescope::sae {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
constexpr const char* kTitle = "dictionary_learning";

std::optional<std::string> ae_file(const std::string& path) { return file_in(path, "ae.pt"); }

// The hook a submodule name says: SAEBench's "resid_post_layer_3", ...
std::string hook_of_submodule(const std::string& name) {
  static const std::regex re(R"(^(resid_post|resid_pre|mlp_out|attn_out)_layer_(\d{1,6})$)");
  std::smatch m;
  if (!std::regex_match(name, m, re)) return {};
  const std::string site = m[1].str() == "resid_post" ? "hook_resid_post"
                           : m[1].str() == "resid_pre" ? "hook_resid_pre"
                           : m[1].str() == "mlp_out"   ? "hook_mlp_out"
                                                       : "hook_attn_out";
  return "blocks." + m[2].str() + "." + site;
}

int64_t scalar_int(const at::Tensor& t, const char* name, const std::string& file) {
  if (!t.defined() || t.numel() != 1) throw InputError(file + ": no one-value tensor `" + name + "`");
  return t.to(at::kLong).item<int64_t>();
}

double scalar(const at::Tensor& t, const char* name, const std::string& file) {
  if (!t.defined() || t.numel() != 1) throw InputError(file + ": no one-value tensor `" + name + "`");
  return t.to(at::kDouble).item<double>();
}

// Reads `cls`'s tensors into `w` and sets the architecture.
void read_class(const std::string& cls, TensorSet& ts, SaeConfig& c, SaeWeights& w) {
  const std::string& file = ts.file();
  auto linear = [&](const char* name) { return ts.take(name).t().contiguous(); };  // [out, in] → [in, out]
  if (cls == "AutoEncoder") {
    c.architecture = Architecture::Standard;
    c.apply_b_dec_to_input = true;
    const at::Tensor enc = ts.take("encoder.weight"), dec = ts.take("decoder.weight");
    const at::Tensor n = dec.norm(2, {0});  // per feature: decoder columns
    w.W_enc = (enc * n.unsqueeze(1)).t().contiguous();
    w.b_enc = ts.take("encoder.bias") * n;
    w.W_dec = (dec / n).t().contiguous();
    w.b_dec = ts.take("bias");
    c.assumptions.push_back("decoder columns normalised as AutoEncoder.from_pretrained does by default");
  } else if (cls == "AutoEncoderTopK" || cls == "BatchTopKSAE") {
    w.W_enc = linear("encoder.weight");
    w.b_enc = ts.take("encoder.bias");
    w.W_dec = linear("decoder.weight");
    w.b_dec = ts.take("b_dec");
    c.apply_b_dec_to_input = true;
    c.k = scalar_int(ts.take_raw("k"), "k", file);
    const double threshold = scalar(ts.take_raw("threshold"), "threshold", file);
    if (cls == "AutoEncoderTopK") {
      c.architecture = Architecture::TopK;
    } else {  // inference uses the learnt threshold (encode's use_threshold=True)
      c.architecture = Architecture::JumpReLU;
      w.threshold = at::full({w.W_enc.size(1)}, threshold, at::kFloat);
    }
  } else if (cls == "MatryoshkaBatchTopKSAE" || cls == "JumpReluAutoEncoder") {
    w.W_enc = ts.take("W_enc");
    w.b_enc = ts.take("b_enc");
    w.W_dec = ts.take("W_dec");
    w.b_dec = ts.take("b_dec");
    c.architecture = Architecture::JumpReLU;
    if (cls == "JumpReluAutoEncoder") {
      w.threshold = ts.take("threshold");
      c.apply_b_dec_to_input = false;  // an attribute dictionary_learning does not save; False by default
    } else {
      c.k = scalar_int(ts.take_raw("k"), "k", file);
      ts.take_raw("group_sizes");
      w.threshold = at::full({w.W_enc.size(1)}, scalar(ts.take_raw("threshold"), "threshold", file), at::kFloat);
      c.apply_b_dec_to_input = true;
    }
  } else if (cls == "GatedAutoEncoder") {
    c.architecture = Architecture::Gated;
    c.apply_b_dec_to_input = true;
    w.W_enc = linear("encoder.weight");
    w.W_dec = linear("decoder.weight");
    w.b_dec = ts.take("decoder_bias");
    w.b_gate = ts.take("gate_bias");
    w.b_mag = ts.take("mag_bias");
    w.r_mag = ts.take("r_mag");
  } else {
    throw InputError(file + ": dict_class \"" + cls +
                     "\" is not read (AutoEncoder, AutoEncoderTopK, BatchTopKSAE, MatryoshkaBatchTopKSAE, "
                     "JumpReluAutoEncoder, GatedAutoEncoder)");
  }
  ts.expect_all_taken("a dictionary_learning " + cls);
}

Sae read_dictionary_learning(const std::string& path, const LoadOptions& options) {
  const std::string file = *ae_file(path);
  const std::string cfg_file = (fs::absolute(file).parent_path() / "config.json").string();
  if (!fs::exists(cfg_file)) throw InputError(cfg_file + ": missing (dictionary_learning keeps the class and sizes there, beside ae.pt)");
  const json cfg = read_json_file(cfg_file);
  const json* trainer = cfg.is_object() && cfg.contains("trainer") && cfg["trainer"].is_object() ? &cfg["trainer"] : nullptr;
  if (!trainer || !(*trainer).contains("dict_class") || !(*trainer)["dict_class"].is_string())
    throw InputError(cfg_file + ": no trainer.dict_class (is this a dictionary_learning config.json?)");
  const std::string cls = (*trainer)["dict_class"];

  io::TorchPtDict pt = io::read_torch_pt_dict(file);
  TensorSet ts(file, std::move(pt.tensors));
  SaeConfig c = release_config(Architecture::Standard, kTitle);
  SaeWeights w;
  read_class(cls, ts, c, w);
  if (w.W_enc.dim() != 2) throw InputError(file + ": the encoder weight is not 2-D");
  // Stored dtype kept unless the weights were rescaled (AutoEncoder): then float32.
  if (cls != "AutoEncoder") c.dtype = ts.stored_dtype(ts.has("W_enc") ? "W_enc" : "encoder.weight");
  c.d_in = w.W_enc.size(0);
  c.d_sae = w.W_enc.size(1);
  for (const auto& [key, want] : {std::pair<const char*, int64_t>{"activation_dim", c.d_in}, {"dict_size", c.d_sae}})
    if (trainer->contains(key) && (*trainer)[key].is_number_integer() && (*trainer)[key].get<int64_t>() != want)
      throw InputError(file + ": the weights are for " + std::to_string(want) + " but " + cfg_file + " says " + key + " " +
                       (*trainer)[key].dump());
  if (trainer->contains("lm_name") && (*trainer)["lm_name"].is_string()) c.meta.model_name = (*trainer)["lm_name"];
  const std::string submodule = trainer->value("submodule_name", std::string());
  c.meta.hook_name = hook_of_submodule(submodule);
  if (c.meta.hook_name.empty() && options.hook.empty())
    throw InputError(cfg_file + ": submodule_name \"" + submodule +
                     "\" names no hook SAEScope knows (resid_post_layer_L, resid_pre_layer_L, mlp_out_layer_L, "
                     "attn_out_layer_L); name it with --hook (sae-info, encode)");
  if (!c.meta.hook_name.empty()) c.assumptions.push_back("hook " + c.meta.hook_name + " from submodule_name " + submodule);
  c.meta.hook_layer = layer_of_hook(c.meta.hook_name);
  apply_hook_override(c, options);
  return Sae(std::move(c), std::move(w), file);
}

}  // namespace

SaeFormat dictionary_learning_format() {
  return {"dictionary_learning", kTitle,
          "ae.pt (or its folder trainer_N) with config.json beside it (trainer.dict_class, submodule_name)",
          [](const std::string& path) { return ae_file(path).has_value(); }, read_dictionary_learning};
}

}  // namespace saescope::sae
