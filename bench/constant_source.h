#pragma once
// The same batch every time, as an activation source: a training benchmark
// and its baseline then both pay nothing for producing data.
#include <ATen/ATen.h>

#include <algorithm>

#include "core/sae/activation_source.h"

namespace bench {

class ConstantSource : public saescope::sae::ActivationSource {
 public:
  explicit ConstantSource(at::Tensor x) : x_(std::move(x)) {}
  int64_t d_in() const override { return x_.size(1); }
  at::Tensor next_batch(int64_t n) override { return x_.narrow(0, 0, std::min(n, x_.size(0))); }

 private:
  at::Tensor x_;
};

}  // namespace bench
