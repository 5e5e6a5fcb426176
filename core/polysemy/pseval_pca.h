#pragma once
// The 2-D map of one word's occurrences that the GUI scatters: principal
// component analysis of their SAE codes. Computed through the n×n Gram matrix
// of the centred codes (n occurrences is small, d_sae is large), in double.
// Each axis's sign is fixed so that its largest |coordinate| is positive,
// making the picture the same from run to run.
#include <ATen/core/Tensor.h>

namespace saescope::polysemy {

// rows: [n, d] -> [n, 2] double on the CPU: the coordinates on the first two
// principal components (0 where there is no such component: n < 3, or all
// rows on a line or equal).
at::Tensor pca_2d(const at::Tensor& rows);

}  // namespace saescope::polysemy
