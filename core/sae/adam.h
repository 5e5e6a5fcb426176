#pragma once
// Adam, written with ATen ops (no torch::optim): the same update as
// torch.optim.Adam without weight decay or amsgrad, on tensors we own.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace saescope::sae {

struct AdamOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

class Adam {
 public:
  Adam(std::vector<at::Tensor> params, AdamOptions options = {});
  // Updates the parameters in place from `grads` (same order and shapes).
  void step(const std::vector<at::Tensor>& grads, double lr);
  int64_t steps() const { return t_; }

 private:
  std::vector<at::Tensor> params_, m_, v_;
  AdamOptions o_;
  int64_t t_ = 0;
};

// Scales `grads` in place so their joint L2 norm is at most `max_norm`, as
// torch.nn.utils.clip_grad_norm_ (which SAELens applies with 1.0). No sync.
void clip_grad_norm(const std::vector<at::Tensor>& grads, double max_norm);

}  // namespace saescope::sae
