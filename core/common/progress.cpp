#include "core/common/progress.h"

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
    if (p.total > 0)
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
