#include "core/sae/sae_config.h"

#include <cctype>
#include <cmath>
#include <limits>
#include <regex>

#include "core/common/error.h"
#include "core/common/json_file.h"
#include "core/model/model_info.h"
#include "core/sae/arch/architecture.h"

namespace saescope::sae {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw InputError(path + ": " + what);
}

// Keys this parser understands inside `metadata`; the rest is kept verbatim.
const char* const kKnownMetaKeys[] = {"model_name",
                                      "hook_name",
                                      "hook_point",
                                      "hook_layer",
                                      "hook_point_layer",
                                      "hook_head_index",
                                      "hook_name_out",
                                      "hook_layer_out",
                                      "hook_point_head_index",
                                      "context_size",
                                      "prepend_bos",
                                      "dataset_path",
                                      "model_from_pretrained_kwargs",
                                      "sae_lens_version",
                                      "sae_lens_training_version"};

// SAELens wrote the metadata block as `metadata` (v6) and, in some 6.x
// development builds, as `meta`; older configs are flat.
const json* metadata_block(const json& cfg) {
  for (const char* key : {"metadata", "meta"}) {
    auto it = cfg.find(key);
    if (it != cfg.end() && it->is_object()) return &*it;
  }
  return nullptr;
}

// A field looked up in the metadata block first, then at the top level,
// under each of its historical names. Null counts as absent.
const json* find_field(const json& cfg, std::initializer_list<const char*> names) {
  if (const json* meta = metadata_block(cfg)) {
    for (const char* n : names) {
      auto it = meta->find(n);
      if (it != meta->end() && !it->is_null()) return &*it;
    }
  }
  for (const char* n : names) {
    auto it = cfg.find(n);
    if (it != cfg.end() && !it->is_null()) return &*it;
  }
  return nullptr;
}

std::optional<int64_t> opt_int(const json& cfg, std::initializer_list<const char*> names,
                               const std::string& path) {
  const json* v = find_field(cfg, names);
  if (!v) return std::nullopt;
  // 2^63: a whole double at or past it (1e300) does not fit an int64_t.
  constexpr double kInt64Bound = 9223372036854775808.0;
  if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
    bad(path, std::string("field ") + *names.begin() + " is too large, got " + v->dump());
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_number_float() && std::floor(v->get<double>()) == v->get<double>()) {
    if (!(v->get<double>() >= -kInt64Bound && v->get<double>() < kInt64Bound))
      bad(path, std::string("field ") + *names.begin() + " is too large, got " + v->dump());
    return static_cast<int64_t>(v->get<double>());
  }
  bad(path, std::string("field ") + *names.begin() + " must be an integer, got " + v->dump());
}

std::optional<bool> opt_bool(const json& cfg, std::initializer_list<const char*> names,
                             const std::string& path) {
  const json* v = find_field(cfg, names);
  if (!v) return std::nullopt;
  if (!v->is_boolean())
    bad(path, std::string("field ") + *names.begin() + " must be true or false, got " + v->dump());
  return v->get<bool>();
}

std::string opt_string(const json& cfg, std::initializer_list<const char*> names,
                       const std::string& path) {
  const json* v = find_field(cfg, names);
  if (!v) return {};
  if (!v->is_string())
    bad(path, std::string("field ") + *names.begin() + " must be a string, got " + v->dump());
  return v->get<std::string>();
}

int64_t positive_int(const json& cfg, const char* name, const std::string& path) {
  auto v = opt_int(cfg, {name}, path);
  if (!v) bad(path, std::string("field ") + name + " is missing");
  if (*v <= 0)
    bad(path, std::string("field ") + name + " must be positive, got " + std::to_string(*v));
  return *v;
}

constexpr int kNoSuchVersion = std::numeric_limits<int>::max();

// Leading integer of "6.1.0", "6.0.0-rc.0", "3.13.1"; -1 when there is none,
// kNoSuchVersion when it has more digits than any release (std::stoi threw).
int major_version(const std::string& v) {
  if (v.empty() || !std::isdigit(static_cast<unsigned char>(v[0]))) return -1;
  int major = 0;
  for (size_t i = 0; i < v.size() && std::isdigit(static_cast<unsigned char>(v[i])); ++i) {
    if (major > 99999) return kNoSuchVersion;
    major = major * 10 + (v[i] - '0');
  }
  return major;
}

std::string normalize_dtype(const std::string& raw, const std::string& path) {
  std::string d = raw;
  if (d.rfind("torch.", 0) == 0) d = d.substr(6);
  if (d == "float32" || d == "float") return "float32";
  if (d == "float16" || d == "half") return "float16";
  if (d == "bfloat16") return "bfloat16";
  if (d == "float64" || d == "double") return "float64";
  bad(path,
      "field dtype: unknown dtype '" + raw + "' (expected float32, float16, bfloat16 or float64)");
}

Normalization parse_normalization(const json& cfg, const std::string& path) {
  auto it = cfg.find("normalize_activations");
  if (it == cfg.end() || it->is_null()) return Normalization::None;
  // Before 6.0 this was a boolean: true meant the expected-average scaling.
  if (it->is_boolean())
    return it->get<bool>() ? Normalization::ExpectedAverageOnlyIn : Normalization::None;
  if (it->is_string()) {
    const std::string s = it->get<std::string>();
    if (s == "none") return Normalization::None;
    if (s == "expected_average_only_in") return Normalization::ExpectedAverageOnlyIn;
    if (s == "constant_norm_rescale") return Normalization::ConstantNormRescale;
    if (s == "layer_norm") return Normalization::LayerNorm;
  }
  bad(path, "field normalize_activations: unknown value " + it->dump() +
                " (expected none, expected_average_only_in, constant_norm_rescale or layer_norm)");
}

void parse_architecture(const json& cfg, const std::string& path, SaeConfig& out) {
  std::string arch = opt_string(cfg, {"architecture"}, path);
  if (arch.empty()) {
    if (!out.is_legacy) bad(path, "field architecture is missing");
    arch = "standard";  // SAELens < 6 default
  }
  // SAELens's transcoders ("transcoder", "skip_transcoder",
  // "jumprelu_transcoder"; we also write "topk_transcoder"): an architecture
  // whose decoder writes another hook.
  const std::string suffix = "_transcoder";
  if (arch == "transcoder" || arch == "skip_transcoder") {
    out.transcoder = true;
    out.skip_connection = arch == "skip_transcoder";
    arch = "standard";
  } else if (arch.size() > suffix.size() && arch.compare(arch.size() - suffix.size(), suffix.size(), suffix) == 0) {
    out.transcoder = true;
    arch.resize(arch.size() - suffix.size());
    if (arch.rfind("skip_", 0) == 0) {
      out.skip_connection = true;
      arch = arch.substr(5);
    }
  }
  // A batch top-k SAE is saved as (and runs as) JumpReLU.
  const ArchitectureSpec* spec = find_architecture(arch);
  if (!spec)
    bad(path, "unknown architecture '" + arch + "' (expected " + architecture_names(false) +
                  ", or transcoder, skip_transcoder, jumprelu_transcoder, topk_transcoder)");
  out.architecture = spec->runs_as;

  // Older files name the activation separately; a TopK SAE was "standard" +
  // activation_fn_str "topk". Reading it as ReLU "works" and reconstructs badly.
  const std::string act = opt_string(cfg, {"activation_fn_str", "activation_fn"}, path);
  if (!act.empty() && act != "relu") {
    if (act != "topk")
      bad(path, "unknown activation function '" + act + "' (expected relu or topk)");
    if (out.architecture == Architecture::Standard)
      out.architecture = Architecture::TopK;
    else if (out.architecture != Architecture::TopK)
      bad(path, "architecture '" + arch + "' contradicts activation function 'topk'");
  }
  if (out.architecture == Architecture::TopK) {
    std::optional<int64_t> k = opt_int(cfg, {"k"}, path);
    auto kw = cfg.find("activation_fn_kwargs");
    if (!k && kw != cfg.end() && kw->is_object() && kw->contains("k")) {
      const json& kv = (*kw)["k"];
      if (!kv.is_number_integer()) bad(path, "field activation_fn_kwargs.k must be an integer");
      k = kv.get<int64_t>();
    }
    if (!k) bad(path, "topk SAE without k (neither `k` nor `activation_fn_kwargs.k`)");
    if (*k <= 0 || *k > out.d_sae)
      bad(path, "k = " + std::to_string(*k) + " is outside 1.." + std::to_string(out.d_sae));
    out.k = *k;
  }
}

void parse_center_writing_weights(const json& cfg, const std::string& path, SaeConfig& out) {
  const auto& kwargs = out.meta.model_from_pretrained_kwargs;
  auto it = kwargs.find("center_writing_weights");
  if (it != kwargs.end() && !it->is_null()) {
    if (!it->is_boolean())
      bad(path, "model_from_pretrained_kwargs.center_writing_weights must be true or false");
    out.center_writing_weights = it->get<bool>();
    out.center_writing_weights_source = "model_from_pretrained_kwargs";
    return;
  }
  if (auto v = opt_bool(cfg, {"center_writing_weights"}, path)) {
    out.center_writing_weights = *v;
    out.center_writing_weights_source = "cfg.json field";
    return;
  }
  out.center_writing_weights = true;
  out.center_writing_weights_source = "assumed (TransformerLens default)";
}

void parse_fold_value_biases(const std::string& path, SaeConfig& out) {
  const auto& kwargs = out.meta.model_from_pretrained_kwargs;
  auto it = kwargs.find("fold_value_biases");
  if (it == kwargs.end() || it->is_null()) {
    out.fold_value_biases = true;  // HookedTransformer.from_pretrained's default
    return;
  }
  if (!it->is_boolean()) bad(path, "model_from_pretrained_kwargs.fold_value_biases must be true or false");
  out.fold_value_biases = it->get<bool>();
}

void parse_metadata(const json& cfg, const std::string& path, SaeConfig& out) {
  SaeMetadata& m = out.meta;
  m.model_name = opt_string(cfg, {"model_name"}, path);
  m.hook_name = opt_string(cfg, {"hook_name", "hook_point"}, path);
  m.hook_layer = opt_int(cfg, {"hook_layer", "hook_point_layer"}, path);
  if (!m.hook_layer) m.hook_layer = layer_of_hook(m.hook_name);
  m.hook_head_index = opt_int(cfg, {"hook_head_index", "hook_point_head_index"}, path);
  m.hook_name_out = opt_string(cfg, {"hook_name_out"}, path);
  m.hook_layer_out = opt_int(cfg, {"hook_layer_out"}, path);
  m.context_size = opt_int(cfg, {"context_size"}, path);
  m.prepend_bos = opt_bool(cfg, {"prepend_bos"}, path);
  m.dataset_path = opt_string(cfg, {"dataset_path"}, path);
  if (const json* kw = find_field(cfg, {"model_from_pretrained_kwargs"})) {
    if (!kw->is_object()) bad(path, "field model_from_pretrained_kwargs must be an object");
    m.model_from_pretrained_kwargs = *kw;
  }
  m.sae_lens_version = opt_string(cfg, {"sae_lens_version"}, path);
  m.sae_lens_training_version = opt_string(cfg, {"sae_lens_training_version"}, path);
  if (const json* meta = metadata_block(cfg)) {
    for (auto it = meta->begin(); it != meta->end(); ++it) {
      bool known = false;
      for (const char* k : kKnownMetaKeys) known = known || it.key() == k;
      if (!known) m.extra[it.key()] = it.value();
    }
  }
}

std::optional<double> parse_scaling_factor(const json& cfg, const std::string& path) {
  const json* v = find_field(cfg, {"norm_scaling_factor", "scaling_factor"});
  if (!v) return std::nullopt;
  if (!v->is_number()) bad(path, "field norm_scaling_factor must be a number, got " + v->dump());
  const double s = v->get<double>();
  if (!std::isfinite(s) || s <= 0)
    bad(path, "field norm_scaling_factor must be finite and positive");
  return s;
}

}  // namespace

std::string to_string(Architecture a) { return architecture_spec(a).name; }

std::string to_string(Normalization n) {
  switch (n) {
    case Normalization::None:
      return "none";
    case Normalization::ExpectedAverageOnlyIn:
      return "expected_average_only_in";
    case Normalization::ConstantNormRescale:
      return "constant_norm_rescale";
    case Normalization::LayerNorm:
      return "layer_norm";
  }
  return "?";
}

std::optional<int64_t> layer_of_hook(const std::string& hook) {
  // blocks.L.… (TransformerLens) or …layers.L[.…] (Hugging Face module paths).
  static const std::regex layer_re(R"(^(?:blocks|(?:[a-z_]+\.)*layers)\.(\d+)(?:\.|$))");
  std::smatch mt;
  // Nine digits at most: a longer number is no layer (and would overflow stoll).
  if (std::regex_search(hook, mt, layer_re) && mt[1].length() <= 9) return std::stoll(mt[1].str());
  return std::nullopt;
}

std::string saelens_architecture(const SaeConfig& cfg) {
  const std::string base = to_string(cfg.architecture);
  if (!cfg.transcoder) return base;
  if (cfg.skip_connection) return base == "standard" ? "skip_transcoder" : "skip_" + base + "_transcoder";
  return base == "standard" ? "transcoder" : base + "_transcoder";
}

SaeConfig parse_sae_config(const json& cfg, const std::string& path) {
  if (!cfg.is_object()) bad(path, "cfg.json is not a JSON object");
  SaeConfig out;
  const std::string version = opt_string(cfg, {"sae_lens_version"}, path);
  if (major_version(version) == kNoSuchVersion)
    bad(path, "field sae_lens_version '" + version + "' is not a SAELens version (its major number is too large)");
  out.is_legacy = major_version(version) < 6;
  out.d_in = positive_int(cfg, "d_in", path);
  out.d_sae = positive_int(cfg, "d_sae", path);
  parse_architecture(cfg, path, out);
  out.d_out = out.transcoder && find_field(cfg, {"d_out"}) ? positive_int(cfg, "d_out", path) : out.d_in;
  if (auto d = opt_string(cfg, {"dtype"}, path); !d.empty()) out.dtype = normalize_dtype(d, path);
  if (auto d = opt_string(cfg, {"device"}, path); !d.empty()) out.device = d;
  out.apply_b_dec_to_input = opt_bool(cfg, {"apply_b_dec_to_input"}, path).value_or(true);
  out.normalize_activations = parse_normalization(cfg, path);
  out.scaling_factor = parse_scaling_factor(cfg, path);
  out.rescale_acts_by_decoder_norm =
      opt_bool(cfg, {"rescale_acts_by_decoder_norm"}, path).value_or(false);
  if (out.rescale_acts_by_decoder_norm && out.architecture == Architecture::Gated)
    bad(path, "rescale_acts_by_decoder_norm is not defined for gated SAEs");
  out.reshape_activations = opt_string(cfg, {"reshape_activations"}, path);
  if (out.reshape_activations.empty()) out.reshape_activations = "none";
  if (out.reshape_activations != "none" && out.reshape_activations != "hook_z")
    bad(path, "field reshape_activations: unknown value '" + out.reshape_activations + "'");
  parse_metadata(cfg, path, out);
  if (out.transcoder) {
    if (out.meta.hook_name_out.empty()) bad(path, "a transcoder without hook_name_out: where does it write?");
    // SAELens normalises a transcoder's input only.
    if (out.normalize_activations == Normalization::ExpectedAverageOnlyIn) out.output_scaling_factor = 1.0;
    else if (out.normalize_activations != Normalization::None)
      bad(path, "normalize_activations " + to_string(out.normalize_activations) + " is not defined for transcoders");
    out.apply_b_dec_to_input = false;  // SAELens's Transcoder.process_sae_in never subtracts b_dec
    if (out.rescale_acts_by_decoder_norm) bad(path, "rescale_acts_by_decoder_norm is not defined for transcoders");
  }
  parse_center_writing_weights(cfg, path, out);
  parse_fold_value_biases(path, out);
  return out;
}

SaeConfig read_sae_config(const std::string& cfg_json_path) {
  return parse_sae_config(read_json_file(cfg_json_path), cfg_json_path);
}

json to_saelens_json(const SaeConfig& cfg) {
  json j;
  j["architecture"] = saelens_architecture(cfg);
  j["d_in"] = cfg.d_in;
  j["d_sae"] = cfg.d_sae;
  j["dtype"] = cfg.dtype.empty() ? "float32" : cfg.dtype;
  j["device"] = cfg.device.empty() ? "cpu" : cfg.device;
  j["apply_b_dec_to_input"] = cfg.apply_b_dec_to_input;
  j["normalize_activations"] = to_string(cfg.normalize_activations);
  j["reshape_activations"] = cfg.reshape_activations;
  if (cfg.architecture == Architecture::TopK) j["k"] = cfg.k;
  if (cfg.transcoder) {
    j["d_out"] = cfg.output_width();
    j["hook_name_out"] = cfg.meta.hook_name_out;
    j["hook_layer_out"] = cfg.meta.hook_layer_out ? json(*cfg.meta.hook_layer_out) : json(nullptr);
  }
  j["rescale_acts_by_decoder_norm"] = cfg.rescale_acts_by_decoder_norm;

  const SaeMetadata& m = cfg.meta;
  json meta = m.extra.is_object() ? m.extra : json::object();
  auto opt = [](const auto& o) { return o ? json(*o) : json(nullptr); };
  meta["model_name"] = m.model_name;
  meta["hook_name"] = m.hook_name;
  meta["hook_layer"] = opt(m.hook_layer);
  meta["hook_head_index"] = opt(m.hook_head_index);
  meta["context_size"] = opt(m.context_size);
  meta["prepend_bos"] = opt(m.prepend_bos);
  meta["dataset_path"] = m.dataset_path.empty() ? json(nullptr) : json(m.dataset_path);
  json kwargs =
      m.model_from_pretrained_kwargs.is_object() ? m.model_from_pretrained_kwargs : json::object();
  // A known (not assumed) choice is written down, so the file says it plainly.
  if (cfg.center_writing_weights_source.rfind("assumed", 0) != 0 &&
      !kwargs.contains("center_writing_weights"))
    kwargs["center_writing_weights"] = cfg.center_writing_weights;
  if (!kwargs.contains("fold_value_biases")) kwargs["fold_value_biases"] = cfg.fold_value_biases;
  meta["model_from_pretrained_kwargs"] = kwargs;
  meta["sae_lens_version"] =
      major_version(m.sae_lens_version) >= 6 ? m.sae_lens_version : std::string("6.0.0");
  if (!m.sae_lens_training_version.empty())
    meta["sae_lens_training_version"] = m.sae_lens_training_version;
  j["metadata"] = meta;
  return j;
}

bool run_prepends_bos(const model::ModelInfo& model,
                      const std::vector<std::pair<std::string, const SaeConfig*>>& saes) {
  if (model.bos_token_id < 0) return false;
  const std::pair<std::string, const SaeConfig*>* first = nullptr;
  for (const auto& s : saes) {
    if (!s.second->meta.prepend_bos) continue;
    if (first && *first->second->meta.prepend_bos != *s.second->meta.prepend_bos)
      throw InputError(first->first + " was trained with prepend_bos " +
                       (*first->second->meta.prepend_bos ? "true" : "false") + " but " + s.first + " with " +
                       (*s.second->meta.prepend_bos ? "true" : "false") + "; run them separately");
    if (!first) first = &s;
  }
  return first ? *first->second->meta.prepend_bos : model.prepend_bos;
}

}  // namespace saescope::sae
