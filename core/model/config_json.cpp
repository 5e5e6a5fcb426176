#include "core/model/config_json.h"

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/common/json_file.h"
#include "core/model/transformer_ops.h"

namespace saescope::model {

using nlohmann::json;

ConfigJson::ConfigJson(std::string path, std::string prefix, std::shared_ptr<const json> j)
    : path_(std::move(path)), prefix_(std::move(prefix)), j_(std::move(j)) {}

ConfigJson ConfigJson::read(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InputError(path + ": a folder, not a config.json file");
  if (!std::filesystem::exists(path, ec))
    throw InputError(path + ": cannot open the file (a model folder must hold config.json)");
  auto j = std::make_shared<json>(read_json_file(path));
  if (!j->is_object()) throw InputError(path + ": not a JSON object");
  return ConfigJson(path, "", j);
}

ConfigJson ConfigJson::sub(const std::string& key) const {
  if (!has(key) || !j_->at(key).is_object()) fail("field '" + field(key) + "' must be an object");
  return ConfigJson(path_, prefix_ + key + ".",
                    std::shared_ptr<const json>(j_, &j_->at(key)));  // aliases the parent's JSON
}

void ConfigJson::fail(const std::string& what) const { throw InputError(path_ + ": " + what); }

bool ConfigJson::has(const std::string& key) const { return j_->contains(key) && !j_->at(key).is_null(); }

int64_t ConfigJson::positive_int(std::initializer_list<const char*> keys) const {
  for (const char* key : keys) {
    if (!has(key)) continue;
    const json& v = j_->at(key);
    if (!v.is_number_integer() || v.get<int64_t>() <= 0)
      fail("field '" + field(key) + "' must be a positive integer, got " + v.dump());
    return v.get<int64_t>();
  }
  std::string names;
  for (const char* key : keys) names += (names.empty() ? "'" : " or '") + field(key) + "'";
  fail("field " + names + " is missing");
}

int64_t ConfigJson::optional_int(const char* key, int64_t fallback) const {
  if (!has(key)) return fallback;
  const json& v = j_->at(key);
  // Some configs list several EOS ids: the first is the one generation stops at.
  if (v.is_array() && !v.empty() && v.front().is_number_integer()) return v.front().get<int64_t>();
  if (!v.is_number_integer()) fail("field '" + field(key) + "' must be an integer, got " + v.dump());
  return v.get<int64_t>();
}

double ConfigJson::optional_number(const char* key, double fallback) const {
  if (!has(key)) return fallback;
  const json& v = j_->at(key);
  if (!v.is_number() || !std::isfinite(v.get<double>()))
    fail("field '" + field(key) + "' must be a number, got " + v.dump());
  return v.get<double>();
}

double ConfigJson::positive_number(const char* key, double fallback) const {
  const double x = optional_number(key, fallback);
  if (!(x > 0)) fail("field '" + field(key) + "' must be a positive number, got " + j_->at(key).dump());
  return x;
}

bool ConfigJson::optional_bool(const char* key, bool fallback) const {
  if (!has(key)) return fallback;
  const json& v = j_->at(key);
  if (!v.is_boolean()) fail("field '" + field(key) + "' must be true or false, got " + v.dump());
  return v.get<bool>();
}

std::string ConfigJson::optional_string(const char* key, const std::string& fallback) const {
  if (!has(key)) return fallback;
  const json& v = j_->at(key);
  if (!v.is_string()) fail("field '" + field(key) + "' must be a string, got " + v.dump());
  return v.get<std::string>();
}

// rope_scaling: null, or {"rope_type" (older files: "type"): "default" |
// "linear" | "llama3", "factor", ...}; shared with Gemma 3 (gemma/).
RopeSpec read_rope_scaling(const ConfigJson& j, RopeSpec rope, bool allow_llama3) {
  if (!j.has("rope_scaling")) return rope;
  const ConfigJson s = j.sub("rope_scaling");
  const std::string type = s.has("rope_type") ? s.optional_string("rope_type", "") : s.optional_string("type", "");
  if (type == "default") return rope;
  if (type == "linear") {
    rope.scaling = "linear";
    rope.factor = s.positive_number("factor", 1.0);
  } else if (type == "llama3" && allow_llama3) {
    rope.scaling = "llama3";
    rope.factor = s.positive_number("factor", 8.0);
    rope.low_freq_factor = s.positive_number("low_freq_factor", 1.0);
    rope.high_freq_factor = s.positive_number("high_freq_factor", 4.0);
    rope.original_max_positions = s.positive_int({"original_max_position_embeddings"});
    if (!(rope.high_freq_factor > rope.low_freq_factor))
      s.fail("rope_scaling.high_freq_factor must exceed low_freq_factor");
  } else {
    s.fail("rope_scaling type '" + type + "' is not supported (default, linear" +
           std::string(allow_llama3 ? ", llama3" : "") + ")");
  }
  return rope;
}

}  // namespace saescope::model
