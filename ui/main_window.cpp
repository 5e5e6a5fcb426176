#include "ui/main_window.h"

#include <QApplication>
#include <memory>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QMimeData>
#include <QFileDialog>
#include <QFile>
#include <QRegularExpression>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QStatusBar>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLineEdit>
#include <QTabWidget>
#include <QTimer>

#include "core/common/runtime_info.h"
#include "core/workflows/input_probe.h"
#include "core/store/sae_model.h"
#include "core/workflows/workspace_choices.h"
#include "core/store/workspace.h"
#include "ui/engine_actions.h"
#include "ui/evaluation_view.h"
#include "ui/features_view.h"
#include "ui/steer_panel.h"
#include "ui/jobs_panel.h"
#include "ui/model_panel.h"
#include "ui/sense_set_dialog.h"
#include "ui/senses_view.h"
#include "ui/settings_dialog.h"
#include "ui/train_dialog.h"
#include "core/model/model_registry.h"
#include "core/model/hook_point.h"
#include "ui/workspace_session.h"

namespace saescope::ui {

namespace {
constexpr int kMaxRecent = 8;
const char* kRecentKey = "workspaces/recent";
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle(QStringLiteral("SAEScope"));
  resize(1600, 1000);
  setAcceptDrops(true);
  session_ = new WorkspaceSession(this);

  model_panel_ = new ModelPanel(session_, this);
  auto* modelDock = new QDockWidget(tr("Model"), this);
  modelDock->setObjectName(QStringLiteral("modelDock"));
  modelDock->setWidget(model_panel_);
  addDockWidget(Qt::LeftDockWidgetArea, modelDock);

  jobs_ = new JobsPanel(this);
  auto* jobsDock = new QDockWidget(tr("Jobs"), this);
  jobsDock->setObjectName(QStringLiteral("jobsDock"));
  jobsDock->setWidget(jobs_);
  addDockWidget(Qt::BottomDockWidgetArea, jobsDock);

  tabs_ = new QTabWidget(this);
  tabs_->setObjectName(QStringLiteral("views"));
  features_ = new FeaturesView(session_, jobs_, tabs_);
  tabs_->addTab(features_, tr("&Features"));
  senses_ = new SensesView(session_, tabs_);
  tabs_->addTab(senses_, tr("&Senses"));
  evaluation_ = new EvaluationView(session_, tabs_);
  tabs_->addTab(evaluation_, tr("&Evaluation"));
  setCentralWidget(tabs_);

  connect(model_panel_, &ModelPanel::saeSelected, features_, &FeaturesView::setSae);
  connect(model_panel_, &ModelPanel::saeSelected, senses_, &SensesView::setSae);
  connect(senses_, &SensesView::newWordRequested, this, &MainWindow::newSenseSet);
  connect(senses_, &SensesView::steerRequested, this, &MainWindow::steerTowardSense);
  connect(evaluation_, &EvaluationView::saeClicked, model_panel_, &ModelPanel::selectSae);
  actions_ = new EngineActions(session_, jobs_, this);
  connect(evaluation_, &EvaluationView::evaluateRequested, this, &MainWindow::evaluate);
  connect(jobs_, &JobsPanel::jobFailed, this, [this](const QString& title, const QString& error) {
    showError(tr("%1 failed").arg(title), error);
  });
  connect(jobs_, &JobsPanel::jobFinished, session_, &WorkspaceSession::notifyResultsChanged);
  connect(session_, &WorkspaceSession::opened, this, [this] {
    setWindowTitle(QStringLiteral("%1 — SAEScope").arg(QFileInfo(session_->path()).fileName()));
  });

  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&New workspace…"), QKeySequence::New, this, &MainWindow::newWorkspace);
  file->addAction(tr("&Open workspace…"), QKeySequence::Open, this, &MainWindow::chooseWorkspace);
  file->addAction(tr("Open the &demo"), this, &MainWindow::openDemo);
  recent_menu_ = file->addMenu(tr("Open &recent"));
  rebuildRecentMenu();
  file->addSeparator();
  file->addAction(tr("Add model or SAE &folder…"), this, [this] { chooseInput(true); });
  file->addAction(tr("Add corpus, &dataset or SAE file…"), this, [this] { chooseInput(false); });
  file->addSeparator();
  file->addAction(tr("&Settings…"), QKeySequence::Preferences, this, [this] {
    SettingsDialog dialog(this);
    dialog.exec();
  });
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, qApp, &QApplication::quit);
  QMenu* analyse = menuBar()->addMenu(tr("&Analyse"));
  analyse->addAction(tr("&Harvest features of the selected SAE…"), QKeySequence(tr("Ctrl+H")), this,
                     &MainWindow::harvestSelected);
  analyse->addAction(tr("&Evaluate the selected SAE (PS-Eval)"), QKeySequence(tr("Ctrl+E")), this, [this] {
    if (auto sae = model_panel_->currentSae()) evaluate({sae->input.id});
  });
  analyse->addAction(tr("&Train SAE…"), QKeySequence(tr("Ctrl+T")), this, &MainWindow::trainSae);
  analyse->addAction(tr("Build the &WordNet sense dataset…"), this, &MainWindow::buildWordNetSet);
  analyse->addAction(tr("New &word: a sense set of your own…"), this, &MainWindow::newSenseSet);
  analyse->addAction(tr("&Import a sense set (CSV: word, sense, sentence)…"), this, &MainWindow::importSenseSet);
  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&About SAEScope"), this, &MainWindow::showAbout);

  model_dock_ = modelDock;
  jobs_dock_ = jobsDock;
  auto* engine = new QLabel(runtimeSummary(), this);
  engine->setObjectName(QStringLiteral("engineLabel"));
  statusBar()->addPermanentWidget(engine);
}

MainWindow::~MainWindow() = default;

void MainWindow::showEvent(QShowEvent* event) {
  QMainWindow::showEvent(event);
  if (docks_sized_) return;
  docks_sized_ = true;
  // Sized after the first layout: it shares the room beyond the views' size
  // hints between them and the docks, and undoes an earlier size (the model
  // dock took 460 px of 1600, squeezing the feature table's columns).
  QTimer::singleShot(0, this, [this] {  // after the first layout, which would undo it
    resizeDocks({jobs_dock_}, {160}, Qt::Vertical);
    resizeDocks({model_dock_}, {330}, Qt::Horizontal);  // an SAE line ("blocks.2.hook_resid_post · topk k=32 · 1536") whole
  });
}

QString MainWindow::runtimeSummary() {
  const RuntimeInfo info = runtime_info();
  const QString blas = info.blas_library.empty()
                           ? tr("no BLAS mapped")
                           : QFileInfo(QString::fromStdString(info.blas_library)).fileName();
  return tr("LibTorch %1 · BLAS %2%3 · %4 threads · CUDA %5")
      .arg(QString::fromStdString(info.torch_version), blas,
           info.blas_is_optimised ? QString() : tr(" (reference, slow)"))
      .arg(info.intra_op_threads)
      .arg(info.cuda_available ? tr("available") : tr("not available"));
}

bool MainWindow::openWorkspace(const QString& path) {
  try {
    session_->open(path);
  } catch (const store::WorkspaceDamaged& e) {
    return offerRecovery(path, QString::fromStdString(e.what()));
  } catch (const std::exception& e) {
    showError(tr("Cannot open workspace"), QString::fromStdString(e.what()));
    return false;
  }
  rememberRecent(path);
  opened_on_feature_ = selectOpeningFeature();  // an SAE and a telling feature: no page opens empty
  // The window is usable at once; damage found by the full check (every page
  // read, ~1 s per 120 MB) offers the same recovery as damage found on open.
  const std::string opened = session_->path().toStdString();
  auto problem = std::make_shared<std::string>();
  Job* check = jobs_->run(tr("Check %1").arg(QFileInfo(path).fileName()),
                          [opened, problem](jobs::ProgressSink& progress) {
                            progress.report({"integrity check", 0, 1, "files", opened});
                            // Interruptible, so quitting does not wait for it.
                            *problem = store::Workspace::check_integrity(
                                opened, [&progress] { return progress.cancelled(); });
                          },
                          /*unfold=*/false);
  connect(check, &Job::ended, this, [this, opened, problem](Job::State state) {
    if (state != Job::State::Finished || problem->empty()) return;
    if (session_->path().toStdString() != opened) return;  // another workspace is open by now
    session_->close();
    offerRecovery(QString::fromStdString(opened), QString::fromStdString(*problem));
  });
  return true;
}

bool MainWindow::offerRecovery(const QString& path, const QString& message) {
  emit errorShown(message);
  const auto answer = QMessageBox::question(this, tr("Workspace damaged"), message + tr("\n\nRecover it now?"),
                                            QMessageBox::Yes | QMessageBox::No);
  if (answer != QMessageBox::Yes) return false;
  const auto report = store::Workspace::recover(path.toStdString());
  statusBar()->showMessage(tr("Recovered: kept %1 inputs and %2 notes; the damaged file is %3")
                               .arg(report.inputs_kept)
                               .arg(report.notes_kept)
                               .arg(QString::fromStdString(report.damaged_copy)));
  return openWorkspace(path);
}

void MainWindow::showError(const QString& title, const QString& message) {
  emit errorShown(message);
  auto* box = new QMessageBox(QMessageBox::Critical, title, message, QMessageBox::Ok, this);
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->open();  // window-modal, never blocks the event loop
}

void MainWindow::newWorkspace() {
  QString path = QFileDialog::getSaveFileName(this, tr("New workspace"), QString(),
                                              tr("SAEScope workspace (*.saescope)"));
  if (path.isEmpty()) return;
  if (!path.endsWith(QLatin1String(".saescope"))) path += QLatin1String(".saescope");
  openWorkspace(path);
}

void MainWindow::chooseWorkspace() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Open workspace"), QString(),
                                                    tr("SAEScope workspace (*.saescope)"));
  if (!path.isEmpty()) openWorkspace(path);
}

bool MainWindow::addInput(const QString& path) {
  if (!session_->isOpen()) {
    showError(tr("No workspace open"),
              tr("%1: open or create a workspace (File menu) before adding models, SAEs, "
                 "corpora or datasets.").arg(path));
    return false;
  }
  jobs::ProbedInput probed;
  try {
    probed = jobs::probe_input(path.toStdString());  // cheap: reads the config only
  } catch (const std::exception& e) {
    showError(tr("Cannot add %1").arg(QFileInfo(path).fileName()), QString::fromStdString(e.what()));
    return false;
  }
  // Hashing a checkpoint reads all of it: a job, on its own connection.
  const std::string workspace = session_->path().toStdString();
  const std::string input = path.toStdString();
  jobs_->run(tr("Add %1").arg(QString::fromStdString(probed.description)),
             [workspace, input](jobs::ProgressSink& progress) {
               progress.report({"hash", 0, 1, "inputs", input});
               auto ws = store::Workspace::open(workspace, store::IntegrityCheck::Skip);
               jobs::register_probed(*ws, input);
               progress.report({"hash", 1, 1, "inputs", input});
             });
  return true;
}

void MainWindow::harvestSelected() {
  const auto sae = model_panel_->currentSae();
  if (!sae) return showError(tr("Harvest"), tr("Select an SAE in the model panel first."));
  QString corpus = actions_->defaultCorpus();
  if (corpus.isEmpty())
    corpus = QFileDialog::getOpenFileName(this, tr("Corpus to harvest over"), QString(),
                                          tr("Corpora (*.txt *.jsonl)"));
  if (corpus.isEmpty()) return;
  QString error;
  if (!actions_->harvest(*sae, corpus, 0, &error)) showError(tr("Cannot harvest"), error);
}

void MainWindow::evaluate(const QList<qint64>& sae_ids) {
  QString error;
  if (!actions_->evaluate(sae_ids, actions_->defaultDataset(), &error))
    showError(tr("Cannot evaluate"), error);
}

void MainWindow::trainSae() {
  store::Workspace* ws = session_->workspace();
  if (!ws) return showError(tr("Train SAE"), tr("Open or create a workspace first."));
  const auto model = store::newest_model(*ws);
  if (!model) return showError(tr("Train SAE"), tr("Add a model folder to the workspace first."));
  QStringList hooks;
  int context = 0;
  try {
    for (const auto& h : model::read_hook_schema(model->path).names()) hooks << QString::fromStdString(h);
    context = static_cast<int>(workflows::default_context(model->path));
  } catch (const std::exception& e) {
    return showError(tr("Train SAE"), QString::fromStdString(e.what()));
  }
  QString hook = model_panel_->currentHook();
  if (hook.isEmpty()) hook = QString::fromStdString(workflows::default_training_hook(*model));
  const QString out = QFileInfo(session_->path()).absolutePath() + QStringLiteral("/saes/") +
                      hook + QStringLiteral("-topk");
  TrainDialog dialog(hooks, hook, actions_->defaultCorpus(), out, context, this);
  if (dialog.exec() != QDialog::Accepted) return;
  QString error;
  if (!actions_->train(dialog.request(), &error)) showError(tr("Cannot train"), error);
}

void MainWindow::newSenseSet() {
  if (!session_->isOpen()) return showError(tr("New word"), tr("Open or create a workspace first."));
  SenseSetDialog dialog(this);
  if (dialog.exec() != QDialog::Accepted) return;
  const QString dir = QFileInfo(session_->path()).absolutePath() + QStringLiteral("/senses");
  QString name = dialog.word();
  name.replace(QRegularExpression(QStringLiteral("[^\\w-]+")), QStringLiteral("_"));
  const QString path = dir + QLatin1Char('/') + name + QStringLiteral(".csv");
  QFile file(path);
  if (!QDir().mkpath(dir) || !file.open(QIODevice::WriteOnly | QIODevice::Truncate) ||
      file.write(dialog.csv().toUtf8()) < 0)
    return showError(tr("New word"), tr("%1: cannot write (%2)").arg(path, file.errorString()));
  file.close();
  QString error;
  if (!actions_->importSenseSet(path, &error)) showError(tr("Cannot import the sense set"), error);
}

void MainWindow::importSenseSet() {
  if (!session_->isOpen()) return showError(tr("Import a sense set"), tr("Open or create a workspace first."));
  const QString csv = QFileDialog::getOpenFileName(this, tr("Sense set (word, sense, sentence)"), QString(),
                                                   tr("CSV files (*.csv)"));
  if (csv.isEmpty()) return;
  QString error;
  if (!actions_->importSenseSet(csv, &error)) showError(tr("Cannot import the sense set"), error);
}

void MainWindow::buildWordNetSet() {
  if (!session_->isOpen()) return showError(tr("WordNet"), tr("Open or create a workspace first."));
  const QString dir = QFileDialog::getExistingDirectory(
      this, tr("Folder for the WordNet sense dataset"), QFileInfo(session_->path()).absolutePath());
  if (dir.isEmpty()) return;
  QString error;
  if (!actions_->buildWordNetSet(dir, &error)) showError(tr("Cannot build the dataset"), error);
}

void MainWindow::chooseInput(bool folder) {
  const QString path =
      folder ? QFileDialog::getExistingDirectory(this, tr("Add a model folder or SAE folder"))
             : QFileDialog::getOpenFileName(this, tr("Add a corpus, sense dataset or SAE file"), QString(),
                                            tr("Corpora and datasets (*.txt *.jsonl *.json *.csv);;"
                                               "SAE files (*.npz *.pt *.safetensors)"));
  if (!path.isEmpty()) addInput(path);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  for (const QUrl& url : event->mimeData()->urls()) {
    if (!url.isLocalFile()) continue;
    const QString path = url.toLocalFile();
    if (path.endsWith(QLatin1String(".saescope"))) openWorkspace(path);
    else addInput(path);
  }
  event->acceptProposedAction();
}

void MainWindow::rememberRecent(const QString& path) {
  QSettings settings;
  QStringList recent = settings.value(kRecentKey).toStringList();
  const QString abs = QFileInfo(path).absoluteFilePath();
  recent.removeAll(abs);
  recent.prepend(abs);
  while (recent.size() > kMaxRecent) recent.removeLast();
  settings.setValue(kRecentKey, recent);
  rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
  recent_menu_->clear();
  const QStringList recent = QSettings().value(kRecentKey).toStringList();
  for (const QString& path : recent)
    recent_menu_->addAction(path, this, [this, path] { openWorkspace(path); });
  recent_menu_->setEnabled(!recent.isEmpty());
}

void MainWindow::showAbout() {
  QMessageBox::about(this, tr("About SAEScope"),
                     tr("<b>SAEScope %1</b><p>Sparse autoencoders on language-model "
                        "activations, with polysemy evaluation (PS-Eval).</p><p>%2</p>")
                         .arg(QStringLiteral(SAESCOPE_VERSION), runtimeSummary()));
}

// The sense's feature on its page, added to the prompt at twice its largest
// harvested activation; the user can then move the strength and run again.
void MainWindow::steerTowardSense(qint64 feature, const QString& prompt) {
  tabs_->setCurrentWidget(features_);
  if (!features_->selectFeature(feature)) {
    showError(tr("Cannot steer"), tr("Feature %1 is not in this SAE's harvest: harvest the SAE first (its largest "
                                     "activations set the strength's unit).").arg(feature));
    return;
  }
  SteerPanel* steer = features_->steerPanel();
  steer->mode()->setCurrentIndex(SteerPanel::Add);
  steer->prompt()->setText(prompt);
  steer->strength()->setValue(2.0);
  steer->run();
  features_->scrollToSteerPanel();
}

}  // namespace saescope::ui
