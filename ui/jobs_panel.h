#pragma once
// The jobs panel: every long task with its progress bar, rate, ETA and Cancel;
// finished jobs stay listed with their log. A failed job raises jobFailed so
// the window can show the error (which names the file and cause).
#include <QWidget>

#include "ui/job.h"

class QListWidget;
class QPlainTextEdit;
class QVBoxLayout;

namespace saescope::ui {

class JobsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit JobsPanel(QWidget* parent = nullptr);
  // Takes ownership and starts the job.
  Job* run(const QString& title, Job::Work work);
  QList<Job*> jobs() const { return jobs_; }
  int runningCount() const;

 signals:
  void jobFailed(const QString& title, const QString& error);
  void jobFinished(saescope::ui::Job* job);

 private:
  void showLog(Job* job);
  QVBoxLayout* rows_ = nullptr;
  QPlainTextEdit* log_view_ = nullptr;
  QList<Job*> jobs_;
  Job* shown_ = nullptr;
};

}  // namespace saescope::ui
