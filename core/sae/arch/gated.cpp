// Gated (SAELens "gated", GatedTrainingSAE):
//   π_gate = x'·W_enc + b_gate,  π_mag = x'·(W_enc ⊙ exp(r_mag)) + b_mag,
//   f = [π_gate > 0]·ReLU(π_mag)  (no gradient through the gate).
// Training (--l1): MSE + λ · Σ_j ReLU(π_gate)_j·‖W_dec[j]‖, averaged over
// tokens, + Σ_d (ReLU(π_gate)·W_dec + b_dec − x)², averaged over tokens
// (SAELens does not detach W_dec / b_dec here: both train through it too).
// Four GEMMs forward (gate, magnitude, decoder, auxiliary decoder), six backward.
#include <ATen/ATen.h>

#include "core/sae/arch/architecture.h"
#include "core/sae/arch/step_math.h"
#include "core/sae/sae_trainer.h"

namespace saescope::sae {
namespace {

using namespace step_math;

StepResult gated_step(const SaeWeights& p, const at::Tensor& x, const StepSettings& s) {
  const bool bf = s.bf16_matmul;
  const double inv_n = 1.0 / static_cast<double>(x.size(0));
  const double lambda = s.l1_coefficient;
  StepResult r;

  const at::Tensor xc = s.apply_b_dec_to_input ? x - p.b_dec : x;
  const at::Tensor mag_scale = p.r_mag.exp();
  const at::Tensor W_mag = p.W_enc * mag_scale;  // [d_in, d_sae]
  const at::Tensor pi_gate = addmm(p.b_gate, xc, p.W_enc, bf);
  const at::Tensor pi_mag = addmm(p.b_mag, xc, W_mag, bf);
  r.features = at::relu(pi_mag).mul_(pi_gate.gt(0));
  const at::Tensor& f = r.features;
  const at::Tensor err = addmm(p.b_dec, f, p.W_dec, bf) - x;
  r.mse = err.square().sum().mul_(inv_n);
  const at::Tensor g = err * (2.0 * inv_n);  // dL/dx̂

  // The gate path: L1 on ReLU(π_gate) weighted by ‖W_dec[j]‖, and the
  // reconstruction from ReLU(π_gate) alone.
  const at::Tensor a = at::relu(pi_gate);
  const at::Tensor norms = p.W_dec.norm(2, {1});
  const at::Tensor a_sum = a.sum({0});
  r.l1 = (a_sum * norms).sum().mul_(lambda * inv_n);
  const at::Tensor aux_err = addmm(p.b_dec, a, p.W_dec, bf) - x;
  r.aux = aux_err.square().sum().mul_(inv_n);
  const at::Tensor ga = aux_err * (2.0 * inv_n);

  at::Tensor gW_dec = mm(f.t(), g, bf).add_(mm(a.t(), ga, bf));
  if (lambda != 0) add_row_norm_grad(gW_dec, p.W_dec, norms, a_sum, lambda * inv_n);
  const at::Tensor gb_dec = g.sum({0}).add_(ga.sum({0}));

  // Magnitude path: f = [π_gate > 0]·ReLU(π_mag), so dπ_mag = df·[f > 0].
  at::Tensor df = mm(g, p.W_dec.t(), bf);
  const at::Tensor dmag = at::threshold_backward_out(df, df, f, 0);
  // Gate path: d/da = λ‖W_dec[j]‖/n + ga·W_decᵀ, then through the ReLU.
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
  r.grad.b_dec = s.apply_b_dec_to_input ? gb_dec - at::mv(p.W_enc, r.grad.b_gate) - at::mv(W_mag, r.grad.b_mag)
                                        : gb_dec;
  r.loss = r.mse + r.l1 + r.aux;
  return r;
}

}  // namespace

ArchitectureSpec gated_architecture() {
  ArchitectureSpec a{};
  a.id = Architecture::Gated;
  a.name = "gated";
  a.summary = "a gate and a magnitude path sharing W_enc, L1 on the gate";
  a.sparsity = SparsityKnob::L1;
  a.runs_as = Architecture::Gated;
  a.tensors = {{"b_gate", &SaeWeights::b_gate}, {"b_mag", &SaeWeights::b_mag}, {"r_mag", &SaeWeights::r_mag}};
  a.derive = [](const SaeWeights& w) { return w.W_enc * w.r_mag.exp(); };
  a.encode = [](const at::Tensor& xc, const SaeWeights& w, const SaeConfig&, const at::Tensor& W_mag,
                const at::Tensor&) {
    const at::Tensor active = at::addmm(w.b_gate, xc, w.W_enc).gt(0).to(at::kFloat);
    return active * at::relu(at::addmm(w.b_mag, xc, W_mag));
  };
  a.step = gated_step;
  a.init = [](SaeWeights& p, const TrainOptions& o, const at::TensorOptions& opts) {
    // SAELens: all three zero, and no b_enc.
    p.b_gate = at::zeros({o.d_sae}, opts);
    p.r_mag = at::zeros({o.d_sae}, opts);
    p.b_mag = at::zeros({o.d_sae}, opts);
  };
  a.after_step = [](SaeWeights&, const StepResult&, const TrainOptions&, double&) {};
  a.finish = [](const SaeWeights& p, double, const TrainOptions&, SaeWeights& out, SaeConfig&) {
    out.b_gate = p.b_gate.to(at::kCPU).clone();
    out.r_mag = p.r_mag.to(at::kCPU).clone();
    out.b_mag = p.b_mag.to(at::kCPU).clone();
  };
  return a;
}

}  // namespace saescope::sae
