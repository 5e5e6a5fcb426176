#pragma once
// Streams an activation cache to training or evaluation as an
// ActivationSource, shuffled through a buffer (seeded, so a run repeats).
//
// Each epoch visits every row of the chosen range exactly once: the range is
// cut into chunks of contiguous rows (cheap sequential reads from the mapped
// file), the chunks' order is shuffled, and a buffer of several chunks at a
// time is shuffled row by row before it is served. Rows that sit near each
// other in the corpus (same window, same document) are so spread over the
// epoch. Shuffles use the portable generator, so a seed means the same order
// on every platform.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <random>
#include <vector>

#include "core/sae/activation_cache.h"
#include "core/sae/activation_source.h"

namespace saescope::sae {

struct CacheStreamOptions {
  int64_t first_row = 0;
  int64_t rows = -1;           // -1: to the end of the cache
  bool shuffle = true;
  uint64_t seed = 42;
  int64_t buffer_rows = 65536;  // rows shuffled together (rounded to whole chunks)
  int64_t chunk_rows = 512;     // contiguous rows read together
  int64_t epochs = 1;           // 0: start over, reshuffled, forever
};

class CacheActivationSource : public ActivationSource {
 public:
  // InputError when the range lies outside the cache's complete rows or is empty.
  CacheActivationSource(ActivationCache cache, CacheStreamOptions options = {});
  int64_t d_in() const override { return cache_.d_in(); }
  // float32 [n, d_in] on the CPU; fewer rows at the end of the last epoch.
  at::Tensor next_batch(int64_t n) override;

  const ActivationCache& cache() const { return cache_; }
  int64_t rows_per_epoch() const { return rows_; }
  int64_t epoch() const { return epoch_; }  // 0-based; == epochs once exhausted

 private:
  bool refill();  // false once the last epoch is spent
  ActivationCache cache_;
  CacheStreamOptions o_;
  int64_t first_ = 0, rows_ = 0;
  std::mt19937_64 rng_;
  std::vector<int64_t> chunk_order_;
  size_t next_chunk_ = 0;
  int64_t epoch_ = 0;
  at::Tensor buffer_;  // rows being served, in serving order (cache dtype)
  int64_t served_ = 0;
};

// Splits a cache by windows for a held-out evaluation: the first row of the
// last ceil(fraction × windows) complete windows (at least one window is
// held out when fraction > 0, at least one kept when fraction < 1).
int64_t holdout_first_row(const ActivationCache& cache, double fraction);

}  // namespace saescope::sae
