#include "core/sae/sae_train_step.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <limits>

#include "core/common/error.h"

namespace saescope::sae {
namespace {

// a·b, in bfloat16 when asked (our hand-written autocast), result in float32.
at::Tensor mm(const at::Tensor& a, const at::Tensor& b, bool bf16) {
  if (!bf16) return at::mm(a, b);
  return at::mm(a.to(at::kBFloat16), b.to(at::kBFloat16)).to(at::kFloat);
}

at::Tensor addmm(const at::Tensor& bias, const at::Tensor& a, const at::Tensor& b, bool bf16) {
  if (!bf16) return at::addmm(bias, a, b);
  return mm(a, b, true).add_(bias);
}

// Features from pre-activations, per architecture.
at::Tensor activate(const at::Tensor& pre, const StepSettings& s) {
  switch (s.architecture) {
    case TrainArchitecture::Standard:
      return at::relu(pre);
    case TrainArchitecture::TopK: {
      auto top = pre.topk(s.k, -1);
      return at::zeros_like(pre).scatter_(-1, std::get<1>(top), at::relu(std::get<0>(top)));
    }
    case TrainArchitecture::BatchTopK: {
      // k·n largest activations over the whole batch (SAELens BatchTopK).
      at::Tensor flat = at::relu(pre).reshape({-1});
      const int64_t keep = std::min<int64_t>(s.k * pre.size(0), flat.numel());
      auto top = flat.topk(keep, -1);
      return at::zeros_like(flat).scatter_(-1, std::get<1>(top), std::get<0>(top)).view_as(pre);
    }
  }
  throw InternalError("unknown training architecture");
}

}  // namespace

StepResult sae_loss_and_grads(const TrainParams& p, const at::Tensor& x, const StepSettings& s) {
  const bool bf = s.bf16_matmul;
  const int64_t n = x.size(0);
  const double inv_n = 1.0 / static_cast<double>(n);
  StepResult r;

  const at::Tensor xc = s.apply_b_dec_to_input ? x - p.b_dec : x;
  at::Tensor pre = addmm(p.b_enc, xc, p.W_enc, bf);
  // Standard: ReLU in place, pre is not needed again (saves a [n, d_sae] pass).
  r.features = s.architecture == TrainArchitecture::Standard ? pre.relu_() : activate(pre, s);
  const at::Tensor& f = r.features;
  const at::Tensor x_hat = addmm(p.b_dec, f, p.W_dec, bf);
  const at::Tensor err = x_hat - x;
  r.mse = err.square().sum().mul_(inv_n);
  at::Tensor g = err * (2.0 * inv_n);  // dL/dx̂

  at::Tensor gW_dec = mm(f.t(), g, bf);
  at::Tensor gb_dec = g.sum({0});
  at::Tensor df = mm(g, p.W_dec.t(), bf);

  r.l1 = at::zeros({}, x.options());
  r.aux = at::zeros({}, x.options());
  if (s.architecture == TrainArchitecture::Standard && s.l1_coefficient != 0) {
    // λ·mean_n Σ_j f_j‖W_dec[j]‖ (f ≥ 0): d/df = λ‖W_dec[j]‖/n,
    // d/dW_dec[j] = λ (Σ_n f_j / n) · W_dec[j]/‖W_dec[j]‖.
    const at::Tensor norms = p.W_dec.norm(2, {1});
    const at::Tensor f_sum = f.sum({0});
    r.l1 = (f_sum * norms).sum().mul_(s.l1_coefficient * inv_n);
    df.add_(norms.unsqueeze(0) * (s.l1_coefficient * inv_n));
    gW_dec.add_(p.W_dec * (f_sum / norms.clamp_min(1e-12)).unsqueeze(1) *
                (s.l1_coefficient * inv_n));
  }

  // Features are piecewise linear in pre where they are positive, zero elsewhere:
  // dpre = df·[f > 0], in place, one pass.
  at::Tensor dpre = at::threshold_backward_out(df, df, f, 0);

  if (s.architecture != TrainArchitecture::Standard && s.dead_mask.defined()) {
    const int64_t n_dead = s.dead_mask.sum().item<int64_t>();
    const int64_t k_aux_full = x.size(1) / 2;
    if (n_dead > 0 && k_aux_full > 0) {
      const double scale = std::min(static_cast<double>(n_dead) / k_aux_full, 1.0);
      const int64_t k_aux = std::min(k_aux_full, n_dead);
      const at::Tensor residual = -err;  // x − x̂, no gradient through it
      auto top = pre.masked_fill(s.dead_mask.logical_not().unsqueeze(0),
                                 -std::numeric_limits<float>::infinity())
                     .topk(k_aux, -1, true, false);
      const at::Tensor& idx = std::get<1>(top);
      const at::Tensor aux_f = at::zeros_like(pre).scatter_(-1, idx, std::get<0>(top));
      const at::Tensor aux_err = addmm(p.b_dec, aux_f, p.W_dec, bf) - residual;
      const double w = scale * s.aux_coefficient;
      r.aux = aux_err.square().sum().mul_(w * inv_n);
      const at::Tensor ga = aux_err * (2.0 * w * inv_n);
      gW_dec.add_(mm(aux_f.t(), ga, bf));
      gb_dec.add_(ga.sum({0}));
      // The chosen dead pre-activations pass straight through (no ReLU).
      dpre.scatter_add_(-1, idx, mm(ga, p.W_dec.t(), bf).gather(-1, idx));
    }
  }

  r.grad.W_enc = mm(xc.t(), dpre, bf);
  r.grad.b_enc = dpre.sum({0});
  r.grad.W_dec = gW_dec;
  // b_dec also enters through x' = x − b_dec: −W_enc·Σ_n dpre, a matrix-vector product.
  r.grad.b_dec = s.apply_b_dec_to_input ? gb_dec - at::mv(p.W_enc, r.grad.b_enc) : gb_dec;
  r.loss = r.mse + r.l1 + r.aux;
  return r;
}

}  // namespace saescope::sae
