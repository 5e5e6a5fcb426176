#pragma once
// Where training and evaluation get activations from. The activation cache,
// a live model run and synthetic data all implement this, so the trainer and
// the metrics never care which one feeds them.
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace saescope::sae {

class ActivationSource {
 public:
  virtual ~ActivationSource() = default;
  virtual int64_t d_in() const = 0;
  // The next `n` activations as a float tensor [n, d_in] (any device; the
  // consumer moves it). Sources that can run out return fewer rows, and an
  // empty tensor once exhausted. InputError for unreadable data.
  virtual at::Tensor next_batch(int64_t n) = 0;
};

// Serves the rows of one in-memory tensor [rows, d_in] in order, then stops
// (or starts over when `cycle`). For tests, the CLI and small files.
class TensorActivationSource : public ActivationSource {
 public:
  explicit TensorActivationSource(at::Tensor rows, bool cycle = false);
  int64_t d_in() const override;
  at::Tensor next_batch(int64_t n) override;

 private:
  at::Tensor rows_;
  int64_t pos_ = 0;
  bool cycle_ = false;
};

}  // namespace saescope::sae
