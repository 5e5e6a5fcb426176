#pragma once
// Writes a file so that readers see either the old file or the complete new
// one, never a torn write: bytes go to a temp file in the same folder (same
// filesystem, so rename is atomic), which is fsynced and renamed over the
// target. If anything fails before commit(), the temp file is removed and the
// previous file is untouched.
#include <cstddef>
#include <string>

namespace saescope::io {

class AtomicFileWriter {
 public:
  // Creates the temp file beside `path`; throws InputError naming `path`.
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();  // removes the temp file unless committed
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(const void* data, size_t n);
  // fsync, rename over the target, fsync the folder. Throws InputError.
  void commit();
  const std::string& temp_path() const { return temp_path_; }

 private:
  [[noreturn]] void fail(const std::string& what);
  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace saescope::io
