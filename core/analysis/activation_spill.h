#pragma once
// The hook activations of a harvest's first pass, kept in a file beside the
// workspace so the later passes run only the SAE, not the model (the model
// is most of the cost). Exact float32, one fixed-size record per window
// (context × width, zero-padded), so window w lives at w × record bytes and a
// resumed run truncates the file to the windows its last commit covered.
// Costs 4 · width bytes per token on disk (3 GB per million tokens of a
// 768-wide residual stream); the harvest deletes it when done.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

namespace saescope::analysis {

class ActivationSpill {
 public:
  ActivationSpill(std::string path, int64_t context, int64_t width);
  ~ActivationSpill();
  ActivationSpill(const ActivationSpill&) = delete;
  ActivationSpill& operator=(const ActivationSpill&) = delete;

  const std::string& path() const { return path_; }
  int64_t record_bytes() const { return context_ * width_ * 4; }
  // Opens the file keeping its first `windows` records (creating it when
  // `windows` is 0); false when it holds fewer, or cannot be opened.
  bool open(int64_t windows);
  // values [n, T <= context, width] for windows first .. first+n-1.
  void write(int64_t first, const at::Tensor& values);
  void sync();  // to disk before a commit records the windows as kept
  // [n, context, width] float32 on the CPU.
  at::Tensor read(int64_t first, int64_t n) const;
  int64_t bytes() const;  // the file's size
  void remove();

 private:
  std::string path_;
  int64_t context_, width_;
  int fd_ = -1;
};

}  // namespace saescope::analysis
