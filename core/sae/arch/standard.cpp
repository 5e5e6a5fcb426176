// Standard (SAELens "standard"): f = ReLU(x'·W_enc + b_enc).
// Training: MSE + λ · Σ_j f_j·‖W_dec[j]‖, averaged over tokens (--l1).
#include <ATen/ATen.h>

#include "core/sae/arch/architecture.h"
#include "core/sae/arch/step_math.h"

namespace saescope::sae {
namespace {

using namespace step_math;

// λ·mean_n Σ_j f_j‖W_dec[j]‖ (f ≥ 0): d/df = λ‖W_dec[j]‖/n,
// d/dW_dec[j] = λ (Σ_n f_j / n) · W_dec[j]/‖W_dec[j]‖.
void l1_by_decoder_norm(PreActStep& st) {
  const double lambda = st.s.l1_coefficient;
  if (lambda == 0) return;
  const at::Tensor norms = st.p.W_dec.norm(2, {1});
  const at::Tensor f_sum = st.f.sum({0});
  st.r.l1 = (f_sum * norms).sum().mul_(lambda * st.inv_n);
  st.df.add_(norms.unsqueeze(0) * (lambda * st.inv_n));
  add_row_norm_grad(st.gW_dec, st.p.W_dec, norms, f_sum, lambda * st.inv_n);
}

const PreActArchitecture kStep{[](PreActStep& st) { return st.pre.relu_(); }, l1_by_decoder_norm, false};

}  // namespace

ArchitectureSpec standard_architecture() {
  ArchitectureSpec a{};
  a.id = Architecture::Standard;
  a.name = "standard";
  a.summary = "ReLU, L1 penalty weighted by decoder norm";
  a.sparsity = SparsityKnob::L1;
  a.runs_as = Architecture::Standard;
  a.tensors = {{"b_enc", &SaeWeights::b_enc}};
  a.encode = [](const at::Tensor& xc, const SaeWeights& w, const SaeConfig&, const at::Tensor&,
                const at::Tensor& dec_norm) { return at::relu(pre_activation(xc, w, dec_norm)); };
  a.step = [](const SaeWeights& p, const at::Tensor& x, const StepSettings& s) {
    return pre_activation_step(p, x, s, kStep);
  };
  a.init = [](SaeWeights& p, const TrainOptions&, const at::TensorOptions& opts) {
    zero_b_enc(p, p.W_dec.size(0), opts);
  };
  a.after_step = [](SaeWeights&, const StepResult&, const TrainOptions&, double&) {};
  a.finish = [](const SaeWeights& p, double, const TrainOptions&, SaeWeights& out, SaeConfig&) {
    out.b_enc = p.b_enc.to(at::kCPU).clone();
  };
  return a;
}

}  // namespace saescope::sae
