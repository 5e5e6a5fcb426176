#include "core/analysis/sparse_codes.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "core/common/error.h"

namespace saescope::analysis {

SparseCodes SparseCodes::from_dense(const at::Tensor& feats) {
  if (feats.dim() != 3 || feats.scalar_type() != at::kFloat || !feats.is_contiguous() ||
      !feats.device().is_cpu())
    throw InternalError("SparseCodes::from_dense: want [windows, T, d_sae] float32 contiguous on the CPU");
  SparseCodes c;
  c.windows = feats.size(0);
  c.positions = feats.size(1);
  const int64_t rows = c.rows(), d = feats.size(2);
  const float* F = feats.data_ptr<float>();
  // Two reads of the matrix, both parallel over rows: count, then fill at
  // the offsets the counts give.
  std::vector<int64_t> count(static_cast<size_t>(rows), 0);
  at::parallel_for(0, rows, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* row = F + r * d;
      int64_t n = 0;
      for (int64_t f = 0; f < d; ++f) n += row[f] > 0.0f;
      count[static_cast<size_t>(r)] = n;
    }
  });
  c.row_start.assign(static_cast<size_t>(rows) + 1, 0);
  for (int64_t r = 0; r < rows; ++r)
    c.row_start[static_cast<size_t>(r) + 1] = c.row_start[static_cast<size_t>(r)] + count[static_cast<size_t>(r)];
  c.feature.resize(static_cast<size_t>(c.row_start.back()));
  c.value.resize(static_cast<size_t>(c.row_start.back()));
  at::parallel_for(0, rows, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* row = F + r * d;
      size_t at = static_cast<size_t>(c.row_start[static_cast<size_t>(r)]);
      for (int64_t f = 0; f < d; ++f)
        if (row[f] > 0.0f) {
          c.feature[at] = static_cast<int32_t>(f);
          c.value[at++] = row[f];
        }
    }
  });
  return c;
}

}  // namespace saescope::analysis
