#pragma once
// GPT-2's parameters, named for what they do in the forward pass. Matrices keep
// the Hugging Face "Conv1D" layout [in, out] (y = x·W + b), which is already
// the layout at::addmm wants, so float32 weights loaded for the CPU stay views
// of the memory-mapped checkpoint: loading copies nothing.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/model/gpt2/gpt2_config.h"

namespace saescope::model {

struct Gpt2BlockWeights {
  at::Tensor ln1_gain, ln1_bias;               // [d]
  at::Tensor qkv_weight, qkv_bias;             // [d, 3d], [3d]: output columns Q | K | V
  at::Tensor attn_out_weight, attn_out_bias;   // [d, d], [d]
  at::Tensor ln2_gain, ln2_bias;               // [d]
  at::Tensor mlp_in_weight, mlp_in_bias;       // [d, d_mlp], [d_mlp]
  at::Tensor mlp_out_weight, mlp_out_bias;     // [d_mlp, d], [d]
};

struct Gpt2Weights {
  at::Tensor token_embed;                      // wte [vocab, d]
  at::Tensor pos_embed;                        // wpe [n_positions, d]
  std::vector<Gpt2BlockWeights> blocks;
  at::Tensor ln_final_gain, ln_final_bias;     // [d]
  at::Tensor unembed;                          // [vocab, d]: wte (tied), never centred
};

// Reads the HF layout from a .safetensors file, an index .json or a folder
// holding either (sharded checkpoints). Names may carry a `transformer.`
// prefix; attention-mask buffers and `lm_head.weight` are ignored. F32, F16
// and BF16 are converted to `dtype` on `device`. InputError names the file
// and the tensor that is missing or has the wrong shape or dtype.
Gpt2Weights load_gpt2_weights(const std::string& checkpoint, const Gpt2Config& config,
                              c10::Device device, at::ScalarType dtype);

// TransformerLens's center_writing_weights: every weight (and bias) that
// writes into the residual stream -- wte, wpe, attention and MLP output
// projections -- gets its mean over d_model subtracted, so the residual
// stream is mean-zero per token. Every LayerNorm removes that mean anyway, so
// all later reads, and the logits, are unchanged. The unembedding keeps the
// original wte: centring it would change the logits.
void center_writing_weights(Gpt2Weights& weights);

// TransformerLens's fold_value_biases: each layer's value bias moves into the
// attention output's bias (b_O + b_V·W_O; attention rows sum to 1), so
// hook_v and hook_z lose it and everything after attention is unchanged.
void fold_value_biases(Gpt2Weights& weights);

// GPT-2's initialisation (std 0.02, output projections 0.02/sqrt(2·n_layer),
// zero biases, unit gains) in float32 on the CPU: benchmarks and tests.
Gpt2Weights random_gpt2_weights(const Gpt2Config& config, uint64_t seed);

// The weights under their Hugging Face names, for writing a checkpoint.
// Meaningful for uncentred weights only (wte is written once, as the tie).
std::vector<std::pair<std::string, at::Tensor>> hf_named_tensors(const Gpt2Weights& weights);

}  // namespace saescope::model
