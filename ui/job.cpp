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
    jobs::ProgressSink sink(
        [this, last](const jobs::Progress& p, double rate, double eta) {
          const auto now = std::chrono::steady_clock::now();
          const bool final_report = p.total > 0 && p.done >= p.total;
          if (!final_report && now - *last < std::chrono::milliseconds(100)) return;
          *last = now;
          QMetaObject::invokeMethod(
              this,
              [this, stage = QString::fromStdString(p.stage), done = p.done, total = p.total,
               unit = QString::fromStdString(p.unit), detail = QString::fromStdString(p.detail),
               rate, eta] { onProgress(stage, done, total, unit, detail, rate, eta); },
              Qt::QueuedConnection);
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

void Job::onProgress(const QString& stage, double done, double total, const QString& unit,
                     const QString& detail, double rate, double eta) {
  fraction_ = total > 0 ? std::min(1.0, done / total) : -1;
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
