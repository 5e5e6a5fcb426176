#include "core/sae/geometric_median.h"

#include <ATen/ATen.h>

#include "core/common/error.h"

namespace saescope::sae {

at::Tensor geometric_median(const at::Tensor& points, int max_iter, double tol) {
  if (points.dim() != 2 || points.size(0) == 0)
    throw InternalError("geometric_median needs a non-empty [n, d] tensor");
  const at::Tensor x = points.to(at::kDouble);
  at::Tensor y = x.mean({0});
  for (int i = 0; i < max_iter; ++i) {
    // Weights 1/distance; a point sitting on y gets a large but finite weight.
    const at::Tensor w = (x - y).norm(2, {1}).clamp_min(1e-12).reciprocal();
    const at::Tensor next = (w.unsqueeze(1) * x).sum({0}) / w.sum();
    const double moved = (next - y).norm().item<double>();
    y = next;
    if (moved < tol * (1.0 + y.norm().item<double>())) break;
  }
  return y.to(points.device(), at::kFloat);
}

}  // namespace saescope::sae
