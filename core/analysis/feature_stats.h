#pragma once
// Per-feature statistics of one SAE over a harvest, accumulated batch by
// batch in bounded memory (O(d_sae), whatever the corpus size):
//
//  pass 1: fire count, sum and max of each feature's activations, and its
//          top-k windows by the window's largest activation (one example per
//          window; ties: the earlier window): one read of the batch's
//          non-zeros gives the sums and each window's max → [d_sae, windows],
//          which is concatenated with the running [d_sae, k] and cut back by
//          a stable sort.
//  pass 2: with each feature's max known, a histogram of its non-zero
//          activations (log-spaced bins, histogram_edges()), the count of
//          activations in each of 10 equal-width intervals (0, max], and 5
//          samples per interval: the 5 activations of smallest priority
//          sample_priority(), i.e. a uniform sample without replacement that
//          depends only on which tokens are in the interval, never on batch
//          order (bottom-k sampling).
// Both passes read the batch's non-zeros only (SparseCodes), in token order.
//
// Only activations > 0 count as firing. Callers zero the positions that must
// not count (BOS at position 0, padding) before adding a batch.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/analysis/sparse_codes.h"

namespace saescope::analysis {

struct StatsShape {
  int64_t d_sae = 0;
  int64_t top_k = 20;
  int64_t context = 128;     // window length: token id of (w, t) is w·context + t
  int intervals = 10;
  int interval_samples = 5;
  int histogram_bins = 50;
  double histogram_decades = 3;  // bins span [max·10^-decades, max]
  uint64_t seed = 0;
};

// The histogram edges of a feature with maximum `max`: bins+1 values
// max·10^(-decades + decades·i/bins). Bin 0 also counts the (rare)
// activations below the first edge.
std::vector<float> histogram_edges(float max, int bins, double decades);
// Bin of activation a > 0 given a feature's edges: the last i with edges[i] <= a,
// clamped to [0, bins-1].
int histogram_bin(float a, const float* edges, int bins);
// Interval of a > 0 among n equal-width intervals of (0, max]: floor(n·a/max),
// the maximum itself in the last.
int interval_of(float a, float max, int n);
// Priority of the token with id `token` (window·context + pos) for `feature`:
// a bijection of the token id for each feature, so never tied.
uint64_t sample_priority(int64_t token, int64_t feature, uint64_t seed);
constexpr uint64_t kEmptySlot = ~uint64_t(0);

class FeatureStats {
 public:
  FeatureStats() = default;
  explicit FeatureStats(const StatsShape& shape);

  const StatsShape& shape() const { return shape_; }

  // A batch's features (sparse_codes.h); `windows` holds the window index
  // of each of its windows.
  void add_pass1(const SparseCodes& codes, const std::vector<int64_t>& windows);
  void begin_pass2();  // fixes the histogram edges from the maxima
  void add_pass2(const SparseCodes& codes, const std::vector<int64_t>& windows);

  // A distributed harvest: every rank's accumulators over its own windows
  // (`ranks`, in rank order, this one's among them) become what one process
  // over all windows holds. Pass 1: counts and sums added (in rank order),
  // maxima taken, top lists joined by (value desc, window asc) as add_pass1
  // keeps them; pass 2: counts added, each interval's samples the S of
  // smallest priority among the ranks' (disjoint tokens: never tied).
  void merge_pass1(const std::vector<FeatureStats>& ranks);
  void merge_pass2(const std::vector<FeatureStats>& ranks);

  // Everything above as named CPU tensors, for the resume file, and back.
  std::map<std::string, at::Tensor> state() const;
  // InternalError when a tensor is missing or has the wrong shape.
  void load_state(const std::map<std::string, at::Tensor>& tensors);

  // Accumulators (read them after the passes).
  at::Tensor fire_count;        // [d_sae] int64
  at::Tensor act_sum;           // [d_sae] float64
  at::Tensor act_max;           // [d_sae] float32
  at::Tensor top_value;         // [d_sae, k] float32, descending; 0 = empty slot
  at::Tensor top_window;        // [d_sae, k] int64, -1 = empty
  at::Tensor top_pos;           // [d_sae, k] int64
  at::Tensor hist_edges;        // [d_sae, bins + 1] float32 (after begin_pass2)
  at::Tensor hist_counts;       // [d_sae, bins] int64
  at::Tensor interval_counts;   // [d_sae, intervals] int64
  at::Tensor sample_priority_;  // [d_sae, intervals, samples] int64 (uint64 bits), ascending
  at::Tensor sample_window;     // [d_sae, intervals, samples] int64
  at::Tensor sample_pos;        // [d_sae, intervals, samples] int64
  at::Tensor sample_value;      // [d_sae, intervals, samples] float32

 private:
  // Keeps each row's k best by (value desc, window asc); `windows_sorted`:
  // the columns already ascend by window among equal values.
  void keep_top(const at::Tensor& values, const at::Tensor& windows, const at::Tensor& pos, bool windows_sorted);

  StatsShape shape_;
  std::vector<uint64_t> salt_;  // feature_salt of each feature, made on first use
};

}  // namespace saescope::analysis
