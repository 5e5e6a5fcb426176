#pragma once
// Keys and values of the positions already run, per layer, so that
// generation computes only the new token's position at each step. A forward
// pass given a cache (RunRequest::cache) treats its tokens as the positions
// after those held, attends to the held keys and appends its own; it always
// runs to the logits, so every layer's cache stays the same length.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace saescope::model {

class KvCache {
 public:
  // Positions held (0 before the first run). InternalError when the layers
  // disagree (a run that stopped part-way).
  int64_t length() const;

  // Appends this run's keys and values [B, T, Hkv, Dh] (keys after rotary)
  // for `layer`; returns every position's so far, [B, length + T, Hkv, Dh].
  std::pair<at::Tensor, at::Tensor> append(int layer, const at::Tensor& k, const at::Tensor& v);

 private:
  struct Layer {
    at::Tensor k, v;  // [B, capacity, Hkv, Dh]; the first `length` positions used
    int64_t length = 0;
  };
  std::vector<Layer> layers_;
};

}  // namespace saescope::model
