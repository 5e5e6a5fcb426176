#include "core/analysis/code_spill.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "core/analysis/spill_io.h"
#include "core/common/error.h"

namespace saescope::analysis {
namespace {

int64_t file_size(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

}  // namespace

CodeSpill::CodeSpill(std::string path, int64_t context) : path_(std::move(path)), context_(context) {}

CodeSpill::~CodeSpill() {
  if (data_fd_ >= 0) ::close(data_fd_);
  if (index_fd_ >= 0) ::close(index_fd_);
}

bool CodeSpill::open(int64_t windows) {
  if (data_fd_ >= 0) ::close(data_fd_);
  if (index_fd_ >= 0) ::close(index_fd_);
  ends_.clear();
  const int create = windows == 0 ? O_CREAT : 0;
  data_fd_ = ::open(path_.c_str(), O_RDWR | create, 0644);
  index_fd_ = ::open((path_ + ".index").c_str(), O_RDWR | create, 0644);
  auto fail = [&] {
    if (data_fd_ >= 0) ::close(data_fd_);
    if (index_fd_ >= 0) ::close(index_fd_);
    data_fd_ = index_fd_ = -1;
    ends_.clear();
    return false;
  };
  if (data_fd_ < 0 || index_fd_ < 0) return fail();
  if (file_size(index_fd_) < windows * 8) return fail();
  ends_.resize(static_cast<size_t>(windows));
  if (windows > 0 && !read_all(index_fd_, ends_.data(), ends_.size() * 8, 0)) return fail();
  for (size_t w = 0; w < ends_.size(); ++w)
    if (ends_[w] < (w ? ends_[w - 1] : 0)) return fail();
  if (file_size(data_fd_) < bytes()) return fail();
  if (::ftruncate(index_fd_, static_cast<off_t>(windows * 8)) != 0 ||
      ::ftruncate(data_fd_, static_cast<off_t>(bytes())) != 0)
    return fail();
  return true;
}

void CodeSpill::write(int64_t first, const SparseCodes& c) {
  if (first != static_cast<int64_t>(ends_.size()))
    throw InternalError(path_ + ": window " + std::to_string(first) + " written after " +
                        std::to_string(ends_.size()));
  std::vector<char> buf;
  std::vector<int64_t> ends;
  int64_t end = bytes();
  const int32_t T = static_cast<int32_t>(c.positions);
  for (int64_t b = 0; b < c.windows; ++b) {
    const size_t r0 = static_cast<size_t>(b * T), r1 = r0 + static_cast<size_t>(T);
    const int64_t lo = c.row_start[r0], hi = c.row_start[r1];
    const size_t at = buf.size();
    buf.resize(at + 4 * (1 + static_cast<size_t>(T)) + 8 * static_cast<size_t>(hi - lo));
    char* p = buf.data() + at;
    std::memcpy(p, &T, 4);
    p += 4;
    for (size_t r = r0; r < r1; ++r) {
      const int32_t n = static_cast<int32_t>(c.row_start[r + 1] - c.row_start[r]);
      std::memcpy(p, &n, 4);
      p += 4;
    }
    std::memcpy(p, c.feature.data() + lo, 4 * static_cast<size_t>(hi - lo));
    p += 4 * (hi - lo);
    std::memcpy(p, c.value.data() + lo, 4 * static_cast<size_t>(hi - lo));
    end += static_cast<int64_t>(buf.size() - at);
    ends.push_back(end);
  }
  write_all(data_fd_, buf.data(), buf.size(), bytes(), path_);
  write_all(index_fd_, ends.data(), ends.size() * 8, static_cast<int64_t>(ends_.size()) * 8, path_ + ".index");
  ends_.insert(ends_.end(), ends.begin(), ends.end());
}

void CodeSpill::sync() {
  if (data_fd_ >= 0) ::fdatasync(data_fd_);
  if (index_fd_ >= 0) ::fdatasync(index_fd_);
}

SparseCodes CodeSpill::read(const std::vector<int64_t>& windows) const {
  SparseCodes c;
  c.windows = static_cast<int64_t>(windows.size());
  c.positions = context_;
  c.row_start.assign(static_cast<size_t>(c.rows()) + 1, 0);
  std::vector<char> buf;
  auto bad = [&](int64_t w, const std::string& what) {
    return InternalError(path_ + ": harvest features of window " + std::to_string(w) + " " + what);
  };
  for (size_t b = 0; b < windows.size(); ++b) {
    const int64_t w = windows[b];
    if (w < 0 || w >= static_cast<int64_t>(ends_.size())) throw bad(w, "are not stored");
    const int64_t start = w ? ends_[static_cast<size_t>(w - 1)] : 0;
    buf.resize(static_cast<size_t>(ends_[static_cast<size_t>(w)] - start));
    if (!read_all(data_fd_, buf.data(), buf.size(), start)) throw bad(w, "cannot be read back");
    int32_t T = 0;
    if (buf.size() >= 4) std::memcpy(&T, buf.data(), 4);
    if (buf.size() < 4 + 4 * static_cast<size_t>(std::max(T, 0)) || T < 0 || T > context_)
      throw bad(w, "are damaged");
    const char* counts = buf.data() + 4;
    int64_t nnz = 0;
    const size_t row0 = b * static_cast<size_t>(context_);
    for (int32_t t = 0; t < T; ++t) {
      int32_t n = 0;
      std::memcpy(&n, counts + 4 * t, 4);
      nnz += n;
      c.row_start[row0 + static_cast<size_t>(t) + 1] = n;
    }
    if (buf.size() != 4 + 4 * static_cast<size_t>(T) + 8 * static_cast<size_t>(nnz)) throw bad(w, "are damaged");
    const char* ids = counts + 4 * T;
    const size_t at = c.feature.size();
    c.feature.resize(at + static_cast<size_t>(nnz));
    c.value.resize(at + static_cast<size_t>(nnz));
    std::memcpy(c.feature.data() + at, ids, 4 * static_cast<size_t>(nnz));
    std::memcpy(c.value.data() + at, ids + 4 * nnz, 4 * static_cast<size_t>(nnz));
  }
  for (size_t r = 0; r + 1 < c.row_start.size(); ++r) c.row_start[r + 1] += c.row_start[r];
  return c;
}

void CodeSpill::remove() {
  if (data_fd_ >= 0) ::close(data_fd_);
  if (index_fd_ >= 0) ::close(index_fd_);
  data_fd_ = index_fd_ = -1;
  ends_.clear();
  std::error_code ec;
  std::filesystem::remove(path_, ec);
  std::filesystem::remove(path_ + ".index", ec);
}

}  // namespace saescope::analysis
