#pragma once
// This process's memory, as the kernel counts it (Linux /proc/self/status).
#include <cstdint>

namespace saescope::analysis {

int64_t peak_rss_bytes();     // VmHWM: the most resident memory so far; 0 if unknown
int64_t current_rss_bytes();  // VmRSS; 0 if unknown

}  // namespace saescope::analysis
