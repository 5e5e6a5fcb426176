#include "core/sae/adam.h"

#include <ATen/ATen.h>

#include <cmath>

#include "core/common/error.h"

namespace saescope::sae {

Adam::Adam(std::vector<at::Tensor> params, AdamOptions options)
    : params_(std::move(params)), o_(options) {
  for (const auto& p : params_) {
    m_.push_back(at::zeros_like(p));
    v_.push_back(at::zeros_like(p));
  }
}

void Adam::step(const std::vector<at::Tensor>& grads, double lr) {
  if (grads.size() != params_.size()) throw InternalError("Adam::step: wrong number of grads");
  ++t_;
  const double bc1 = 1.0 - std::pow(o_.beta1, static_cast<double>(t_));
  const double bc2 = 1.0 - std::pow(o_.beta2, static_cast<double>(t_));
  const double sqrt_bc2 = std::sqrt(bc2);
  for (size_t i = 0; i < params_.size(); ++i) {
    const at::Tensor& g = grads[i];
    m_[i].mul_(o_.beta1).add_(g, 1.0 - o_.beta1);
    v_[i].mul_(o_.beta2).addcmul_(g, g, 1.0 - o_.beta2);
    at::Tensor denom = v_[i].sqrt().div_(sqrt_bc2).add_(o_.eps);
    params_[i].addcdiv_(m_[i], denom, -lr / bc1);
  }
}

void clip_grad_norm(const std::vector<at::Tensor>& grads, double max_norm) {
  if (max_norm <= 0 || grads.empty()) return;
  at::Tensor total = at::zeros({}, grads[0].options());
  for (const auto& g : grads) total = total + g.square().sum();
  const at::Tensor coef = (max_norm / (total.sqrt() + 1e-6)).clamp_max(1.0);
  for (const auto& g : grads) g.mul_(coef);
}

}  // namespace saescope::sae
