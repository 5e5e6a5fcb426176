#include "core/analysis/activation_spill.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "core/analysis/spill_io.h"
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
  write_all(fd_, rec.data_ptr(), static_cast<size_t>(n * record_bytes()), first * record_bytes(), path_);
}

void ActivationSpill::sync() {
  if (fd_ >= 0) ::fdatasync(fd_);
}

at::Tensor ActivationSpill::read(int64_t first, int64_t n) const {
  at::Tensor out = at::empty({n, context_, width_}, at::kFloat);
  if (!read_all(fd_, out.data_ptr(), static_cast<size_t>(n * record_bytes()), first * record_bytes()))
    throw InternalError(path_ + ": cannot read harvest activations back");
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
