#pragma once
// The shape of a GPT-2 model, read from a Hugging Face `config.json`
// (format: ../shared/docs/formats.md). Only what the forward pass needs.
#include <cstdint>
#include <string>

#include "core/model/model_info.h"
#include "core/model/transformer_ops.h"

namespace saescope::model {

struct Gpt2Config {
  int64_t n_layer = 12;
  int64_t d_model = 768;        // n_embd
  int64_t n_head = 12;
  int64_t d_head = 64;          // d_model / n_head
  int64_t d_mlp = 3072;         // n_inner, null -> 4 * d_model
  int64_t n_positions = 1024;   // n_positions, older files: n_ctx
  int64_t vocab_size = 50257;
  double layer_norm_eps = 1e-5;
  Activation activation = Activation::GeluTanh;  // "gelu_new"
  bool scale_attn_weights = true;                // scores / sqrt(d_head)
  bool scale_attn_by_inverse_layer_idx = false;  // scores / (layer + 1) too
  int64_t bos_token_id = 50256;
  int64_t eos_token_id = 50256;
};

// Reads and validates `path` (a config.json); InputError names the file and field.
Gpt2Config load_gpt2_config(const std::string& path);

// The summary the rest of SAEScope sees (model_info.h).
ModelInfo gpt2_info(const Gpt2Config& config, const std::string& name = "gpt2");

// GPT-2 small (124M): the shape the benchmarks use.
Gpt2Config gpt2_small_config();

}  // namespace saescope::model
