#pragma once
// The SAEScope main window: File menu with workspaces, a model panel (left),
// the Features / Senses / Evaluation views (centre) and the jobs panel
// (bottom). Views read from the workspace session; long work goes to jobs.
#include <QMainWindow>

class QDockWidget;

namespace saescope::ui {

class EngineActions;
class EvaluationView;
class FeaturesView;
class JobsPanel;
class WorkspaceSession;
class ModelPanel;
class SensesView;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // One line describing the engine (LibTorch, BLAS, threads, CUDA): shown in
  // the status bar and the About box.
  static QString runtimeSummary();

  // Opens a workspace; on failure shows the error (offering recovery for a
  // damaged file) and returns false.
  bool openWorkspace(const QString& path);
  // Adds a model folder, SAE folder, corpus or sense dataset to the open
  // workspace (hashing runs as a job). False, with the error shown, when the
  // path is none of those or no workspace is open.
  bool addInput(const QString& path);

  // Opens the embedded demo's workspace (in the user's data folder) and starts
  // the job that builds or completes it (instant when it is complete); selects
  // the demo's SAE and feature as soon as they exist. False, with the error
  // shown, when the demo is not installed.
  bool openDemo();
  // Selects the SAE and feature a workspace opens on (analysis::opening_selection);
  // false when the workspace does not hold them (yet).
  bool selectOpeningFeature();
  // The most recently opened workspace that still exists, or "".
  static QString lastWorkspace();
  // Where openDemo keeps the demo's workspace (the user's data folder).
  static QString demoWorkspacePath();
  // What a start without a workspace argument opens: the demo the first time,
  // when asked, or when it was the last workspace (so its SAE and feature are
  // selected again and a build that was cut short completes); otherwise the
  // last workspace. False when that failed (the error is shown).
  bool openAtStart(bool demo_asked);

  WorkspaceSession* session() const { return session_; }
  FeaturesView* featuresView() const { return features_; }
  EvaluationView* evaluationView() const { return evaluation_; }
  SensesView* sensesView() const { return senses_; }
  JobsPanel* jobsPanel() const { return jobs_; }
  ModelPanel* modelPanel() const { return model_panel_; }
  QTabWidget* views() const { return tabs_; }
  EngineActions* actions() const { return actions_; }

 signals:
  // Errors are shown in a dialog and also signalled (tests observe this).
  void errorShown(const QString& message);

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;
  void showEvent(QShowEvent* event) override;

 private:
  void showError(const QString& title, const QString& message);
  void newWorkspace();
  void chooseWorkspace();
  void chooseInput(bool folder);
  void harvestSelected();
  void evaluate(const QList<qint64>& sae_ids);
  void buildWordNetSet();
  void newSenseSet();      // "New word…": typed in, saved as CSV, imported
  void steerTowardSense(qint64 feature, const QString& prompt);
  void importSenseSet();   // a CSV of word, sense, sentence
  void trainSae();
  void rememberRecent(const QString& path);
  // Reports the damage (errorShown), asks whether to recover, and if so
  // recovers and reopens; false when the workspace stays closed.
  bool offerRecovery(const QString& path, const QString& message);
  void rebuildRecentMenu();
  void showAbout();

  bool opened_on_feature_ = false;  // the last openWorkspace() found one to open on
  WorkspaceSession* session_ = nullptr;
  ModelPanel* model_panel_ = nullptr;
  FeaturesView* features_ = nullptr;
  EvaluationView* evaluation_ = nullptr;
  SensesView* senses_ = nullptr;
  JobsPanel* jobs_ = nullptr;
  QTabWidget* tabs_ = nullptr;
  QMenu* recent_menu_ = nullptr;
  EngineActions* actions_ = nullptr;
  QDockWidget* model_dock_ = nullptr;
  QDockWidget* jobs_dock_ = nullptr;
  bool docks_sized_ = false;  // the docks' first sizes, set once shown
};

}  // namespace saescope::ui
