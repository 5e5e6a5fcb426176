#include "core/model/model_registry.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/model/config_json.h"
#include "core/model/family.h"

namespace saescope::model {
namespace {

// The families, keyed on config.json's model_type.
const std::vector<FamilyEntry>& families() {
  static const std::vector<FamilyEntry> table = {
      {"gpt2", gpt2_family()},
      {"gpt_neox", gpt_neox_family()},
      {"llama", llama_family()},
      {"qwen2", llama_family()},
      {"qwen3", llama_family()},
      {"gemma2", gemma_family()},
      {"gemma3_text", gemma_family()},
      {"gemma3", gemma_family()},  // multimodal checkpoints: the text model
  };
  return table;
}

struct Opened {
  std::string config_path;
  ConfigJson config;
  const FamilyEntry* entry;
};

Opened open_folder(const std::string& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir))
    throw InputError(dir + ": not a folder (a Hugging Face model is a folder holding config.json "
                           "and model.safetensors)");
  const std::string path = (fs::path(dir) / "config.json").string();
  if (!fs::exists(path))
    throw InputError(dir + ": config.json is missing (a Hugging Face model folder holds "
                           "config.json and model.safetensors)");
  ConfigJson config = ConfigJson::read(path);
  const std::string type = config.optional_string("model_type", "");
  for (const FamilyEntry& e : families())
    if (type == e.model_type) return {path, config, &e};
  std::string known;
  for (const std::string& t : supported_model_types()) known += (known.empty() ? "" : ", ") + t;
  throw InputError(path + ": model_type '" + type + "' is not supported; supported: " + known);
}

std::string display_name(const std::string& dir, const ConfigJson& config) {
  const std::string given = config.has("_name_or_path") && config.raw().at("_name_or_path").is_string()
                                ? config.raw().at("_name_or_path").get<std::string>()
                                : "";
  if (!given.empty()) return std::filesystem::path(given).filename().string();
  // A folder called "model" says nothing: its parent names it (demo/model -> demo).
  std::filesystem::path folder = std::filesystem::absolute(dir).lexically_normal();
  if (folder.filename().empty()) folder = folder.parent_path();
  if (folder.filename() == "model" && !folder.parent_path().filename().empty())
    return folder.parent_path().filename().string();
  return folder.filename().string();
}

ModelInfo info_of(const std::string& dir, const Opened& o) {
  ModelInfo info = o.entry->family.read_info(o.config);
  info.name = display_name(dir, o.config);
  return info;
}

}  // namespace

std::shared_ptr<const LanguageModel> load_language_model(const std::string& dir, const ModelOptions& options) {
  const Opened o = open_folder(dir);
  return o.entry->family.load(dir, o.config, info_of(dir, o), options);
}

ModelInfo read_model_info(const std::string& dir) { return info_of(dir, open_folder(dir)); }

HookSchema read_hook_schema(const std::string& dir) {
  const Opened o = open_folder(dir);
  return o.entry->family.hook_schema(info_of(dir, o), o.config);
}

std::vector<std::string> supported_model_types() {
  std::vector<std::string> out;
  for (const FamilyEntry& e : families()) out.push_back(e.model_type);
  return out;
}

}  // namespace saescope::model
