// Matryoshka BatchTopK (SAELens "matryoshka_batchtopk"; Bussmann et al. 2025):
// BatchTopK whose first w features must also reconstruct on their own, for
// each inner width w of --matryoshka-widths: + Σ_w Σ_d (f_w·W_dec[:w] + b_dec − x)²,
// averaged over tokens, where f_w is the batch top-k of pre[:, :w] (SAELens
// applies the activation to each level's slice). The outermost level is the
// BatchTopK loss itself. Nested dictionaries keep general features in the
// first levels instead of absorbing them into specific ones. Saved, like
// BatchTopK, as JumpReLU with one shared threshold.
#include <ATen/ATen.h>

#include "core/sae/arch/batch_topk_common.h"

namespace saescope::sae {
namespace {

using namespace step_math;

// The inner levels' reconstruction losses, reported with AuxK in `aux`.
void inner_levels(PreActStep& st) {
  for (int64_t w : st.s.matryoshka_widths) {
    if (w >= st.pre.size(1)) continue;  // the outer level is the main loss
    const at::Tensor W = st.p.W_dec.narrow(0, 0, w);
    const at::Tensor f_w = batch_topk(st.pre.narrow(1, 0, w), st.s.k);
    const at::Tensor e = addmm(st.p.b_dec, f_w, W, st.bf) - st.x;
    st.r.aux = st.r.aux + e.square().sum().mul_(st.inv_n);
    const at::Tensor g = e * (2.0 * st.inv_n);
    st.gW_dec.narrow(0, 0, w).add_(mm(f_w.t(), g, st.bf));
    st.gb_dec.add_(g.sum({0}));
    // Through this level's own selection: dpre[:, :w] += (g·Wᵀ)·[f_w > 0].
    if (!st.extra_dpre.defined()) st.extra_dpre = at::zeros_like(st.pre);
    st.extra_dpre.narrow(1, 0, w).add_(mm(g, W.t(), st.bf).mul_(f_w.gt(0)));
  }
}

const PreActArchitecture kStep{[](PreActStep& st) { return batch_topk(st.pre, st.s.k); }, inner_levels, true};

}  // namespace

ArchitectureSpec matryoshka_batchtopk_architecture() {
  ArchitectureSpec a = batch_topk_spec();
  a.id = Architecture::MatryoshkaBatchTopK;
  a.name = "matryoshka_batchtopk";
  a.summary = "batchtopk whose nested prefixes reconstruct too; saved as jumprelu";
  a.step = [](const SaeWeights& p, const at::Tensor& x, const StepSettings& s) {
    return pre_activation_step(p, x, s, kStep);
  };
  return a;
}

}  // namespace saescope::sae
