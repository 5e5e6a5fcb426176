#include "core/model/lm_adamw.h"

#include <ATen/ATen.h>

#include <cmath>

#include "core/common/error.h"

namespace saescope::model {

AdamW::AdamW(std::vector<at::Tensor> params, std::vector<bool> decay, AdamWOptions options)
    : params_(std::move(params)), decay_(std::move(decay)), o_(options) {
  if (decay_.size() != params_.size()) throw InternalError("AdamW: one decay flag per parameter");
  for (const auto& p : params_) {
    m_.push_back(at::zeros_like(p, at::MemoryFormat::Contiguous));
    v_.push_back(at::zeros_like(p, at::MemoryFormat::Contiguous));
  }
}

void AdamW::step(double lr) {
  at::NoGradGuard no_grad;
  ++t_;
  const double bc1 = 1.0 - std::pow(o_.beta1, static_cast<double>(t_));
  const double sqrt_bc2 = std::sqrt(1.0 - std::pow(o_.beta2, static_cast<double>(t_)));
  for (size_t i = 0; i < params_.size(); ++i) {
    at::Tensor& p = params_[i];
    const at::Tensor g = p.grad();
    if (!g.defined()) continue;
    if (decay_[i] && o_.weight_decay > 0) p.mul_(1.0 - lr * o_.weight_decay);
    m_[i].mul_(o_.beta1).add_(g, 1.0 - o_.beta1);
    v_[i].mul_(o_.beta2).addcmul_(g, g, 1.0 - o_.beta2);
    const at::Tensor denom = v_[i].sqrt().div_(sqrt_bc2).add_(o_.eps);
    p.addcdiv_(m_[i], denom, -lr / bc1);
  }
}

void AdamW::restore(const std::vector<at::Tensor>& m, const std::vector<at::Tensor>& v,
                    int64_t steps) {
  if (m.size() != m_.size() || v.size() != v_.size())
    throw InternalError("AdamW::restore: wrong number of moments");
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < m_.size(); ++i) {
    if (!m[i].sizes().equals(m_[i].sizes()) || !v[i].sizes().equals(v_[i].sizes()))
      throw InternalError("AdamW::restore: moment " + std::to_string(i) + " has the wrong shape");
    m_[i].copy_(m[i]);
    v_[i].copy_(v[i]);
  }
  t_ = steps;
}

double clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> grads;
  for (const auto& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return 0;
  double squares = 0;
  for (const auto& g : grads) {
    const double n = g.norm().item<double>();
    squares += n * n;
  }
  const double norm = std::sqrt(squares);
  if (max_norm > 0 && norm > max_norm)
    for (auto& g : grads) g.mul_(max_norm / (norm + 1e-6));
  return norm;
}

}  // namespace saescope::model
