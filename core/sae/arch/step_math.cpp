#include "core/sae/arch/step_math.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <limits>

namespace saescope::sae::step_math {

at::Tensor mm(const at::Tensor& a, const at::Tensor& b, bool bf16) {
  if (!bf16) return at::mm(a, b);
  return at::mm(a.to(at::kBFloat16), b.to(at::kBFloat16)).to(at::kFloat);
}

at::Tensor addmm(const at::Tensor& bias, const at::Tensor& a, const at::Tensor& b, bool bf16) {
  if (!bf16) return at::addmm(bias, a, b);
  return mm(a, b, true).add_(bias);
}

void add_row_norm_grad(at::Tensor& gW_dec, const at::Tensor& W_dec, const at::Tensor& norms, const at::Tensor& g_norm,
                       double scale) {
  gW_dec.add_(W_dec * (g_norm / norms.clamp_min(1e-12)).unsqueeze(1) * scale);
}

at::Tensor batch_topk(const at::Tensor& pre, int64_t k) {
  at::Tensor flat = at::relu(pre).reshape({-1});
  const int64_t keep = std::min<int64_t>(k * pre.size(0), flat.numel());
  auto top = flat.topk(keep, -1);
  return at::zeros_like(flat).scatter_(-1, std::get<1>(top), std::get<0>(top)).view_as(pre);
}

namespace {

// AuxK: the k_aux = d_in/2 largest dead pre-activations reconstruct the
// residual x − x̂ (no gradient through it), weighted by min(n_dead/k_aux, 1)
// · aux_coefficient; the chosen pre-activations pass straight through.
void aux_k(PreActStep& st, at::Tensor& dpre) {
  const StepSettings& s = st.s;
  const int64_t n_dead = s.dead_mask.sum().item<int64_t>();
  const int64_t k_aux_full = st.err.size(1) / 2;  // half the reconstructed width
  if (n_dead <= 0 || k_aux_full <= 0) return;
  const double scale = std::min(static_cast<double>(n_dead) / k_aux_full, 1.0);
  const int64_t k_aux = std::min(k_aux_full, n_dead);
  const at::Tensor residual = -st.err;
  auto top = st.pre.masked_fill(s.dead_mask.logical_not().unsqueeze(0), -std::numeric_limits<float>::infinity())
                 .topk(k_aux, -1, true, false);
  const at::Tensor& idx = std::get<1>(top);
  const at::Tensor aux_f = at::zeros_like(st.pre).scatter_(-1, idx, std::get<0>(top));
  const at::Tensor aux_err = addmm(st.p.b_dec, aux_f, st.p.W_dec, st.bf) - residual;
  const double w = scale * s.aux_coefficient;
  st.r.aux = st.r.aux + aux_err.square().sum().mul_(w * st.inv_n);
  const at::Tensor ga = aux_err * (2.0 * w * st.inv_n);
  st.gW_dec.add_(mm(aux_f.t(), ga, st.bf));
  st.gb_dec.add_(ga.sum({0}));
  dpre.scatter_add_(-1, idx, mm(ga, st.p.W_dec.t(), st.bf).gather(-1, idx));
}

}  // namespace

StepResult pre_activation_step(const SaeWeights& p, const at::Tensor& x, const StepSettings& s,
                               const PreActArchitecture& a) {
  StepResult r;
  PreActStep st{p, x, s, 1.0 / static_cast<double>(x.size(0)), s.bf16_matmul, {}, {}, {}, {}, {}, {}, {}, {}, r};
  st.xc = s.apply_b_dec_to_input ? x - p.b_dec : x;
  st.pre = addmm(p.b_enc, st.xc, p.W_enc, st.bf);
  r.features = a.features(st);
  st.f = r.features;
  at::Tensor x_hat = addmm(p.b_dec, st.f, p.W_dec, st.bf);
  if (p.W_skip.defined()) x_hat.add_(mm(x, p.W_skip.t(), st.bf));  // a skip transcoder's linear path
  st.err = x_hat - (s.target.defined() ? s.target : x);
  r.mse = st.err.square().sum().mul_(st.inv_n);
  const at::Tensor g = st.err * (2.0 * st.inv_n);  // dL/dx̂
  st.gW_dec = mm(st.f.t(), g, st.bf);
  st.gb_dec = g.sum({0});
  st.df = mm(g, p.W_dec.t(), st.bf);
  r.l1 = at::zeros({}, x.options());
  r.aux = at::zeros({}, x.options());
  if (a.penalty) a.penalty(st);

  // Features are piecewise linear in pre where they are positive, zero
  // elsewhere: dpre = df·[f > 0], in place, one pass.
  at::Tensor dpre = at::threshold_backward_out(st.df, st.df, st.f, 0);
  if (st.extra_dpre.defined()) dpre.add_(st.extra_dpre);
  if (a.aux_k && s.dead_mask.defined()) aux_k(st, dpre);

  r.grad.W_enc = mm(st.xc.t(), dpre, st.bf);
  r.grad.b_enc = dpre.sum({0});
  r.grad.W_dec = st.gW_dec;
  if (p.W_skip.defined()) r.grad.W_skip = mm(g.t(), x, st.bf);
  // b_dec also enters through x' = x − b_dec: −W_enc·Σ_n dpre, a matrix-vector product.
  r.grad.b_dec = s.apply_b_dec_to_input ? st.gb_dec - at::mv(p.W_enc, r.grad.b_enc) : st.gb_dec;
  r.loss = r.mse + r.l1 + r.aux;
  return r;
}

at::Tensor pre_activation(const at::Tensor& xc, const SaeWeights& w, const at::Tensor& dec_norm) {
  at::Tensor pre = at::addmm(w.b_enc, xc, w.W_enc);
  return dec_norm.defined() ? pre * dec_norm : pre;
}

void normalise_decoder_rows(SaeWeights& p) { p.W_dec.div_(p.W_dec.norm(2, {1}, true).clamp_min(1e-12)); }

void zero_b_enc(SaeWeights& p, int64_t d_sae, const at::TensorOptions& opts) { p.b_enc = at::zeros({d_sae}, opts); }

}  // namespace saescope::sae::step_math
