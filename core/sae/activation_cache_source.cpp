#include "core/sae/activation_cache_source.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "core/common/error.h"
#include "core/common/portable_random.h"

namespace saescope::sae {

CacheActivationSource::CacheActivationSource(ActivationCache cache, CacheStreamOptions options)
    : cache_(std::move(cache)), o_(options), rng_(options.seed) {
  first_ = o_.first_row;
  rows_ = o_.rows < 0 ? cache_.rows() - first_ : o_.rows;
  if (first_ < 0 || rows_ <= 0 || first_ + rows_ > cache_.rows())
    throw InputError(cache_.path() + ": rows [" + std::to_string(first_) + ", " +
                     std::to_string(first_ + rows_) + ") are not within its " +
                     std::to_string(cache_.rows()) + " complete rows");
  if (o_.chunk_rows <= 0 || o_.buffer_rows <= 0 || o_.epochs < 0)
    throw InputError("cache stream: chunk and buffer sizes must be positive, epochs >= 0");
}

bool CacheActivationSource::refill() {
  const int64_t n_chunks = (rows_ + o_.chunk_rows - 1) / o_.chunk_rows;
  if (next_chunk_ == chunk_order_.size()) {  // a new epoch
    if (!chunk_order_.empty()) {
      if (o_.epochs > 0 && epoch_ + 1 >= o_.epochs) {
        epoch_ = o_.epochs;
        return false;
      }
      ++epoch_;
    }
    chunk_order_.resize(static_cast<size_t>(n_chunks));
    for (int64_t c = 0; c < n_chunks; ++c) chunk_order_[static_cast<size_t>(c)] = c;
    if (o_.shuffle) polysemy::portable_shuffle(chunk_order_, rng_);
    next_chunk_ = 0;
  }
  const int64_t per_buffer = std::max<int64_t>(1, o_.buffer_rows / o_.chunk_rows);
  std::vector<at::Tensor> parts;
  for (int64_t k = 0; k < per_buffer && next_chunk_ < chunk_order_.size(); ++k, ++next_chunk_) {
    const int64_t begin = chunk_order_[next_chunk_] * o_.chunk_rows;
    parts.push_back(cache_.rows(first_ + begin, std::min(o_.chunk_rows, rows_ - begin)));
  }
  buffer_ = at::cat(parts, 0);  // a copy: the served rows never alias the file
  if (o_.shuffle) {
    std::vector<int64_t> perm(static_cast<size_t>(buffer_.size(0)));
    for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int64_t>(i);
    polysemy::portable_shuffle(perm, rng_);
    buffer_ = buffer_.index_select(0, at::tensor(perm, at::kLong));
  }
  served_ = 0;
  return true;
}

at::Tensor CacheActivationSource::next_batch(int64_t n) {
  std::vector<at::Tensor> parts;
  int64_t left = n;
  while (left > 0) {
    if (!buffer_.defined() || served_ == buffer_.size(0)) {
      if (!refill()) break;
    }
    const int64_t take = std::min(left, buffer_.size(0) - served_);
    parts.push_back(buffer_.narrow(0, served_, take));
    served_ += take;
    left -= take;
  }
  if (parts.empty()) return at::empty({0, d_in()}, at::kFloat);
  return (parts.size() == 1 ? parts[0] : at::cat(parts, 0)).to(at::kFloat);
}

int64_t holdout_first_row(const ActivationCache& cache, double fraction) {
  if (!(fraction >= 0 && fraction <= 1))
    throw InputError("the held-out fraction must lie in [0, 1], not " + std::to_string(fraction));
  const int64_t w = cache.windows();
  if (fraction == 0 || w == 0) return cache.rows();
  if (fraction == 1) return 0;
  int64_t held = static_cast<int64_t>(std::ceil(fraction * static_cast<double>(w)));
  held = std::clamp<int64_t>(held, 1, std::max<int64_t>(1, w - 1));
  return cache.window_first_row(w - held);
}

}  // namespace saescope::sae
