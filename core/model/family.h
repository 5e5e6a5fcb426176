#pragma once
// What a family folder gives the registry: reading its config.json into a
// ModelInfo, its hook schema, and loading its weights. Internal to core/model.
#include <functional>
#include <memory>
#include <string>

#include "core/model/language_model.h"

namespace saescope::model {

class ConfigJson;

struct Family {
  std::function<ModelInfo(const ConfigJson& config)> read_info;
  std::function<HookSchema(const ModelInfo& info, const ConfigJson& config)> hook_schema;
  std::function<std::shared_ptr<const LanguageModel>(const std::string& dir, const ConfigJson& config,
                                                     const ModelInfo& info, const ModelOptions& options)>
      load;
};

struct FamilyEntry {
  std::string model_type;
  Family family;
};

Family gpt2_family();      // gpt2/
Family gpt_neox_family();  // gpt_neox/
Family llama_family();     // llama/: llama, qwen2, qwen3
Family gemma_family();     // gemma/: gemma2, gemma3_text, gemma3

}  // namespace saescope::model
