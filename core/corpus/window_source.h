#pragma once
// Token windows: what a harvest (and the SAE activation cache) feeds the
// model, one fixed-length context at a time, in a deterministic order with a
// stable index so a run can stop and resume at window N.
#include <cstdint>
#include <vector>

namespace saescope::analysis {

struct TokenWindow {
  int64_t index = 0;             // 0, 1, 2 ... in corpus order
  std::vector<int32_t> tokens;   // tokens[0] is BOS; at most the context length
};

struct WindowCount {
  int64_t windows = 0;
  int64_t tokens = 0;            // over all windows, BOS included
  int64_t last_length = 0;       // the last window may be shorter than the context
};

class WindowSource {
 public:
  virtual ~WindowSource() = default;
  // The next `n` windows (fewer at the end, none once exhausted).
  virtual std::vector<TokenWindow> next(int64_t n) = 0;
  // The next call to next() starts at `window_index` (past the end: exhausted).
  virtual void seek(int64_t window_index) = 0;
  virtual int64_t position() const = 0;
  // How many windows and tokens there are in all; may scan the whole source.
  virtual WindowCount count() = 0;
};

// Windows held in memory (benchmarks, tests, token ids from elsewhere).
class VectorWindowSource : public WindowSource {
 public:
  explicit VectorWindowSource(std::vector<std::vector<int32_t>> windows);
  std::vector<TokenWindow> next(int64_t n) override;
  void seek(int64_t window_index) override { pos_ = window_index < 0 ? 0 : window_index; }
  int64_t position() const override { return pos_; }
  WindowCount count() override;

 private:
  std::vector<std::vector<int32_t>> windows_;
  int64_t pos_ = 0;
};

}  // namespace saescope::analysis
