#pragma once
// An SAE's features from a harvest's first pass, kept sparse in a file beside
// the workspace, so passes 2 and 3 read them instead of running the model or
// the SAE again. About 8 bytes per non-zero (feature id + exact float32
// value): ~0.8 GB per million tokens at L0 100, against 3 GB for the 768-wide
// hook activations that ActivationSpill keeps. The harvest deletes it when done.
//
// Files: <path> holds, per window in order, int32 n = positions stored, n
// int32 counts (non-zeros per position), then the window's int32 feature ids
// and float32 values; <path>.index holds each window's int64 end offset in
// <path>. Windows are appended in order, and a resumed run truncates both to
// the windows its last commit covered.
#include <cstdint>
#include <string>
#include <vector>

#include "core/analysis/sparse_codes.h"

namespace saescope::analysis {

class CodeSpill {
 public:
  CodeSpill(std::string path, int64_t context);
  ~CodeSpill();
  CodeSpill(const CodeSpill&) = delete;
  CodeSpill& operator=(const CodeSpill&) = delete;

  const std::string& path() const { return path_; }
  // Opens the files keeping their first `windows` windows (creating them
  // when `windows` is 0); false when they hold fewer or are inconsistent.
  bool open(int64_t windows);
  // Appends the batch's windows: `first` must be the next window.
  void write(int64_t first, const SparseCodes& codes);
  void sync();  // to disk before a commit records the windows as kept
  // The codes of these windows (any order), `context` positions each.
  SparseCodes read(const std::vector<int64_t>& windows) const;
  int64_t bytes() const { return ends_.empty() ? 0 : ends_.back(); }
  void remove();

 private:
  std::string path_;
  int64_t context_;
  int data_fd_ = -1, index_fd_ = -1;
  std::vector<int64_t> ends_;  // end offset of each stored window
};

}  // namespace saescope::analysis
