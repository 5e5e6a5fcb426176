#include "core/corpus/window_source.h"

#include <algorithm>

namespace saescope::analysis {

VectorWindowSource::VectorWindowSource(std::vector<std::vector<int32_t>> windows)
    : windows_(std::move(windows)) {}

std::vector<TokenWindow> VectorWindowSource::next(int64_t n) {
  std::vector<TokenWindow> out;
  const int64_t size = static_cast<int64_t>(windows_.size());
  for (; n > 0 && pos_ < size; --n, ++pos_) out.push_back({pos_, windows_[static_cast<size_t>(pos_)]});
  return out;
}

WindowCount VectorWindowSource::count() {
  WindowCount c;
  c.windows = static_cast<int64_t>(windows_.size());
  for (const auto& w : windows_) c.tokens += static_cast<int64_t>(w.size());
  c.last_length = windows_.empty() ? 0 : static_cast<int64_t>(windows_.back().size());
  return c;
}

}  // namespace saescope::analysis
