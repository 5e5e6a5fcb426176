// MainWindow's embedded-demo entry points (File > Open the demo, and the first
// run): the demo workspace lives in the user's data folder and is built by a
// job the first time, so the window is interactive at once.
#include <QDir>
#include <QFileInfo>
#include <QSettings>
#include <QStandardPaths>

#include "core/analysis/opening_feature.h"
#include "core/demo/demo_assets.h"
#include "core/demo/demo_workspace.h"
#include "ui/features_view.h"
#include "ui/job.h"
#include "ui/jobs_panel.h"
#include "ui/main_window.h"
#include "ui/model_panel.h"
#include "ui/settings_dialog.h"
#include "ui/workspace_session.h"

namespace saescope::ui {

QString MainWindow::lastWorkspace() {
  const QStringList recent = QSettings().value(QStringLiteral("workspaces/recent")).toStringList();
  for (const QString& path : recent)
    if (QFileInfo::exists(path)) return path;
  return {};
}

QString MainWindow::demoWorkspacePath() {
  return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
         QStringLiteral("/demo/demo.saescope");
}

bool MainWindow::openAtStart(bool demo_asked) {
  const QString last = lastWorkspace();
  if (demo_asked || last.isEmpty() ||
      QFileInfo(last).absoluteFilePath() == QFileInfo(demoWorkspacePath()).absoluteFilePath())
    return openDemo();  // a missing demo is reported in the window; the app still opens
  return openWorkspace(last);
}

bool MainWindow::openDemo() {
  demo::DemoAssets assets;
  try {
    assets = demo::find_demo_assets();
  } catch (const std::exception& e) {
    emit errorShown(QString::fromStdString(e.what()));
    return false;
  }
  const QString path = demoWorkspacePath();
  const QString dir = QFileInfo(path).absolutePath();
  if (!QDir().mkpath(dir)) {
    emit errorShown(tr("%1: cannot create the folder").arg(dir));
    return false;
  }
  if (!openWorkspace(path)) return false;  // which selects the SAE and feature when the harvest is there

  demo::DemoBuildOptions options;
  options.workspace_path = path.toStdString();
  options.device = EngineSettings::load().device.toStdString();
  Job* job = jobs_->run(tr("Build the demo workspace"), [assets, options](jobs::ProgressSink& progress) {
    demo::build_demo_workspace(assets, options, progress);
  });
  // The views fill as each stage lands (the Features view once the harvest
  // is stored), saying meanwhile what is coming; a complete demo's build
  // finds every stage done within a second or two.
  session_->setBuilding(job->title());
  const QString opened = session_->path();
  const auto landed = [this, opened] {
    if (session_->path() != opened) return;  // another workspace is open by now
    session_->notifyResultsChanged();
    if (!opened_on_feature_) opened_on_feature_ = selectOpeningFeature();
  };
  connect(job, &Job::stageLanded, this, landed);
  connect(job, &Job::ended, this, [this, opened, landed] {
    if (session_->path() != opened) return;
    session_->setBuilding(QString());
    landed();
  });
  return true;
}

bool MainWindow::selectOpeningFeature() {
  if (!session_->workspace()) return false;
  const analysis::OpeningSelection pick = analysis::opening_selection(*session_->workspace());
  if (pick.sae_id < 0 || pick.feature < 0) return false;
  return model_panel_->selectSae(pick.sae_id) && features_->selectFeature(pick.feature);
}

}  // namespace saescope::ui
