#pragma once
// The jobs panel: every long task with its progress bar, rate, ETA and Cancel;
// finished jobs stay listed with their log. A failed job raises jobFailed so
// the window can show the error (which names the file and cause). While no
// job runs it folds to one line (what ran last, a Show button), so it does
// not take the window's room; a job starting unfolds it.
#include <QWidget>

#include "ui/job.h"

class QLabel;
class QListWidget;
class QPlainTextEdit;
class QToolButton;
class QVBoxLayout;

namespace saescope::ui {

class JobsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit JobsPanel(QWidget* parent = nullptr);
  // Takes ownership and starts the job. `unfold`: show the panel for it (a
  // background check that takes a second need not).
  Job* run(const QString& title, Job::Work work, bool unfold = true);
  QList<Job*> jobs() const { return jobs_; }
  int runningCount() const;
  bool folded() const { return folded_; }
  void setFolded(bool folded);

 signals:
  void jobFailed(const QString& title, const QString& error);
  void jobFinished(saescope::ui::Job* job);

 private:
  void showLog(Job* job);
  void updateSummary();
  QWidget* details_ = nullptr;
  QLabel* summary_ = nullptr;
  QToolButton* fold_ = nullptr;
  bool folded_ = false;
  QVBoxLayout* rows_ = nullptr;
  QPlainTextEdit* log_view_ = nullptr;
  QList<Job*> jobs_;
  Job* shown_ = nullptr;
};

}  // namespace saescope::ui
