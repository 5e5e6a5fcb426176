// JumpReLU (SAELens "jumprelu"): f = pre·[pre > θ], pre = x'·W_enc + b_enc.
// Training (JumpReLUTrainingSAE; --l0-coefficient): θ = exp(log_threshold);
//   sparsity mode "step": + λ₀ · Σ_j H(pre_j − θ_j), averaged over tokens (no
//     decoder norm: SAELens's "step" mode leaves it out);
//   sparsity mode "tanh" (Anthropic, Jan 2025; SAELens 6.11): + λ₀ · Σ_j
//     tanh(c·f_j·‖W_dec[j]‖), averaged over tokens;
//   H has no gradient to pre; to θ it has the straight-through estimate
//     ∂H/∂θ ≈ −(1/ε)·rect((pre − θ)/ε), and ∂f/∂θ ≈ −(θ/ε)·rect(...),
//     rect(u) = [−½ < u < ½], ε the bandwidth; ∂f/∂pre = H(pre − θ);
//   pre-act loss (optional): + λ_p · Σ_j dead_j · ReLU(θ_j − pre_j) ·
//     ‖W_dec[j]‖, averaged over tokens, only for dead features.
// Saved with threshold = exp(log_threshold).
#include <ATen/ATen.h>

#include <cmath>

#include "core/sae/arch/architecture.h"
#include "core/sae/arch/step_math.h"
#include "core/sae/sae_trainer.h"

namespace saescope::sae {
namespace {

using namespace step_math;

at::Tensor theta_of(const PreActStep& st) { return st.p.log_threshold.exp(); }

void jumprelu_penalty(PreActStep& st) {
  const StepSettings& s = st.s;
  const at::Tensor theta = theta_of(st);
  const at::Tensor& f = st.f;
  const at::Tensor& pre = st.pre;
  const bool tanh_mode = s.jumprelu_sparsity == JumpReluSparsity::Tanh;
  const bool pre_act =
      s.pre_act_loss_coefficient != 0 && s.dead_mask.defined() && s.dead_mask.any().item<bool>();
  // Only the tanh penalty and the pre-act loss weigh by ‖W_dec[j]‖ (step mode does not).
  const bool by_norm = (tanh_mode && s.l0_coefficient != 0) || pre_act;
  const at::Tensor norms = by_norm ? st.p.W_dec.norm(2, {1}) : at::Tensor();
  if (tanh_mode && s.l0_coefficient != 0) {
    // λ₀·mean_n Σ_j tanh(c·f·‖W_dec[j]‖): d/df = λ₀·c·‖W_dec[j]‖·sech²/n at
    // every (token, feature), so θ's estimate below sees it where f = 0 too;
    // d/dW_dec[j] = λ₀·c·(Σ_n f·sech²)/n · W_dec[j]/‖W_dec[j]‖.
    const double c = s.jumprelu_tanh_scale;
    const at::Tensor t = (f * norms.unsqueeze(0)).mul_(c).tanh_();
    st.r.l1 = t.sum().mul_(s.l0_coefficient * st.inv_n);
    const at::Tensor sech2 = 1 - t.square();
    st.df.add_(sech2 * norms.unsqueeze(0), s.l0_coefficient * c * st.inv_n);
    add_row_norm_grad(st.gW_dec, st.p.W_dec, norms, (f * sech2).sum({0}), s.l0_coefficient * c * st.inv_n);
  }
  // The straight-through estimates to θ, from f (through df) and, in step
  // mode, from the L0 penalty: dL/dθ = −(1/ε)·Σ_n rect((pre − θ)/ε)·(θ·df + λ₀/n);
  // dL/dlog θ = θ·dL/dθ. Computed before df turns into dpre.
  const double eps = s.jumprelu_bandwidth;
  const at::Tensor u = (pre - theta).div_(eps);
  const at::Tensor rect = u.gt(-0.5).logical_and_(u.lt(0.5)).to(pre.scalar_type());
  at::Tensor g_theta = (rect * st.df).sum({0}).mul_(theta);
  if (!tanh_mode && s.l0_coefficient != 0) g_theta.add_(rect.sum({0}), s.l0_coefficient * st.inv_n);
  g_theta.mul_(-1.0 / eps);
  if (!tanh_mode) st.r.l1 = f.gt(0).sum().to(st.x.scalar_type()).mul_(s.l0_coefficient * st.inv_n);
  if (pre_act) {
    // λ_p·mean_n Σ_j dead·ReLU(θ − pre)·‖W_dec[j]‖: θ and pre get it directly
    // (no estimator), ±λ_p·dead·‖W_dec[j]‖/n where θ > pre; W_dec[j] gets
    // λ_p·dead·(Σ_n ReLU(θ − pre))/n · W_dec[j]/‖W_dec[j]‖.
    const double lp = s.pre_act_loss_coefficient * st.inv_n;
    const at::Tensor dead = s.dead_mask.to(norms.scalar_type());
    const at::Tensor w = norms * dead;
    const at::Tensor gap = (theta - pre).relu_();
    st.r.aux = (gap * w.unsqueeze(0)).sum().mul_(lp);
    const at::Tensor below = gap.gt(0).to(pre.scalar_type()).mul_(w.unsqueeze(0));
    g_theta.add_(below.sum({0}), lp);
    st.extra_dpre = below.mul_(-lp);
    add_row_norm_grad(st.gW_dec, st.p.W_dec, norms, dead * gap.sum({0}), lp);
  }
  st.r.grad.log_threshold = g_theta.mul_(theta);
}

// θ > 0, so f > 0 exactly where the step is 1.
const PreActArchitecture kStep{[](PreActStep& st) { return st.pre * st.pre.gt(theta_of(st)); }, jumprelu_penalty,
                               false};

}  // namespace

ArchitectureSpec jumprelu_architecture() {
  ArchitectureSpec a{};
  a.id = Architecture::JumpReLU;
  a.name = "jumprelu";
  a.summary = "learned per-feature thresholds, L0 penalty";
  a.sparsity = SparsityKnob::L0;
  a.runs_as = Architecture::JumpReLU;
  a.tensors = {{"b_enc", &SaeWeights::b_enc}, {"threshold", &SaeWeights::threshold}};
  a.encode = [](const at::Tensor& xc, const SaeWeights& w, const SaeConfig&, const at::Tensor&,
                const at::Tensor& dec_norm) {
    const at::Tensor pre = pre_activation(xc, w, dec_norm);
    return at::relu(pre) * pre.gt(w.threshold).to(at::kFloat);
  };
  a.step = [](const SaeWeights& p, const at::Tensor& x, const StepSettings& s) {
    return pre_activation_step(p, x, s, kStep);
  };
  a.init = [](SaeWeights& p, const TrainOptions& o, const at::TensorOptions& opts) {
    zero_b_enc(p, o.d_sae, opts);
    p.log_threshold = at::full({o.d_sae}, std::log(o.jumprelu_init_threshold), opts);
  };
  a.after_step = [](SaeWeights&, const StepResult&, const TrainOptions&, double&) {};
  a.finish = [](const SaeWeights& p, double, const TrainOptions&, SaeWeights& out, SaeConfig&) {
    out.b_enc = p.b_enc.to(at::kCPU).clone();
    out.threshold = p.log_threshold.exp().to(at::kCPU);
  };
  return a;
}

}  // namespace saescope::sae
