#include "core/polysemy/pseval_pca.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace saescope::polysemy {

at::Tensor pca_2d(const at::Tensor& rows) {
  const int64_t n = rows.size(0);
  at::Tensor out = at::zeros({n, 2}, at::kDouble);
  if (n < 2) return out;
  const at::Tensor x = rows.to(at::kCPU, at::kDouble);
  const at::Tensor centred = x - x.mean(0, /*keepdim=*/true);
  const at::Tensor gram = at::matmul(centred, centred.t());
  // Eigenvalues ascending; the Gram matrix's eigenvector u with eigenvalue λ
  // gives the coordinates √λ·u on the matching principal axis.
  const auto [values, vectors] = at::linalg_eigh(gram);
  const double largest = values[n - 1].item<double>();
  const double floor = std::max(largest, 0.0) * 1e-10;
  for (int64_t k = 0; k < 2 && k < n; ++k) {
    const double lambda = values[n - 1 - k].item<double>();
    if (lambda <= floor || lambda <= 0) break;
    at::Tensor coord = vectors.select(1, n - 1 - k) * std::sqrt(lambda);
    const int64_t biggest = coord.abs().argmax().item<int64_t>();
    if (coord[biggest].item<double>() < 0) coord = -coord;
    out.select(1, k).copy_(coord);
  }
  return out;
}

}  // namespace saescope::polysemy
