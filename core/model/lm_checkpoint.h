#pragma once
// What language-model training leaves in its output folder:
//
//   config.json, model.safetensors    the model in the Hugging Face GPT-2
//                                     layout (Gpt2::load reads it as it reads
//                                     a downloaded GPT-2)
//   vocab.json, merges.txt, ...       the tokenizer's files, with its licence
//   training_state.safetensors        float32 master weights and AdamW moments:
//                                     what --resume continues from
//   training.json                     settings, step, loss history
//
// Every file is replaced atomically (temp file + rename), so a run killed
// while saving leaves the previous checkpoint readable.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/model/gpt2/gpt2_config.h"
#include "core/model/gpt2/gpt2_weights.h"

namespace saescope::model {

// config.json as Hugging Face's GPT2Config writes it (dropout 0: trained
// without), `torch_dtype` naming the weights' dtype.
nlohmann::json hf_gpt2_config_json(const Gpt2Config& config, at::ScalarType dtype);

// config.json + model.safetensors (weights converted to `dtype`) into `dir`.
void save_hf_gpt2(const std::string& dir, const Gpt2Config& config, const Gpt2Weights& weights,
                  at::ScalarType dtype);

// Copies the tokenizer files `tokenizer_dir` holds (vocab.json, merges.txt,
// tokenizer.json, tokenizer_config.json, special_tokens_map.json) into
// `out_dir`, with their licence: GPT-2's own files (recognised by hash) get
// OpenAI's notice as TOKENIZER_LICENSE.txt; otherwise LICENSE*, NOTICE* and
// COPYING* files beside them are copied. Returns the names written.
std::vector<std::string> copy_tokenizer_files(const std::string& tokenizer_dir,
                                              const std::string& out_dir);

// OpenAI's licence of GPT-2's tokenizer files (Modified MIT).
const char* gpt2_tokenizer_licence();

struct LmTrainingState {
  int64_t step = 0;                                        // optimizer steps taken
  std::vector<std::pair<std::string, at::Tensor>> params;  // HF names, float32
  std::vector<at::Tensor> first_moments, second_moments;   // parameter order
  nlohmann::json info;  // settings and history, also written to training.json
};

// training_state.safetensors: tensors "param/NAME", "adam_m/NAME",
// "adam_v/NAME"; metadata "step" and "info" (JSON).
void save_training_state(const std::string& path, const LmTrainingState& state);

// Reads what save_training_state wrote; `names` are the parameters expected
// (in order). InputError naming the file and tensor when one is missing or
// its metadata is unreadable.
LmTrainingState load_training_state(const std::string& path, const std::vector<std::string>& names);

}  // namespace saescope::model
