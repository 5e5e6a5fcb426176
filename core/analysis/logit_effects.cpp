#include "core/analysis/logit_effects.h"

#include <ATen/ATen.h>

#include <algorithm>

namespace saescope::analysis {

LogitEffectTable logit_effects(const at::Tensor& w_dec, const at::Tensor& ln_final_gain,
                               const at::Tensor& unembed, int64_t k,
                               const std::function<void(int64_t, int64_t)>& between_chunks) {
  const int64_t d_sae = w_dec.size(0);
  const int64_t vocab = unembed.size(0);
  k = std::min(k, vocab);
  const at::Tensor W_U = unembed.to(at::kFloat).t();  // [d_model, vocab]
  const at::Tensor dirs = w_dec.to(W_U.device(), at::kFloat) * ln_final_gain.to(W_U.device(), at::kFloat);
  std::vector<at::Tensor> tv, ti, bv, bi;
  const int64_t chunk = 512;
  for (int64_t f0 = 0; f0 < d_sae; f0 += chunk) {
    const int64_t n = std::min(chunk, d_sae - f0);
    const at::Tensor logits = at::matmul(dirs.narrow(0, f0, n), W_U);  // [n, vocab]
    auto top = logits.topk(k, 1, /*largest=*/true, /*sorted=*/true);
    auto bottom = logits.topk(k, 1, /*largest=*/false, /*sorted=*/true);
    tv.push_back(std::get<0>(top).cpu());
    ti.push_back(std::get<1>(top).cpu());
    bv.push_back(std::get<0>(bottom).cpu());
    bi.push_back(std::get<1>(bottom).cpu());
    if (between_chunks) between_chunks(f0 + n, d_sae);
  }
  if (tv.empty()) {
    const auto f = at::zeros({0, k}, at::kFloat);
    const auto i = at::zeros({0, k}, at::kLong);
    return {f, i, f, i};
  }
  return {at::cat(tv), at::cat(ti), at::cat(bv), at::cat(bi)};
}

}  // namespace saescope::analysis
