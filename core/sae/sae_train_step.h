#pragma once
// One training step's loss and gradients, with the backward pass written out
// by hand (no autograd): five GEMMs per step instead of autograd's six (the
// input-side gradient of b_dec is a matrix-vector product), and no graph.
// Losses as SAELens 6 computes them (x' = x − b_dec when apply_b_dec_to_input):
// mse = Σ_d (x̂ − x)² averaged over tokens, plus each architecture's own
// terms, written in its file in core/sae/arch/ (standard.cpp, topk.cpp,
// batchtopk.cpp, matryoshka_batchtopk.cpp, jumprelu.cpp, gated.cpp).
// tests/test_sae_training.cpp checks the gradients against ATen autograd.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "core/sae/sae.h"

namespace saescope::sae {

enum class JumpReluSparsity { Step, Tanh };  // SAELens's jumprelu_sparsity_loss_mode

// The trained tensors of `p` that are defined, always in the order W_enc,
// b_enc, W_dec, b_dec, log_threshold, b_gate, r_mag, b_mag, W_skip (handles:
// they share storage with p). threshold is inference's, not trained.
std::vector<at::Tensor> defined_tensors(const SaeWeights& p);

struct StepSettings {
  Architecture architecture = Architecture::Standard;
  bool apply_b_dec_to_input = true;
  double l1_coefficient = 0;      // standard, gated
  double l0_coefficient = 0;      // jumprelu
  double jumprelu_bandwidth = 0.05;  // jumprelu: ε of the rectangle kernel
  JumpReluSparsity jumprelu_sparsity = JumpReluSparsity::Step;
  double jumprelu_tanh_scale = 4.0;     // c of the tanh mode (SAELens default)
  double pre_act_loss_coefficient = 0;  // jumprelu, λ_p; 0: off (needs dead_mask)
  int64_t k = 0;               // topk: per token; batchtopk: mean per token
  std::vector<int64_t> matryoshka_widths;  // matryoshka_batchtopk: inner level widths
  // [d_sae] bool, or undefined: no AuxK (topk / batchtopk) / no pre-act loss (jumprelu)
  at::Tensor dead_mask;
  double aux_coefficient = 1;  // topk / batchtopk
  bool bf16_matmul = false;    // CUDA: GEMMs in bfloat16, everything else float32
  // Transcoders: what x̂ must match, [n, d_out] (undefined: x itself, an SAE).
  // A skip transcoder (W_skip defined in the parameters) adds x·W_skipᵀ to x̂.
  at::Tensor target;
};

struct StepResult {
  // 0-dim float tensors on the device (no sync). l1 is the sparsity penalty
  // (L1 for standard and gated, L0 or tanh for jumprelu); aux is AuxK (topk,
  // batchtopk) plus matryoshka's inner-level losses, jumprelu's pre-act loss
  // or gated's auxiliary reconstruction loss.
  at::Tensor loss, mse, l1, aux;
  at::Tensor features;            // [n, d_sae]
  SaeWeights grad;                // gradients, same shapes as the (defined) parameters
};

StepResult sae_loss_and_grads(const SaeWeights& p, const at::Tensor& x, const StepSettings& s);

}  // namespace saescope::sae
