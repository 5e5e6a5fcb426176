#pragma once
// How long work reports progress and learns it should stop. The engine calls
// a ProgressSink; the CLI prints a line on stderr, the GUI forwards it to a
// progress bar across threads. Cancellation is checked by the engine at its
// own safe points (between batches), so a cancelled job never leaves
// half-written state.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace saescope::jobs {

struct Progress {
  std::string stage;      // "harvest", "train", "evaluate", ...
  double done = 0;        // units done (tokens, pairs, steps)
  double total = 0;       // 0 when unknown
  std::string unit;       // "tokens", "pairs", "steps"
  std::string detail;     // free text: loss parts, L0, ...
  // Set by StagedProgress for a job of several stages: the whole job's
  // fraction done by expected time (0..1; -1 for one-stage work), the stage
  // running, and how many stages have stored their results (views may show them).
  double job_fraction = -1;
  std::string job_stage;
  int job_stages_ended = 0;
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

// A job of several stages shown as one bar. Each stage's own fraction
// (done / total of its reports) is weighted by its expected seconds, so the
// job's fraction and ETA follow the expected time instead of counting stages
// (a 5-second stage is not a quarter of a 5-minute job). The ETA is the
// expected time left, scaled by how this run's pace compares with the
// expectation once it has done enough to say (stages found already done
// count as done, not as fast). Stages run in the order given.
class StagedProgress {
 public:
  // Work within a stage whose reports name it (Progress::stage): "ps-eval"
  // prompts, then "ps-eval scoring" per score, each its own count; or one
  // count shared by parts of unequal cost, each covering a stretch of it
  // (the harvest's three passes, a third of its count each).
  struct Part {
    std::string stage;
    double expected_seconds = 1;
    double from = 0, to = 1;  // the stretch of the reports' done / total this part covers
  };
  struct Stage {
    std::string name;
    double expected_seconds = 1;
    // Empty: the stage's reports count as one. Otherwise its parts in order,
    // their seconds sharing out the stage's; a report naming none of them
    // counts toward the part under way.
    std::vector<Part> parts;
  };
  // Reports go to `job`'s callback; its cancel flag stops every stage.
  StagedProgress(ProgressSink& job, std::vector<Stage> stages);
  // The sink for stage `name`'s own reports (valid until the next begin).
  // Throws InternalError for a stage not declared or out of order.
  ProgressSink& begin(const std::string& name);
  // The running stage's results are stored: reported at once, with
  // job_stages_ended counting it.
  void end();
  int stages_ended() const { return ended_; }
  double fraction() const;     // of the job, 0..1
  double eta_seconds() const;  // -1 before any stage began

 private:
  void forward(const Progress& stage_progress, double rate);
  ProgressSink& job_;
  std::vector<Stage> stages_;
  double total_expected_ = 0;
  int current_ = -1;           // index of the running stage
  int ended_ = 0;
  double stage_fraction_ = 0;  // of the running stage
  double stage_first_ = -1;    // its fraction at its first report (a resumed stage starts part-way)
  size_t part_ = 0;            // the running stage's part under way
  double worked_expected_ = 0; // expected seconds of work done in this run, ended stages
  std::chrono::steady_clock::time_point start_, stage_began_;
  std::unique_ptr<ProgressSink> stage_sink_;
};

// A ProgressSink callback printing one updating line on stderr (CLI).
ProgressSink::Callback stderr_progress_line();

std::string format_duration(double seconds);  // "1:05:09", "4:07", "0:03"

}  // namespace saescope::jobs
