#include "core/analysis/spill_io.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/common/error.h"

namespace saescope::analysis {

void write_all(int fd, const void* data, size_t bytes, int64_t offset, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  off_t at = static_cast<off_t>(offset);
  while (bytes > 0) {
    const ssize_t w = ::pwrite(fd, p, bytes, at);
    if (w <= 0)
      throw InputError(path + ": cannot write harvest data (" + std::strerror(errno) +
                       "); is the disk full?");
    p += w;
    at += w;
    bytes -= static_cast<size_t>(w);
  }
}

bool read_all(int fd, void* data, size_t bytes, int64_t offset) {
  char* p = static_cast<char*>(data);
  off_t at = static_cast<off_t>(offset);
  while (bytes > 0) {
    const ssize_t r = ::pread(fd, p, bytes, at);
    if (r <= 0) return false;
    p += r;
    at += r;
    bytes -= static_cast<size_t>(r);
  }
  return true;
}

}  // namespace saescope::analysis
