#pragma once
// One long task (harvest, train, evaluate, build a dataset) run off the UI
// thread. The engine reports through a jobs::ProgressSink; this object turns
// that into queued Qt signals (throttled, so a fast loop can't flood the event
// loop) and carries the Cancel request back to the engine.
#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QStringList>
#include <functional>
#include <memory>

#include "core/common/progress.h"

class QThread;

namespace saescope::ui {

class Job : public QObject {
  Q_OBJECT
 public:
  enum class State { Queued, Running, Finished, Failed, Cancelled };
  using Work = std::function<void(jobs::ProgressSink& progress)>;

  Job(QString title, Work work, QObject* parent = nullptr);
  ~Job() override;

  const QString& title() const { return title_; }
  State state() const { return state_; }
  QString stateText() const;
  const QStringList& log() const { return log_; }
  const QString& error() const { return error_; }
  // 0..1, or -1 when unknown; a job of several stages (jobs::StagedProgress)
  // gives the whole job's fraction by expected time, not its stage's.
  double fraction() const { return fraction_; }
  const QString& stageText() const { return last_stage_; }  // "harvest pass 1/3"
  int stagesEnded() const { return stages_ended_; }
  const QString& rateText() const { return rate_text_; }
  const QString& etaText() const { return eta_text_; }

  void start();
  void cancel();     // asks the engine to stop at its next safe point
  bool wait(int ms);  // for tests and shutdown

 signals:
  void progressed();           // fraction/rate/eta changed
  void logged(const QString& line);
  void ended(saescope::ui::Job::State state);
  // A stage of a job of several stages has stored its results: views may
  // show them before the job ends, `stages_ended` counting it.
  void stageLanded(int stages_ended);

 private:
  void onProgress(const jobs::Progress& p, double rate, double eta);
  void onEnded(int state, const QString& error);

  QString title_;
  Work work_;
  State state_ = State::Queued;
  QStringList log_;
  QString error_;
  double fraction_ = -1;
  QString rate_text_, eta_text_;
  QString last_stage_;
  int stages_ended_ = 0;
  QElapsedTimer since_log_;
  jobs::CancelFlag cancel_;
  QThread* thread_ = nullptr;
};

}  // namespace saescope::ui
