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

// A transcoder's training data: two sources serving the same tokens in the
// same order (caches of one corpus at two hooks, streamed with one seed),
// served side by side as [n, d_in + d_out].
class PairedActivationSource : public ActivationSource {
 public:
  PairedActivationSource(ActivationSource& in, ActivationSource& out) : in_(in), out_(out) {}
  int64_t d_in() const override { return in_.d_in() + out_.d_in(); }
  // InputError when the two run out at different points (they are not aligned).
  at::Tensor next_batch(int64_t n) override;

 private:
  ActivationSource& in_;
  ActivationSource& out_;
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
