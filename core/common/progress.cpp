#include "core/common/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unistd.h>

#include "core/common/error.h"

namespace saescope::jobs {

ProgressSink::ProgressSink(Callback cb, const CancelFlag* cancel)
    : cb_(std::move(cb)), cancel_(cancel), start_(std::chrono::steady_clock::now()) {}

void ProgressSink::check_cancelled() const {
  if (cancelled()) throw Cancelled();
}

void ProgressSink::report(const Progress& p) {
  // Rate counts from the first report of each stage, so resumed work doesn't
  // look instant and a job of several stages (or several runs of one stage,
  // where the count starts over) shows each one's own rate and ETA.
  if (start_done_ < 0 || p.stage != stage_ || p.unit != unit_ || p.done < last_done_) {
    stage_ = p.stage;
    unit_ = p.unit;
    start_done_ = p.done;
    start_ = std::chrono::steady_clock::now();
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? (p.done - start_done_) / elapsed : 0;
  const double eta = (p.total > 0 && rate > 0) ? (p.total - p.done) / rate : -1;
  last_done_ = p.done;
  if (cb_) cb_(p, rate, eta);
  check_cancelled();
}

StagedProgress::StagedProgress(ProgressSink& job, std::vector<Stage> stages)
    : job_(job), stages_(std::move(stages)), start_(std::chrono::steady_clock::now()) {
  for (const Stage& s : stages_) total_expected_ += std::max(0.0, s.expected_seconds);
}

ProgressSink& StagedProgress::begin(const std::string& name) {
  int next = current_ + 1;
  while (next < static_cast<int>(stages_.size()) && stages_[static_cast<size_t>(next)].name != name) ++next;
  if (next >= static_cast<int>(stages_.size()))
    throw InternalError("progress: stage '" + name + "' is not declared, or comes out of order");
  // The stages before it have ended, also one left without end().
  ended_ = std::max(ended_, next);
  current_ = next;
  stage_fraction_ = 0;
  stage_first_ = -1;
  part_ = 0;
  stage_began_ = std::chrono::steady_clock::now();
  stage_sink_ = std::make_unique<ProgressSink>(
      [this](const Progress& p, double rate, double) { forward(p, rate); }, job_.cancel_flag());
  return *stage_sink_;
}

void StagedProgress::forward(const Progress& stage_progress, double rate) {
  if (stage_progress.total > 0) {
    double f = std::clamp(stage_progress.done / stage_progress.total, 0.0, 1.0);
    const auto& parts = stages_[static_cast<size_t>(current_)].parts;
    if (!parts.empty()) {  // the part's own count, placed within the stage by the parts' seconds
      for (size_t j = part_; j < parts.size(); ++j)
        if (parts[j].stage == stage_progress.stage) part_ = j;
      double all = 0, before = 0;
      for (size_t j = 0; j < parts.size(); ++j) {
        all += parts[j].expected_seconds;
        if (j < part_) before += parts[j].expected_seconds;
      }
      const Part& part = parts[part_];
      const double within = part.to > part.from ? std::clamp((f - part.from) / (part.to - part.from), 0.0, 1.0) : 1.0;
      if (all > 0) f = (before + part.expected_seconds * within) / all;
    }
    // Never back: a stage whose engine counts a second run from zero holds
    // the bar rather than rewinding it.
    if (stage_first_ < 0) stage_first_ = f;
    stage_fraction_ = std::max(stage_fraction_, f);
  }
  Progress p = stage_progress;
  p.job_fraction = fraction();
  p.job_stage = stages_[static_cast<size_t>(current_)].name;
  p.job_stages_ended = ended_;
  if (job_.callback()) job_.callback()(p, rate, eta_seconds());
}

void StagedProgress::end() {
  if (current_ < 0 || ended_ > current_) return;
  const Stage& s = stages_[static_cast<size_t>(current_)];
  const double lasted =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - stage_began_).count();
  // Work done in this run: from the first report on; all of it for a stage
  // that said nothing but took its time; none for one found done at once.
  if (stage_first_ >= 0) worked_expected_ += s.expected_seconds * (1 - stage_first_);
  else if (lasted > 1) worked_expected_ += s.expected_seconds;
  ended_ = current_ + 1;
  stage_fraction_ = 1;
  stage_first_ = -1;
  Progress p{s.name, 1, 1, "stages", "stored"};
  p.job_fraction = fraction();
  p.job_stage = s.name;
  p.job_stages_ended = ended_;
  if (job_.callback()) job_.callback()(p, 0, eta_seconds());
  job_.check_cancelled();
}

double StagedProgress::fraction() const {
  if (total_expected_ <= 0 || current_ < 0) return 0;
  double done = 0;
  for (int i = 0; i < current_; ++i) done += stages_[static_cast<size_t>(i)].expected_seconds;
  done += stages_[static_cast<size_t>(current_)].expected_seconds * stage_fraction_;
  return std::clamp(done / total_expected_, 0.0, 1.0);
}

double StagedProgress::eta_seconds() const {
  if (current_ < 0) return -1;
  double worked = worked_expected_;
  if (ended_ <= current_ && stage_first_ >= 0)
    worked += stages_[static_cast<size_t>(current_)].expected_seconds * (stage_fraction_ - stage_first_);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  // The expectation alone until this run has done a few seconds' worth.
  const double pace = worked >= std::min(5.0, 0.02 * total_expected_) && worked > 0 ? elapsed / worked : 1.0;
  return (1 - fraction()) * total_expected_ * pace;
}

std::string format_duration(double s) {
  if (s < 0 || !std::isfinite(s)) return "?";
  long t = std::lround(s);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}

ProgressSink::Callback stderr_progress_line() {
  const bool tty = isatty(STDERR_FILENO);
  auto last = std::make_shared<std::chrono::steady_clock::time_point>();
  return [tty, last](const Progress& p, double rate, double eta) {
    const auto now = std::chrono::steady_clock::now();
    const bool finished = p.total > 0 && p.done >= p.total;
    // At most 4 lines a second on a terminal, one every 5 s in a log file.
    if (!finished && now - *last < std::chrono::milliseconds(tty ? 250 : 5000)) return;
    *last = now;
    char line[512];
    if (p.job_fraction >= 0)  // a stage of a longer job: the job's share done and time left
      std::snprintf(line, sizeof line, "%.1f%% of the job (%s), ETA %s · %s: %.0f/%.0f %s, %.0f %s/s %s",
                    100.0 * p.job_fraction, p.job_stage.c_str(), format_duration(eta).c_str(),
                    p.stage.c_str(), p.done, p.total, p.unit.c_str(), rate, p.unit.c_str(), p.detail.c_str());
    else if (p.total > 0)
      std::snprintf(line, sizeof line, "%s: %.0f/%.0f %s (%.1f%%), %.0f %s/s, ETA %s %s",
                    p.stage.c_str(), p.done, p.total, p.unit.c_str(), 100.0 * p.done / p.total,
                    rate, p.unit.c_str(), format_duration(eta).c_str(), p.detail.c_str());
    else
      std::snprintf(line, sizeof line, "%s: %.0f %s, %.0f %s/s %s", p.stage.c_str(), p.done,
                    p.unit.c_str(), rate, p.unit.c_str(), p.detail.c_str());
    std::fprintf(stderr, tty ? "\r\033[K%s%s" : "%s%s", line, (tty && !finished) ? "" : "\n");
    std::fflush(stderr);
  };
}

}  // namespace saescope::jobs
