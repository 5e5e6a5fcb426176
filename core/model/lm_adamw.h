#pragma once
// AdamW (Loshchilov & Hutter), written with ATen ops: the same update as
// torch.optim.AdamW (decoupled weight decay, bias-corrected moments), with
// its state in plain tensors so a checkpoint can save and restore it.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace saescope::model {

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.1;  // only on parameters marked for decay
};

class AdamW {
 public:
  // `decay[i]`: whether params[i] gets weight decay (matrices yes; biases,
  // LayerNorm gains no, as in GPT-2 training recipes).
  AdamW(std::vector<at::Tensor> params, std::vector<bool> decay, AdamWOptions options = {});

  // Updates the parameters in place from their .grad(); a parameter with no
  // gradient is left alone (its moments too).
  void step(double lr);

  int64_t steps() const { return t_; }
  // State, for checkpoints: moments in parameter order and the step count.
  const std::vector<at::Tensor>& first_moments() const { return m_; }
  const std::vector<at::Tensor>& second_moments() const { return v_; }
  // Restores saved state (copied into the existing tensors). InternalError
  // when the shapes differ from the parameters'.
  void restore(const std::vector<at::Tensor>& m, const std::vector<at::Tensor>& v, int64_t steps);

 private:
  std::vector<at::Tensor> params_, m_, v_;
  std::vector<bool> decay_;
  AdamWOptions o_;
  int64_t t_ = 0;
};

// Scales every .grad() so their joint L2 norm is at most `max_norm`, as
// torch.nn.utils.clip_grad_norm_; returns the norm before clipping.
double clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm);

}  // namespace saescope::model
