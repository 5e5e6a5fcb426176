#include "core/sae/activation_source.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "core/common/error.h"

namespace saescope::sae {

TensorActivationSource::TensorActivationSource(at::Tensor rows, bool cycle)
    : rows_(std::move(rows)), cycle_(cycle) {
  if (!rows_.defined() || rows_.dim() != 2)
    throw InternalError("TensorActivationSource needs a [rows, d_in] tensor");
  if (cycle_ && rows_.size(0) == 0)
    throw InternalError("TensorActivationSource cannot cycle over zero rows");
}

int64_t TensorActivationSource::d_in() const { return rows_.size(1); }

at::Tensor TensorActivationSource::next_batch(int64_t n) {
  const int64_t total = rows_.size(0);
  if (!cycle_) {
    const int64_t take = std::max<int64_t>(0, std::min(n, total - pos_));
    at::Tensor out = rows_.narrow(0, pos_, take);
    pos_ += take;
    return out;
  }
  std::vector<at::Tensor> parts;
  int64_t left = n;
  while (left > 0) {
    const int64_t take = std::min(left, total - pos_);
    parts.push_back(rows_.narrow(0, pos_, take));
    pos_ = (pos_ + take) % total;
    left -= take;
  }
  return parts.size() == 1 ? parts[0] : at::cat(parts, 0);
}

at::Tensor PairedActivationSource::next_batch(int64_t n) {
  const at::Tensor a = in_.next_batch(n), b = out_.next_batch(n);
  const int64_t na = a.defined() ? a.size(0) : 0, nb = b.defined() ? b.size(0) : 0;
  if (na != nb)
    throw InputError("transcoder training: the input and output activations ran out at different rows (" +
                     std::to_string(na) + " against " + std::to_string(nb) + "): they are not of the same tokens");
  if (na == 0) return at::Tensor();
  return at::cat({a.to(at::kFloat), b.to(a.device(), at::kFloat)}, 1);
}

}  // namespace saescope::sae
