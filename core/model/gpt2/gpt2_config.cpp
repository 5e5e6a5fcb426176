#include "core/model/gpt2/gpt2_config.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/common/json_file.h"

namespace saescope::model {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw InputError(path + ": " + what);
}

// A positive integer field; `fallback` names an older spelling of the same field.
int64_t positive_int(const json& j, const std::string& path, const char* key,
                     const char* fallback = nullptr) {
  const char* found = j.contains(key) ? key : (fallback && j.contains(fallback) ? fallback : nullptr);
  if (!found)
    bad(path, std::string("field '") + key + "'" +
                  (fallback ? std::string(" (or '") + fallback + "')" : "") + " is missing");
  const json& v = j.at(found);
  if (!v.is_number_integer() || v.get<int64_t>() <= 0)
    bad(path, std::string("field '") + found + "' must be a positive integer, got " + v.dump());
  return v.get<int64_t>();
}

int64_t optional_int(const json& j, const std::string& path, const char* key, int64_t dflt) {
  if (!j.contains(key) || j.at(key).is_null()) return dflt;
  if (!j.at(key).is_number_integer())
    bad(path, std::string("field '") + key + "' must be an integer, got " + j.at(key).dump());
  return j.at(key).get<int64_t>();
}

bool optional_bool(const json& j, const std::string& path, const char* key, bool dflt) {
  if (!j.contains(key) || j.at(key).is_null()) return dflt;
  if (!j.at(key).is_boolean())
    bad(path, std::string("field '") + key + "' must be true or false, got " + j.at(key).dump());
  return j.at(key).get<bool>();
}

Activation parse_activation(const json& j, const std::string& path) {
  if (!j.contains("activation_function")) return Activation::GeluTanh;  // HF's default
  const json& v = j.at("activation_function");
  return parse_activation_name(v.is_string() ? v.get<std::string>() : v.dump(),
                               path + ": activation_function");
}

}  // namespace

Gpt2Config load_gpt2_config(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    bad(path, "cannot open the file (a GPT-2 model folder must hold config.json)");
  const json j = read_json_file(path);
  if (!j.is_object()) bad(path, "not a JSON object");
  const std::string model_type =
      j.contains("model_type") && j["model_type"].is_string() ? j["model_type"].get<std::string>()
                                                                : "";
  if (model_type != "gpt2") bad(path, "model_type is '" + model_type + "', not \"gpt2\"");

  Gpt2Config c;
  c.d_model = positive_int(j, path, "n_embd");
  c.n_layer = positive_int(j, path, "n_layer");
  c.n_head = positive_int(j, path, "n_head");
  c.n_positions = positive_int(j, path, "n_positions", "n_ctx");
  c.vocab_size = positive_int(j, path, "vocab_size");
  if (c.d_model % c.n_head != 0)
    bad(path, "n_embd " + std::to_string(c.d_model) + " is not a multiple of n_head " +
                  std::to_string(c.n_head));
  c.d_head = c.d_model / c.n_head;
  c.d_mlp = optional_int(j, path, "n_inner", 4 * c.d_model);
  if (c.d_mlp <= 0) bad(path, "field 'n_inner' must be positive or null");
  if (j.contains("layer_norm_epsilon")) {
    const json& eps = j.at("layer_norm_epsilon");
    if (!eps.is_number() || eps.get<double>() <= 0)
      bad(path, "field 'layer_norm_epsilon' must be a positive number, got " + eps.dump());
    c.layer_norm_eps = eps.get<double>();
  }
  c.activation = parse_activation(j, path);
  c.scale_attn_weights = optional_bool(j, path, "scale_attn_weights", true);
  c.scale_attn_by_inverse_layer_idx =
      optional_bool(j, path, "scale_attn_by_inverse_layer_idx", false);
  c.bos_token_id = optional_int(j, path, "bos_token_id", c.vocab_size - 1);
  c.eos_token_id = optional_int(j, path, "eos_token_id", c.bos_token_id);
  if (c.bos_token_id < 0 || c.bos_token_id >= c.vocab_size)
    bad(path, "bos_token_id " + std::to_string(c.bos_token_id) + " is outside the vocabulary (" +
                  std::to_string(c.vocab_size) + " tokens)");
  return c;
}

Gpt2Config gpt2_small_config() { return Gpt2Config{}; }

ModelInfo gpt2_info(const Gpt2Config& c, const std::string& name) {
  ModelInfo m;
  m.name = name;
  m.family = m.model_type = "gpt2";
  m.n_layer = c.n_layer;
  m.d_model = c.d_model;
  m.n_head = m.n_kv_head = c.n_head;
  m.d_head = c.d_head;
  m.d_mlp = c.d_mlp;
  m.vocab_size = c.vocab_size;
  m.n_positions = c.n_positions;
  m.bos_token_id = c.bos_token_id;
  m.eos_token_id = c.eos_token_id;
  m.prepend_bos = true;
  m.layer_norm = true;
  return m;
}

}  // namespace saescope::model
