#pragma once
// An SAE's features for a batch of windows, kept sparse: a harvest's feature
// matrix is [tokens, d_sae] but holds ~L0 non-zeros per token (~100 of
// 24,576), so the passes that revisit it read these instead of re-encoding.
//
// Layout (CSR over token rows): row r = b·positions + t is position t of the
// batch's window b; its non-zeros are feature[row_start[r] .. row_start[r+1])
// in ascending feature order, with their values (exact float32).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace saescope::analysis {

struct SparseCodes {
  int64_t windows = 0;    // windows in the batch
  int64_t positions = 0;  // rows per window (the batch's T)
  std::vector<int64_t> row_start{0};  // windows·positions + 1 offsets
  std::vector<int32_t> feature;
  std::vector<float> value;

  int64_t rows() const { return windows * positions; }
  int64_t nnz() const { return static_cast<int64_t>(feature.size()); }

  // The entries > 0 of feats [windows, T, d_sae] (float32, CPU, contiguous).
  // Parallel over rows; the result does not depend on the thread count.
  static SparseCodes from_dense(const at::Tensor& feats);
};

}  // namespace saescope::analysis
