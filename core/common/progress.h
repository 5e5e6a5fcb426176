#pragma once
// How long work reports progress and learns it should stop. The engine calls
// a ProgressSink; the CLI prints a line on stderr, the GUI forwards it to a
// progress bar across threads. Cancellation is checked by the engine at its
// own safe points (between batches), so a cancelled job never leaves
// half-written state.
#include <atomic>
#include <chrono>
#include <functional>
#include <string>

namespace saescope::jobs {

struct Progress {
  std::string stage;      // "harvest", "train", "evaluate", ...
  double done = 0;        // units done (tokens, pairs, steps)
  double total = 0;       // 0 when unknown
  std::string unit;       // "tokens", "pairs", "steps"
  std::string detail;     // free text: loss parts, L0, ...
};

class CancelFlag {
 public:
  void cancel() { flag_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return flag_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> flag_{false};
};

// Receives progress, tracks rate and ETA, and answers "should I stop?".
class ProgressSink {
 public:
  using Callback = std::function<void(const Progress&, double rate_per_s, double eta_s)>;
  explicit ProgressSink(Callback cb = {}, const CancelFlag* cancel = nullptr);

  // Throws saescope::Cancelled when the flag is set; call between batches.
  void report(const Progress& p);
  void check_cancelled() const;
  bool cancelled() const { return cancel_ && cancel_->cancelled(); }
  // For engine functions that take a callback and a flag of their own (and
  // keep one sink per stage, so each stage's rate counts from its start).
  const Callback& callback() const { return cb_; }
  const CancelFlag* cancel_flag() const { return cancel_; }

 private:
  Callback cb_;
  const CancelFlag* cancel_;
  std::chrono::steady_clock::time_point start_;
  double start_done_ = -1;
  double last_done_ = 0;
  std::string stage_, unit_;
};

// A ProgressSink callback printing one updating line on stderr (CLI).
ProgressSink::Callback stderr_progress_line();

std::string format_duration(double seconds);  // "1:05:09", "4:07", "0:03"

}  // namespace saescope::jobs
