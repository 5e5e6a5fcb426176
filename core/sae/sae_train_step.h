#pragma once
// One training step's loss and gradients, with the backward pass written out
// by hand (no autograd): five GEMMs per step instead of autograd's six (the
// input-side gradient of b_dec is a matrix-vector product), and no graph.
// Losses as SAELens computes them:
//   mse  = Σ_d (x̂ − x)² averaged over tokens
//   standard:      + λ · Σ_j f_j · ‖W_dec[j]‖, averaged over tokens
//   topk/batchtopk: + AuxK: the k_aux = d_in/2 largest dead pre-activations
//                   reconstruct the residual x − x̂ (detached), weighted by
//                   min(n_dead / k_aux, 1) · aux_coefficient
// tests/test_sae_training.cpp checks the gradients against ATen autograd.
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace saescope::sae {

enum class TrainArchitecture { Standard, TopK, BatchTopK };

struct TrainParams {
  at::Tensor W_enc;  // [d_in, d_sae]
  at::Tensor b_enc;  // [d_sae]
  at::Tensor W_dec;  // [d_sae, d_in]
  at::Tensor b_dec;  // [d_in]
};

struct StepSettings {
  TrainArchitecture architecture = TrainArchitecture::Standard;
  bool apply_b_dec_to_input = true;
  double l1_coefficient = 0;   // standard
  int64_t k = 0;               // topk: per token; batchtopk: mean per token
  at::Tensor dead_mask;        // [d_sae] bool, or undefined: no AuxK
  double aux_coefficient = 1;  // topk / batchtopk
  bool bf16_matmul = false;    // CUDA: GEMMs in bfloat16, everything else float32
};

struct StepResult {
  at::Tensor loss, mse, l1, aux;  // 0-dim float tensors on the device (no sync)
  at::Tensor features;            // [n, d_sae]
  TrainParams grad;               // gradients, same shapes as the parameters
};

StepResult sae_loss_and_grads(const TrainParams& p, const at::Tensor& x, const StepSettings& s);

}  // namespace saescope::sae
