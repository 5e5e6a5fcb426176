#pragma once
// What a family folder gives the registry: reading its config.json into a
// ModelInfo, its hook schema, and loading its weights. Internal to core/model.
#include <functional>
#include <memory>
#include <string>

#include "core/model/checkpoint_reader.h"
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

// The Family of a model class constructed as Model(config, info, checkpoint,
// options) from a config `read` from config.json: what NeoX, Llama and Gemma share.
// (Pass lambdas as +[](...) {...}: deduction does not convert them.)
template <typename Model, typename Config>
Family family_of(Config (*read)(const ConfigJson&), ModelInfo (*info_of)(const Config&),
                 HookSchema (*schema_of)(const ModelInfo&, const Config&)) {
  Family f;
  f.read_info = [=](const ConfigJson& config) { return info_of(read(config)); };
  f.hook_schema = [=](const ModelInfo& info, const ConfigJson& config) { return schema_of(info, read(config)); };
  f.load = [=](const std::string& dir, const ConfigJson& config, const ModelInfo& info,
               const ModelOptions& options) -> std::shared_ptr<const LanguageModel> {
    return std::make_shared<const Model>(read(config), info, checkpoint_in(dir), options);
  };
  return f;
}

struct FamilyEntry {
  std::string model_type;
  Family family;
};

Family gpt2_family();      // gpt2/
Family gpt_neox_family();  // gpt_neox/
Family llama_family();     // llama/: llama, qwen2, qwen3
Family gemma_family();     // gemma/: gemma2, gemma3_text, gemma3

}  // namespace saescope::model
