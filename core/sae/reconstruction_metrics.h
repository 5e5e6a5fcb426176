#pragma once
// How well an SAE reconstructs a stream of activations, with the field's
// definitions (formats.md "Reconstruction metrics"): MSE (squared error summed
// over d_in, averaged over tokens), L0, explained variance, feature density
// and its histogram, dead and dense fractions. Accumulated in double over any
// number of batches.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace saescope::dist {
class ProcessGroup;
}

namespace saescope::sae {

class Sae;
class ActivationSource;

// Said wherever explained variance is shown: the field has changed it.
extern const char* const kExplainedVarianceFormula;

struct DensityHistogram {
  double log10_min = -8.0;  // first bin's lower edge; rarer live features land in bin 0
  double log10_max = 0.0;
  std::vector<int64_t> counts;  // live features per equal-width log10 bin
  int64_t dead = 0;             // never fired: no log10, counted apart
};

struct ReconstructionReport {
  int64_t tokens = 0;
  double mse = 0;                 // Σ‖x − x̂‖² / tokens
  double l0 = 0;                  // mean non-zero features per token
  double l1 = 0;                  // mean Σ|f| per token
  double explained_variance = 0;  // kExplainedVarianceFormula
  at::Tensor feature_density;     // [d_sae] double: fraction of tokens where f > 0
  DensityHistogram histogram;
  double dead_fraction = 0;   // density == 0
  double dense_fraction = 0;  // density > dense_threshold
  double dense_threshold = 0.1;
};

class ReconstructionMetrics {
 public:
  ReconstructionMetrics(int64_t d_in, int64_t d_sae, double dense_threshold = 0.1,
                        int histogram_bins = 32);
  // x, reconstruction: [n, d_in]; features: [n, d_sae]. Any device.
  void add(const at::Tensor& x, const at::Tensor& features, const at::Tensor& reconstruction);
  ReconstructionReport report() const;
  // Sums every rank's totals into each (the totals are sums, so the merged
  // metrics are those of all ranks' tokens together).
  void reduce(dist::ProcessGroup& group);

 private:
  int64_t d_in_, d_sae_;
  double dense_threshold_;
  int bins_;
  int64_t tokens_ = 0;
  double sq_err_ = 0, sq_norm_ = 0, active_ = 0, l1_ = 0;
  at::Tensor sum_x_;  // [d_in] double
  at::Tensor fired_;  // [d_sae] int64
};

// Runs `sae` over up to `max_tokens` activations of `source`, `batch` at a time.
ReconstructionReport evaluate_reconstruction(const Sae& sae, ActivationSource& source,
                                             int64_t max_tokens, int64_t batch = 4096);

}  // namespace saescope::sae
