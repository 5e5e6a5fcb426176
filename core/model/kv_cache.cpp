#include "core/model/kv_cache.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "core/common/error.h"

namespace saescope::model {

int64_t KvCache::length() const {
  if (layers_.empty()) return 0;
  for (const Layer& l : layers_)
    if (l.length != layers_.front().length)
      throw InternalError("KvCache: layers hold different lengths (a cached run stopped part-way)");
  return layers_.front().length;
}

std::pair<at::Tensor, at::Tensor> KvCache::append(int layer, const at::Tensor& k, const at::Tensor& v) {
  if (layer < 0) throw InternalError("KvCache::append: negative layer");
  if (static_cast<size_t>(layer) >= layers_.size()) layers_.resize(static_cast<size_t>(layer) + 1);
  Layer& l = layers_[static_cast<size_t>(layer)];
  const int64_t T = k.size(1), needed = l.length + T;
  // Grown by doubling, so n steps copy O(n) positions in all, not O(n²).
  if (!l.k.defined() || l.k.size(1) < needed) {
    const int64_t capacity = std::max<int64_t>({needed, l.k.defined() ? 2 * l.k.size(1) : 0, 64});
    at::Tensor nk = at::empty({k.size(0), capacity, k.size(2), k.size(3)}, k.options());
    at::Tensor nv = at::empty({v.size(0), capacity, v.size(2), v.size(3)}, v.options());
    if (l.length > 0) {
      nk.narrow(1, 0, l.length).copy_(l.k.narrow(1, 0, l.length));
      nv.narrow(1, 0, l.length).copy_(l.v.narrow(1, 0, l.length));
    }
    l.k = nk;
    l.v = nv;
  }
  l.k.narrow(1, l.length, T).copy_(k);
  l.v.narrow(1, l.length, T).copy_(v);
  l.length = needed;
  return {l.k.narrow(1, 0, needed), l.v.narrow(1, 0, needed)};
}

}  // namespace saescope::model
