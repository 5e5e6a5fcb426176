#include "core/analysis/allocator_tuning.h"

#include <atomic>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace saescope::analysis {
namespace {
std::atomic<int> g_depth{0};
constexpr int kLarge = 1 << 30;  // blocks below this come from the heap
}  // namespace

KeepLargeAllocations::KeepLargeAllocations() {
#if defined(__GLIBC__)
  if (g_depth++ == 0) {
    mallopt(M_MMAP_THRESHOLD, kLarge);
    mallopt(M_TRIM_THRESHOLD, kLarge);
  }
#endif
}

KeepLargeAllocations::~KeepLargeAllocations() {
#if defined(__GLIBC__)
  if (--g_depth == 0) {
    // glibc's initial values (its dynamic threshold stays off), and the kept memory back.
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    mallopt(M_TRIM_THRESHOLD, 128 * 1024);
    malloc_trim(0);
  }
#endif
}

}  // namespace saescope::analysis
