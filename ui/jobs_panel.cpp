#include "ui/jobs_panel.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSplitter>
#include <QToolButton>
#include <QVBoxLayout>

namespace saescope::ui {

JobsPanel::JobsPanel(QWidget* parent) : QWidget(parent) {
  auto* split = new QSplitter(Qt::Horizontal, this);
  auto* scroll = new QScrollArea(split);
  scroll->setWidgetResizable(true);
  auto* list = new QWidget(scroll);
  rows_ = new QVBoxLayout(list);
  rows_->addStretch(1);
  scroll->setWidget(list);
  log_view_ = new QPlainTextEdit(split);
  log_view_->setReadOnly(true);
  log_view_->setObjectName(QStringLiteral("jobLog"));
  log_view_->setPlaceholderText(tr("Select a job to see its log"));
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  // Stretch factors only share out extra space: without sizes the empty job
  // list starts at its tiny size hint and a job's row is squeezed unreadable.
  scroll->setMinimumWidth(420);
  split->setSizes({600, 400});
  details_ = split;
  summary_ = new QLabel(this);
  summary_->setObjectName(QStringLiteral("jobsSummary"));
  fold_ = new QToolButton(this);
  fold_->setObjectName(QStringLiteral("foldJobs"));
  connect(fold_, &QToolButton::clicked, this, [this] { setFolded(!folded_); });
  auto* header = new QHBoxLayout;
  header->setContentsMargins(4, 0, 4, 0);
  header->addWidget(summary_, 1);
  header->addWidget(fold_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(header);
  layout->addWidget(split);
  setFolded(true);  // nothing runs yet
}

void JobsPanel::setFolded(bool folded) {
  folded_ = folded;
  details_->setVisible(!folded);
  fold_->setText(folded ? tr("Show jobs") : tr("Hide"));
  // Folded, the dock shrinks to the summary line.
  setMaximumHeight(folded ? summary_->sizeHint().height() + 8 : QWIDGETSIZE_MAX);
  updateSummary();
}

void JobsPanel::updateSummary() {
  const int running = runningCount();
  QString text;
  if (running > 0) {
    text = tr("%n job(s) running", "", running);
  } else if (jobs_.isEmpty()) {
    text = tr("No job has run yet");
  } else {
    const Job* last = jobs_.last();
    text = tr("No job running · last: %1 (%2)").arg(last->title(), last->stateText());
  }
  summary_->setText(text);
}

int JobsPanel::runningCount() const {
  int n = 0;
  for (Job* j : jobs_) n += j->state() == Job::State::Running;
  return n;
}

Job* JobsPanel::run(const QString& title, Job::Work work, bool unfold) {
  auto* job = new Job(title, std::move(work), this);
  jobs_ << job;

  auto* row = new QWidget;
  row->setObjectName(QStringLiteral("jobRow"));
  auto* h = new QHBoxLayout(row);
  h->setContentsMargins(4, 2, 4, 2);
  auto* name = new QPushButton(title, row);
  name->setFlat(true);
  name->setToolTip(tr("Show this job's log"));
  auto* bar = new QProgressBar(row);
  bar->setRange(0, 1000);
  bar->setTextVisible(true);
  auto* status = new QLabel(job->stateText(), row);
  status->setMinimumWidth(220);
  auto* cancel = new QPushButton(tr("Cancel"), row);
  cancel->setObjectName(QStringLiteral("cancelJob"));
  h->addWidget(name);
  h->addWidget(bar, 1);
  h->addWidget(status);
  h->addWidget(cancel);
  rows_->insertWidget(0, row);  // newest on top

  connect(name, &QPushButton::clicked, this, [this, job] { showLog(job); });
  connect(cancel, &QPushButton::clicked, job, &Job::cancel);
  connect(job, &Job::progressed, row, [job, bar, status] {
    if (job->fraction() < 0) {
      bar->setRange(0, 0);  // busy indicator when the total is unknown
    } else {
      bar->setRange(0, 1000);
      bar->setValue(static_cast<int>(job->fraction() * 1000));
      bar->setFormat(QStringLiteral("%1%").arg(job->fraction() * 100, 0, 'f', 1));
    }
    QStringList parts{job->stateText()};
    if (job->state() == Job::State::Running) {
      if (!job->stageText().isEmpty()) parts << job->stageText();
      if (!job->rateText().isEmpty()) parts << job->rateText();
      if (!job->etaText().isEmpty()) parts << job->etaText();
    }
    status->setText(parts.join(QStringLiteral(" · ")));
  });
  connect(job, &Job::logged, this, [this, job](const QString& line) {
    if (shown_ == job) log_view_->appendPlainText(line);
  });
  connect(job, &Job::ended, this, [this, job, cancel, bar](Job::State state) {
    cancel->setEnabled(false);
    if (state != Job::State::Finished && bar->maximum() == 0) bar->setRange(0, 1000);
    if (state == Job::State::Failed) emit jobFailed(job->title(), job->error());
    if (runningCount() == 0 && state == Job::State::Finished) setFolded(true);  // idle: one line
    updateSummary();
    emit jobFinished(job);
  });
  showLog(job);
  job->start();
  if (folded_ && unfold) setFolded(false);  // show what is running
  updateSummary();
  return job;
}

void JobsPanel::showLog(Job* job) {
  shown_ = job;
  log_view_->setPlainText(job->log().join(QLatin1Char('\n')));
}

}  // namespace saescope::ui
