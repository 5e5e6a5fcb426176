#pragma once
// One training step's loss and gradients, with the backward pass written out
// by hand (no autograd): five GEMMs per step instead of autograd's six (the
// input-side gradient of b_dec is a matrix-vector product), and no graph.
// Losses as SAELens 6 computes them (x' = x − b_dec when apply_b_dec_to_input):
//   mse  = Σ_d (x̂ − x)² averaged over tokens
//   standard:      + λ · Σ_j f_j · ‖W_dec[j]‖, averaged over tokens
//   topk/batchtopk: + AuxK: the k_aux = d_in/2 largest dead pre-activations
//                   reconstruct the residual x − x̂ (detached), weighted by
//                   min(n_dead / k_aux, 1) · aux_coefficient
//   jumprelu (JumpReLUTrainingSAE, sparsity mode "step"): pre = x'W_enc + b_enc,
//                   θ = exp(log_threshold), f = pre·H(pre − θ);
//                   + λ₀ · Σ_j H(pre_j − θ_j), averaged over tokens (no decoder
//                   norm: SAELens's "step" mode leaves it out). H has no
//                   gradient to pre; to θ it has the straight-through estimate
//                   ∂H/∂θ ≈ −(1/ε)·rect((pre − θ)/ε), and ∂f/∂θ ≈ −(θ/ε)·rect(...),
//                   rect(u) = [−½ < u < ½], ε the bandwidth; ∂f/∂pre = H(pre − θ).
//                 sparsity mode "tanh" (Anthropic, Jan 2025; SAELens 6.11): the
//                   penalty is λ₀ · Σ_j tanh(c·f_j·‖W_dec[j]‖), averaged over
//                   tokens, c the tanh scale; its gradient reaches θ through f's
//                   straight-through estimate, also where f = 0.
//                 pre-act loss (optional, either mode): + λ_p · Σ_j dead_j ·
//                   ReLU(θ_j − pre_j) · ‖W_dec[j]‖, averaged over tokens, only for
//                   dead features (as SAELens): pulls their pre-activations up
//                   to the threshold. Reported in aux.
//   gated (GatedTrainingSAE): π_gate = x'W_enc + b_gate,
//                   π_mag = x'(W_enc ⊙ exp(r_mag)) + b_mag,
//                   f = [π_gate > 0]·ReLU(π_mag) (no gradient through the gate);
//                   + λ · Σ_j ReLU(π_gate)_j·‖W_dec[j]‖, averaged over tokens
//                   + Σ_d (ReLU(π_gate)·W_dec + b_dec − x)², averaged over tokens
//                     (SAELens does not detach W_dec / b_dec here: both train
//                     through this term too)
// tests/test_sae_training.cpp checks the gradients against ATen autograd.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace saescope::sae {

enum class TrainArchitecture { Standard, TopK, BatchTopK, JumpReLU, Gated };
enum class JumpReluSparsity { Step, Tanh };  // SAELens's jumprelu_sparsity_loss_mode

struct TrainParams {
  at::Tensor W_enc;  // [d_in, d_sae]
  at::Tensor b_enc;  // [d_sae]   all but gated
  at::Tensor W_dec;  // [d_sae, d_in]
  at::Tensor b_dec;  // [d_in]
  at::Tensor log_threshold;  // [d_sae]  jumprelu: θ = exp(log_threshold)
  at::Tensor b_gate;         // [d_sae]  gated
  at::Tensor r_mag;          // [d_sae]  gated
  at::Tensor b_mag;          // [d_sae]  gated
};

// The defined tensors of `p`, always in the order W_enc, b_enc, W_dec, b_dec,
// log_threshold, b_gate, r_mag, b_mag (handles: they share storage with p).
std::vector<at::Tensor> defined_tensors(const TrainParams& p);

struct StepSettings {
  TrainArchitecture architecture = TrainArchitecture::Standard;
  bool apply_b_dec_to_input = true;
  double l1_coefficient = 0;      // standard, gated
  double l0_coefficient = 0;      // jumprelu
  double jumprelu_bandwidth = 0.05;  // jumprelu: ε of the rectangle kernel
  JumpReluSparsity jumprelu_sparsity = JumpReluSparsity::Step;
  double jumprelu_tanh_scale = 4.0;     // c of the tanh mode (SAELens default)
  double pre_act_loss_coefficient = 0;  // jumprelu, λ_p; 0: off (needs dead_mask)
  int64_t k = 0;               // topk: per token; batchtopk: mean per token
  // [d_sae] bool, or undefined: no AuxK (topk / batchtopk) / no pre-act loss (jumprelu)
  at::Tensor dead_mask;
  double aux_coefficient = 1;  // topk / batchtopk
  bool bf16_matmul = false;    // CUDA: GEMMs in bfloat16, everything else float32
};

struct StepResult {
  // 0-dim float tensors on the device (no sync). l1 is the sparsity penalty
  // (L1 for standard and gated, L0 or tanh for jumprelu); aux is AuxK (topk,
  // batchtopk), jumprelu's pre-act loss or gated's auxiliary reconstruction loss.
  at::Tensor loss, mse, l1, aux;
  at::Tensor features;            // [n, d_sae]
  TrainParams grad;               // gradients, same shapes as the (defined) parameters
};

StepResult sae_loss_and_grads(const TrainParams& p, const at::Tensor& x, const StepSettings& s);

}  // namespace saescope::sae
