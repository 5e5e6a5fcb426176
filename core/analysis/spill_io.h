#pragma once
// Whole-buffer pread/pwrite for the harvest's spill files (activation_spill.h,
// code_spill.h), which write and read records far larger than one call moves.
#include <cstddef>
#include <cstdint>
#include <string>

namespace saescope::analysis {

// InputError naming `path` (disk full, ...) when the bytes cannot be written.
void write_all(int fd, const void* data, size_t bytes, int64_t offset, const std::string& path);
// false when the file ends early or cannot be read.
bool read_all(int fd, void* data, size_t bytes, int64_t offset);

}  // namespace saescope::analysis
