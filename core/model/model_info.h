#pragma once
// What every part of SAEScope outside core/model may know of a language model:
// its shape, its special tokens and its family's BOS rule. Read from
// config.json by the family's loader (model_registry.h); no LibTorch here.
#include <cstdint>
#include <string>

namespace saescope::model {

struct ModelInfo {
  std::string name;          // config.json's _name_or_path, else the folder's name
  std::string family;        // the registry key it was loaded under: "gpt2", "gpt_neox", "llama", ...
  std::string model_type;    // config.json's model_type as written ("qwen2", "gemma3_text", ...)
  int64_t n_layer = 0;
  int64_t d_model = 0;
  int64_t n_head = 0;
  int64_t n_kv_head = 0;     // grouped-query attention: heads of hook_k / hook_v
  int64_t d_head = 0;
  int64_t d_mlp = 0;
  int64_t vocab_size = 0;
  int64_t n_positions = 0;   // the longest context the model takes
  int64_t bos_token_id = -1; // -1: the model has none
  int64_t eos_token_id = -1;
  // TransformerLens's default for the family: Gemma and Llama prepend BOS,
  // Pythia and Qwen do not; GPT-2 does (its <|endoftext|>).
  bool prepend_bos = true;
  // LayerNorm with a mean (GPT-2, NeoX): centring the writing weights is
  // meaningful; RMSNorm families keep the mean.
  bool layer_norm = true;
  bool parallel_residual = false;  // attention and MLP read the same residual (no resid_mid)
};

}  // namespace saescope::model
