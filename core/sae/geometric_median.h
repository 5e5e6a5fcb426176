#pragma once
// The geometric median of a point cloud (Weiszfeld's iteration): where
// SAELens starts b_dec, since it is robust to the heavy tails of activations.
#include <ATen/core/Tensor.h>

namespace saescope::sae {

// points: [n, d]. Starts at the mean; stops after `max_iter` steps or when a
// step moves less than `tol`·(1 + ‖y‖). Returns [d] float32 on points' device.
at::Tensor geometric_median(const at::Tensor& points, int max_iter = 100, double tol = 1e-6);

}  // namespace saescope::sae
