#include "core/sae/sae_train_step.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <limits>

#include "core/common/error.h"

namespace saescope::sae {
namespace {

// Every penalty weighted by ‖W_dec[j]‖ reaches W_dec the same way:
// d‖W_dec[j]‖/dW_dec[j] = W_dec[j]/‖W_dec[j]‖, times dL/d‖W_dec[j]‖ = g_norm[j]·scale.
void add_row_norm_grad(at::Tensor& gW_dec, const at::Tensor& W_dec, const at::Tensor& norms,
                       const at::Tensor& g_norm, double scale) {
  gW_dec.add_(W_dec * (g_norm / norms.clamp_min(1e-12)).unsqueeze(1) * scale);
}

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
    case TrainArchitecture::JumpReLU:
    case TrainArchitecture::Gated:
      break;  // not from pre alone: see sae_loss_and_grads / gated_loss_and_grads
  }
  throw InternalError("unknown training architecture");
}

// Gated (SAELens GatedTrainingSAE). Four GEMMs forward (gate, magnitude,
// decoder, auxiliary decoder), six backward.
StepResult gated_loss_and_grads(const TrainParams& p, const at::Tensor& x, const StepSettings& s) {
  const bool bf = s.bf16_matmul;
  const int64_t n = x.size(0);
  const double inv_n = 1.0 / static_cast<double>(n);
  const double lambda = s.l1_coefficient;
  StepResult r;

  const at::Tensor xc = s.apply_b_dec_to_input ? x - p.b_dec : x;
  const at::Tensor mag_scale = p.r_mag.exp();
  const at::Tensor W_mag = p.W_enc * mag_scale;  // [d_in, d_sae]
  const at::Tensor pi_gate = addmm(p.b_gate, xc, p.W_enc, bf);
  const at::Tensor pi_mag = addmm(p.b_mag, xc, W_mag, bf);
  const at::Tensor gate_open = pi_gate.gt(0);
  r.features = at::relu(pi_mag).mul_(gate_open);
  const at::Tensor& f = r.features;
  const at::Tensor x_hat = addmm(p.b_dec, f, p.W_dec, bf);
  const at::Tensor err = x_hat - x;
  r.mse = err.square().sum().mul_(inv_n);
  const at::Tensor g = err * (2.0 * inv_n);  // dL/dx̂

  // The gate path: L1 on ReLU(π_gate) weighted by ‖W_dec[j]‖, and the
  // reconstruction from ReLU(π_gate) alone (W_dec, b_dec not detached).
  const at::Tensor a = at::relu(pi_gate);
  const at::Tensor norms = p.W_dec.norm(2, {1});
  const at::Tensor a_sum = a.sum({0});
  r.l1 = (a_sum * norms).sum().mul_(lambda * inv_n);
  const at::Tensor via_gate = addmm(p.b_dec, a, p.W_dec, bf);
  const at::Tensor aux_err = via_gate - x;
  r.aux = aux_err.square().sum().mul_(inv_n);
  const at::Tensor ga = aux_err * (2.0 * inv_n);

  at::Tensor gW_dec = mm(f.t(), g, bf).add_(mm(a.t(), ga, bf));
  if (lambda != 0)
    add_row_norm_grad(gW_dec, p.W_dec, norms, a_sum, lambda * inv_n);
  const at::Tensor gb_dec = g.sum({0}).add_(ga.sum({0}));

  // Magnitude path: f = [π_gate > 0]·ReLU(π_mag), so dπ_mag = df·[f > 0].
  at::Tensor df = mm(g, p.W_dec.t(), bf);
  const at::Tensor dmag = at::threshold_backward_out(df, df, f, 0);
  // Gate path: d/da = λ‖W_dec[j]‖/n + ga·W_dec^T, then through the ReLU.
  at::Tensor da = mm(ga, p.W_dec.t(), bf);
  if (lambda != 0) da.add_(norms.unsqueeze(0) * (lambda * inv_n));
  const at::Tensor dgate = at::threshold_backward_out(da, da, a, 0);

  const at::Tensor gW_mag = mm(xc.t(), dmag, bf);
  r.grad.W_enc = mm(xc.t(), dgate, bf).add_(gW_mag * mag_scale);
  r.grad.r_mag = (gW_mag * W_mag).sum({0});
  r.grad.b_gate = dgate.sum({0});
  r.grad.b_mag = dmag.sum({0});
  r.grad.W_dec = gW_dec;
  // b_dec also enters through x' = x − b_dec, in both encoder paths.
  r.grad.b_dec = s.apply_b_dec_to_input
                     ? gb_dec - at::mv(p.W_enc, r.grad.b_gate) - at::mv(W_mag, r.grad.b_mag)
                     : gb_dec;
  r.loss = r.mse + r.l1 + r.aux;
  return r;
}

}  // namespace

std::vector<at::Tensor> defined_tensors(const TrainParams& p) {
  std::vector<at::Tensor> out;
  for (const at::Tensor* t : {&p.W_enc, &p.b_enc, &p.W_dec, &p.b_dec, &p.log_threshold, &p.b_gate,
                              &p.r_mag, &p.b_mag})
    if (t->defined()) out.push_back(*t);
  return out;
}

StepResult sae_loss_and_grads(const TrainParams& p, const at::Tensor& x, const StepSettings& s) {
  if (s.architecture == TrainArchitecture::Gated) return gated_loss_and_grads(p, x, s);
  const bool jump = s.architecture == TrainArchitecture::JumpReLU;
  const bool bf = s.bf16_matmul;
  const int64_t n = x.size(0);
  const double inv_n = 1.0 / static_cast<double>(n);
  StepResult r;

  const at::Tensor xc = s.apply_b_dec_to_input ? x - p.b_dec : x;
  at::Tensor pre = addmm(p.b_enc, xc, p.W_enc, bf);
  // Standard: ReLU in place, pre is not needed again (saves a [n, d_sae] pass).
  // JumpReLU: f = pre·H(pre − θ); θ > 0, so f > 0 exactly where H is 1.
  const at::Tensor theta = jump ? p.log_threshold.exp() : at::Tensor();
  r.features = s.architecture == TrainArchitecture::Standard ? pre.relu_()
               : jump ? pre * pre.gt(theta)
                      : activate(pre, s);
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
  at::Tensor pre_act_dpre;  // jumprelu's pre-act loss acts on pre itself, not through f
  if (s.architecture == TrainArchitecture::Standard && s.l1_coefficient != 0) {
    // λ·mean_n Σ_j f_j‖W_dec[j]‖ (f ≥ 0): d/df = λ‖W_dec[j]‖/n,
    // d/dW_dec[j] = λ (Σ_n f_j / n) · W_dec[j]/‖W_dec[j]‖.
    const at::Tensor norms = p.W_dec.norm(2, {1});
    const at::Tensor f_sum = f.sum({0});
    r.l1 = (f_sum * norms).sum().mul_(s.l1_coefficient * inv_n);
    df.add_(norms.unsqueeze(0) * (s.l1_coefficient * inv_n));
    add_row_norm_grad(gW_dec, p.W_dec, norms, f_sum, s.l1_coefficient * inv_n);
  }

  if (jump) {
    const bool tanh_mode = s.jumprelu_sparsity == JumpReluSparsity::Tanh;
    const bool pre_act = s.pre_act_loss_coefficient != 0 && s.dead_mask.defined() &&
                         s.dead_mask.any().item<bool>();
    // Only the tanh penalty and the pre-act loss weigh by ‖W_dec[j]‖ (step mode does not).
    const bool by_norm = (tanh_mode && s.l0_coefficient != 0) || pre_act;
    const at::Tensor norms = by_norm ? p.W_dec.norm(2, {1}) : at::Tensor();
    if (tanh_mode && s.l0_coefficient != 0) {
      // λ₀·mean_n Σ_j tanh(c·f·‖W_dec[j]‖): d/df = λ₀·c·‖W_dec[j]‖·sech²/n at
      // every (token, feature), so θ's estimate below sees it where f = 0 too;
      // d/dW_dec[j] = λ₀·c·(Σ_n f·sech²)/n · W_dec[j]/‖W_dec[j]‖.
      const double c = s.jumprelu_tanh_scale;
      const at::Tensor t = (f * norms.unsqueeze(0)).mul_(c).tanh_();
      r.l1 = t.sum().mul_(s.l0_coefficient * inv_n);
      const at::Tensor sech2 = 1 - t.square();
      df.add_(sech2 * norms.unsqueeze(0), s.l0_coefficient * c * inv_n);
      add_row_norm_grad(gW_dec, p.W_dec, norms, (f * sech2).sum({0}), s.l0_coefficient * c * inv_n);
    }
    // The straight-through estimates to θ, from f (through df) and, in step
    // mode, from the L0 penalty: dL/dθ = −(1/ε)·Σ_n rect((pre − θ)/ε)·(θ·df + λ₀/n);
    // dL/dlog θ = θ·dL/dθ. Computed before df turns into dpre below.
    const double eps = s.jumprelu_bandwidth;
    const at::Tensor u = (pre - theta).div_(eps);
    const at::Tensor rect = u.gt(-0.5).logical_and_(u.lt(0.5)).to(pre.scalar_type());
    at::Tensor g_theta = (rect * df).sum({0}).mul_(theta);
    if (!tanh_mode && s.l0_coefficient != 0) g_theta.add_(rect.sum({0}), s.l0_coefficient * inv_n);
    g_theta.mul_(-1.0 / eps);
    if (!tanh_mode) r.l1 = f.gt(0).sum().to(x.scalar_type()).mul_(s.l0_coefficient * inv_n);
    if (pre_act) {
      // λ_p·mean_n Σ_j dead·ReLU(θ − pre)·‖W_dec[j]‖: θ and pre get it directly
      // (no estimator), ±λ_p·dead·‖W_dec[j]‖/n where θ > pre; W_dec[j] gets
      // λ_p·dead·(Σ_n ReLU(θ − pre))/n · W_dec[j]/‖W_dec[j]‖.
      const double lp = s.pre_act_loss_coefficient * inv_n;
      const at::Tensor dead = s.dead_mask.to(norms.scalar_type());
      const at::Tensor w = norms * dead;
      const at::Tensor gap = (theta - pre).relu_();
      r.aux = (gap * w.unsqueeze(0)).sum().mul_(lp);
      const at::Tensor below = gap.gt(0).to(pre.scalar_type()).mul_(w.unsqueeze(0));
      g_theta.add_(below.sum({0}), lp);
      pre_act_dpre = below.mul_(-lp);
      add_row_norm_grad(gW_dec, p.W_dec, norms, dead * gap.sum({0}), lp);
    }
    r.grad.log_threshold = g_theta.mul_(theta);
  }

  // Features are piecewise linear in pre where they are positive, zero elsewhere:
  // dpre = df·[f > 0], in place, one pass.
  at::Tensor dpre = at::threshold_backward_out(df, df, f, 0);
  if (pre_act_dpre.defined()) dpre.add_(pre_act_dpre);

  const bool topk_like =
      s.architecture == TrainArchitecture::TopK || s.architecture == TrainArchitecture::BatchTopK;
  if (topk_like && s.dead_mask.defined()) {
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
