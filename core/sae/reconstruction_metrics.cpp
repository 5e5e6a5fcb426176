#include "core/sae/reconstruction_metrics.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "core/common/error.h"
#include "core/distributed/process_group.h"
#include "core/sae/activation_source.h"
#include "core/sae/sae.h"

namespace saescope::sae {

const char* const kExplainedVarianceFormula =
    "explained variance = 1 - sum ||x - x_hat||^2 / sum ||x - mean(x)||^2, both sums over all "
    "evaluated tokens, mean(x) the mean activation over those tokens";

ReconstructionMetrics::ReconstructionMetrics(int64_t d_in, int64_t d_sae, double dense_threshold,
                                             int histogram_bins)
    : d_in_(d_in),
      d_sae_(d_sae),
      dense_threshold_(dense_threshold),
      bins_(histogram_bins),
      sum_x_(at::zeros({d_in}, at::TensorOptions().dtype(at::kDouble))),
      fired_(at::zeros({d_sae}, at::TensorOptions().dtype(at::kLong))) {}

void ReconstructionMetrics::add(const at::Tensor& x_in, const at::Tensor& f_in,
                                const at::Tensor& xh_in) {
  if (x_in.dim() != 2 || x_in.size(1) != d_in_ || xh_in.sizes() != x_in.sizes() ||
      f_in.dim() != 2 || f_in.size(0) != x_in.size(0) || f_in.size(1) != d_sae_)
    throw InternalError("ReconstructionMetrics::add: shapes do not match");
  const at::Tensor x = x_in.to(at::kFloat);
  const at::Tensor f = f_in.to(x.device(), at::kFloat);
  const at::Tensor xh = xh_in.to(x.device(), at::kFloat);
  tokens_ += x.size(0);
  sq_err_ += (x - xh).square().sum(at::kDouble).item<double>();
  sq_norm_ += x.square().sum(at::kDouble).item<double>();
  sum_x_ += x.sum({0}, false, at::kDouble).to(at::kCPU);
  const at::Tensor on = f.gt(0);
  active_ += static_cast<double>(on.sum().item<int64_t>());
  l1_ += f.abs().sum(at::kDouble).item<double>();
  fired_ += on.sum({0}).to(at::kCPU, at::kLong);
}

void ReconstructionMetrics::reduce(dist::ProcessGroup& group) {
  // One allreduce of every total in double (fire counts are exact below 2⁵³).
  at::Tensor packed = at::cat({at::tensor({static_cast<double>(tokens_), sq_err_, sq_norm_, active_, l1_}, at::kDouble),
                               sum_x_, fired_.to(at::kDouble)});
  group.allreduce_sum(packed, "merging reconstruction metrics");
  const double* v = packed.data_ptr<double>();
  tokens_ = static_cast<int64_t>(std::llround(v[0]));
  sq_err_ = v[1];
  sq_norm_ = v[2];
  active_ = v[3];
  l1_ = v[4];
  sum_x_ = packed.narrow(0, 5, d_in_).clone();
  fired_ = packed.narrow(0, 5 + d_in_, d_sae_).round().to(at::kLong);
}

ReconstructionReport ReconstructionMetrics::report() const {
  ReconstructionReport r;
  r.tokens = tokens_;
  r.dense_threshold = dense_threshold_;
  r.histogram.counts.assign(static_cast<size_t>(bins_), 0);
  if (tokens_ == 0) return r;
  const double n = static_cast<double>(tokens_);
  r.mse = sq_err_ / n;
  r.l0 = active_ / n;
  r.l1 = l1_ / n;
  // Σ‖x − μ‖² = Σ‖x‖² − n‖μ‖², μ = Σx / n (in double).
  const double mean_sq = (sum_x_ / n).square().sum().item<double>();
  const double total_var = sq_norm_ - n * mean_sq;
  r.explained_variance = total_var > 0 ? 1.0 - sq_err_ / total_var : 0.0;
  r.feature_density = fired_.to(at::kDouble) / n;
  const auto* dens = r.feature_density.data_ptr<double>();
  int64_t dead = 0, dense = 0;
  const double width = (r.histogram.log10_max - r.histogram.log10_min) / bins_;
  for (int64_t i = 0; i < d_sae_; ++i) {
    if (dens[i] <= 0) {
      ++dead;
      continue;
    }
    if (dens[i] > dense_threshold_) ++dense;
    const double l = std::log10(dens[i]);
    const int b =
        std::clamp(static_cast<int>(std::floor((l - r.histogram.log10_min) / width)), 0, bins_ - 1);
    ++r.histogram.counts[static_cast<size_t>(b)];
  }
  r.histogram.dead = dead;
  r.dead_fraction = static_cast<double>(dead) / static_cast<double>(d_sae_);
  r.dense_fraction = static_cast<double>(dense) / static_cast<double>(d_sae_);
  return r;
}

ReconstructionReport evaluate_reconstruction(const Sae& sae, ActivationSource& source,
                                             int64_t max_tokens, int64_t batch) {
  sae.expect_d_in(source.d_in(), "the activation source");
  ReconstructionMetrics m(sae.d_in(), sae.d_sae());
  at::NoGradGuard no_grad;
  int64_t done = 0;
  while (done < max_tokens) {
    at::Tensor x = source.next_batch(std::min(batch, max_tokens - done));
    if (!x.defined() || x.size(0) == 0) break;
    x = x.to(sae.device(), at::kFloat);
    SaeOutput out = sae.forward(x);
    m.add(x, out.features, out.reconstruction);
    done += x.size(0);
  }
  return m.report();
}

}  // namespace saescope::sae
