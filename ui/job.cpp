#include "ui/job.h"

#include <QMetaObject>
#include <QThread>
#include <chrono>

#include "core/common/error.h"

namespace saescope::ui {

Job::Job(QString title, Work work, QObject* parent)
    : QObject(parent), title_(std::move(title)), work_(std::move(work)) {}

Job::~Job() {
  if (thread_) {
    cancel_.cancel();
    thread_->wait();
  }
}

QString Job::stateText() const {
  switch (state_) {
    case State::Queued: return tr("queued");
    case State::Running: return tr("running");
    case State::Finished: return tr("finished");
    case State::Failed: return tr("failed");
    case State::Cancelled: return tr("cancelled");
  }
  return {};
}

void Job::start() {
  if (state_ != State::Queued) return;
  state_ = State::Running;
  log_ << tr("started %1").arg(title_);
  emit logged(log_.back());
  thread_ = QThread::create([this] {
    // Runs on the worker thread: only queued invocations touch `this`'s state.
    auto last = std::make_shared<std::chrono::steady_clock::time_point>();
    auto last_stage = std::make_shared<std::string>();
    jobs::ProgressSink sink(
        [this, last, last_stage](const jobs::Progress& p, double rate, double eta) {
          const auto now = std::chrono::steady_clock::now();
          // A stage's last report and a new stage's first always pass: the
          // bar and the log must not wait for a report that may be long in coming.
          const bool final_report = p.total > 0 && p.done >= p.total;
          if (!final_report && p.stage == *last_stage && now - *last < std::chrono::milliseconds(100)) return;
          *last = now;
          *last_stage = p.stage;
          QMetaObject::invokeMethod(
              this, [this, p, rate, eta] { onProgress(p, rate, eta); }, Qt::QueuedConnection);
        },
        &cancel_);
    int end = static_cast<int>(State::Finished);
    QString error;
    try {
      work_(sink);
    } catch (const Cancelled&) {
      end = static_cast<int>(State::Cancelled);
    } catch (const std::exception& e) {
      end = static_cast<int>(State::Failed);
      error = QString::fromStdString(e.what());
    }
    QMetaObject::invokeMethod(
        this, [this, end, error] { onEnded(end, error); }, Qt::QueuedConnection);
  });
  thread_->start();
}

void Job::cancel() {
  if (state_ != State::Running) return;
  cancel_.cancel();
  log_ << tr("cancel requested");
  emit logged(log_.back());
}

bool Job::wait(int ms) { return !thread_ || thread_->wait(ms); }

void Job::onProgress(const jobs::Progress& p, double rate, double eta) {
  const QString stage = QString::fromStdString(p.stage), unit = QString::fromStdString(p.unit),
                detail = QString::fromStdString(p.detail);
  const double done = p.done, total = p.total;
  if (p.job_fraction >= 0) fraction_ = std::min(1.0, p.job_fraction);
  else fraction_ = total > 0 ? std::min(1.0, done / total) : -1;
  rate_text_ = rate > 0 ? tr("%1 %2/s").arg(rate, 0, 'f', rate < 10 ? 1 : 0).arg(unit) : QString();
  eta_text_ = eta >= 0 ? tr("ETA %1").arg(QString::fromStdString(jobs::format_duration(eta)))
                       : QString();
  // The log keeps a line per stage change and one every 5 s, not every tick.
  if (stage != last_stage_ || !since_log_.isValid() || since_log_.elapsed() > 5000) {
    last_stage_ = stage;
    since_log_.start();
    const QString line = total > 0 ? tr("%1: %2/%3 %4 %5").arg(stage).arg(done).arg(total).arg(unit, detail)
                                   : tr("%1: %2 %3 %4").arg(stage).arg(done).arg(unit, detail);
    log_ << line.trimmed();
    emit logged(log_.back());
  }
  emit progressed();
  if (p.job_stages_ended > stages_ended_) {
    stages_ended_ = p.job_stages_ended;
    emit stageLanded(stages_ended_);
  }
}

void Job::onEnded(int state, const QString& error) {
  thread_->wait();
  thread_->deleteLater();
  thread_ = nullptr;
  state_ = static_cast<State>(state);
  error_ = error;
  if (state_ == State::Finished) fraction_ = 1.0;
  log_ << (error.isEmpty() ? stateText() : tr("failed: %1").arg(error));
  emit logged(log_.back());
  emit progressed();
  emit ended(state_);
}

}  // namespace saescope::ui
