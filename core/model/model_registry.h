#pragma once
// Which family reads a Hugging Face model folder: config.json's model_type,
// looked up in one table (model_registry.cpp). Adding a family is one folder
// under core/model and one line there (core/model/README.md).
#include <memory>
#include <string>
#include <vector>

#include "core/model/language_model.h"
#include "core/model/model_info.h"
#include "core/model/model_options.h"

namespace saescope::model {

// Loads the model in `dir` (config.json + safetensors weights). InputError
// names the file at fault; an unknown model_type lists the supported ones.
std::shared_ptr<const LanguageModel> load_language_model(const std::string& dir,
                                                         const ModelOptions& options = {});

// config.json alone, validated as the loader would: no weights read.
ModelInfo read_model_info(const std::string& dir);

// The hook schema of the model in `dir`, from config.json alone.
HookSchema read_hook_schema(const std::string& dir);

// config.json model_type values that load, in the table's order.
std::vector<std::string> supported_model_types();

}  // namespace saescope::model
