#pragma once
// Reading a Hugging Face config.json: typed fields with errors that name the
// file and the field, shared by every family's config reader.
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json_fwd.hpp>
#include <memory>
#include <string>

namespace saescope::model {

class ConfigJson {
 public:
  // Parses `path`; InputError naming it when it cannot be read or is not an object.
  static ConfigJson read(const std::string& path);
  // A nested object (Gemma 3's text_config), reported as "path: text_config.field".
  ConfigJson sub(const std::string& key) const;
  ConfigJson(std::string path, std::string prefix, std::shared_ptr<const nlohmann::json> j);

  const std::string& path() const { return path_; }
  bool has(const std::string& key) const;  // present and not null
  const nlohmann::json& raw() const { return *j_; }

  // The first of `keys` present; InputError naming them all when none is.
  int64_t positive_int(std::initializer_list<const char*> keys) const;
  int64_t optional_int(const char* key, int64_t fallback) const;
  double positive_number(const char* key, double fallback) const;
  double optional_number(const char* key, double fallback) const;  // any finite number
  bool optional_bool(const char* key, bool fallback) const;
  std::string optional_string(const char* key, const std::string& fallback) const;

  [[noreturn]] void fail(const std::string& what) const;
  std::string field(const std::string& key) const { return prefix_ + key; }

 private:
  std::string path_, prefix_;
  std::shared_ptr<const nlohmann::json> j_;
};

struct RopeSpec;
// rope_scaling: null, or {"rope_type" (older files: "type"): "default" |
// "linear" | "llama3", "factor", ...}, applied to `rope`.
RopeSpec read_rope_scaling(const ConfigJson& config, RopeSpec rope, bool allow_llama3);

}  // namespace saescope::model
