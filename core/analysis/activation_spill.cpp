#include "core/analysis/activation_spill.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/common/error.h"

namespace saescope::analysis {

ActivationSpill::ActivationSpill(std::string path, int64_t context, int64_t width)
    : path_(std::move(path)), context_(context), width_(width) {}

ActivationSpill::~ActivationSpill() {
  if (fd_ >= 0) ::close(fd_);
}

bool ActivationSpill::open(int64_t windows) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path_.c_str(), O_RDWR | (windows == 0 ? O_CREAT : 0), 0644);
  if (fd_ < 0) return false;
  struct stat st {};
  const off_t want = static_cast<off_t>(windows * record_bytes());
  if (::fstat(fd_, &st) != 0 || st.st_size < want || ::ftruncate(fd_, want) != 0) {
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  return true;
}

void ActivationSpill::write(int64_t first, const at::Tensor& values) {
  const int64_t n = values.size(0), T = values.size(1);
  at::Tensor rec = values.to(at::kCPU, at::kFloat).contiguous();
  if (T < context_) rec = at::constant_pad_nd(rec, {0, 0, 0, context_ - T}).contiguous();
  const auto* p = static_cast<const char*>(rec.data_ptr());
  size_t left = static_cast<size_t>(n * record_bytes());
  off_t at = static_cast<off_t>(first * record_bytes());
  while (left > 0) {
    const ssize_t w = ::pwrite(fd_, p, left, at);
    if (w <= 0)
      throw InputError(path_ + ": cannot write harvest activations (" + std::strerror(errno) +
                       "); is the disk full?");
    p += w;
    at += w;
    left -= static_cast<size_t>(w);
  }
}

void ActivationSpill::sync() {
  if (fd_ >= 0) ::fdatasync(fd_);
}

at::Tensor ActivationSpill::read(int64_t first, int64_t n) const {
  at::Tensor out = at::empty({n, context_, width_}, at::kFloat);
  auto* p = static_cast<char*>(out.data_ptr());
  size_t left = static_cast<size_t>(n * record_bytes());
  off_t at = static_cast<off_t>(first * record_bytes());
  while (left > 0) {
    const ssize_t r = ::pread(fd_, p, left, at);
    if (r <= 0) throw InternalError(path_ + ": cannot read harvest activations back");
    p += r;
    at += r;
    left -= static_cast<size_t>(r);
  }
  return out;
}

int64_t ActivationSpill::bytes() const {
  struct stat st {};
  return fd_ >= 0 && ::fstat(fd_, &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

void ActivationSpill::remove() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

}  // namespace saescope::analysis
