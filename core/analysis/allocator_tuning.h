#pragma once
// glibc hands blocks of 32 MB and more straight back to the kernel when they
// are freed, so a harvest's per-batch feature matrix (1,024 tokens × 24,576
// features = 100 MB) and every temporary of its size is page-faulted in anew
// each batch: measured 3-4x slower element-wise ops and reductions. While a
// harvest runs, large blocks are kept in the heap and reused instead.
namespace saescope::analysis {

// Keeps large freed blocks for reuse until the guard ends, then returns the
// free memory to the system (malloc_trim). Process-wide; nests.
class KeepLargeAllocations {
 public:
  KeepLargeAllocations();
  ~KeepLargeAllocations();
  KeepLargeAllocations(const KeepLargeAllocations&) = delete;
  KeepLargeAllocations& operator=(const KeepLargeAllocations&) = delete;
};

}  // namespace saescope::analysis
