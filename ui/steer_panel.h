#pragma once
// "Does it do what its examples say?" on a feature's page: continue a prompt
// with and without the feature added (or clamped, or ablated), side by side,
// with the next tokens it promotes and suppresses; or, in Ablate mode, shade
// a text by how much each next token's log-prob falls without the feature.
// Runs as a cancellable job (engine: core/workflows/steering_request); the
// result is kept in the workspace, so asking again is instant.
#include <QWidget>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSlider;
class QSpinBox;
class QTextBrowser;

namespace saescope::ui {

class JobsPanel;
class TokenContextView;
class WorkspaceSession;

class SteerPanel : public QWidget {
  Q_OBJECT
 public:
  enum Mode { Add = 0, Clamp = 1, Ablate = 2 };
  SteerPanel(WorkspaceSession* session, JobsPanel* jobs, QWidget* parent = nullptr);

  // The feature shown; `max_act` (from its harvest) is the strength unit.
  void setFeature(const std::string& model_dir, const std::string& sae_path, int64_t feature, double max_act);
  void clearFeature();

  QLineEdit* prompt() const { return prompt_; }
  QComboBox* mode() const { return mode_; }
  QDoubleSpinBox* strength() const { return strength_; }
  QPushButton* runButton() const { return run_; }
  QTextBrowser* baseline() const { return baseline_; }
  QTextBrowser* steered() const { return steered_; }
  QLabel* nextTokens() const { return next_; }
  TokenContextView* ablation() const { return ablation_; }
  // Starts the run as the controls say; false (with the reason shown) when it cannot.
  bool run();

 signals:
  void finished(bool ok);

 private:
  void showSteer(const nlohmann::json& r);
  void showAblate(const nlohmann::json& r);
  void updateControls();

  WorkspaceSession* session_;
  JobsPanel* jobs_;
  std::string model_dir_, sae_path_;
  int64_t feature_ = -1;
  double max_act_ = 0;
  QLabel* status_ = nullptr;
  QComboBox* mode_ = nullptr;
  QLineEdit* prompt_ = nullptr;
  QSlider* slider_ = nullptr;
  QDoubleSpinBox* strength_ = nullptr;
  QLabel* unit_ = nullptr;
  QSpinBox* tokens_ = nullptr;
  QPushButton* run_ = nullptr;
  QTextBrowser* baseline_ = nullptr;
  QTextBrowser* steered_ = nullptr;
  QLabel* next_ = nullptr;
  TokenContextView* ablation_ = nullptr;
  QWidget* steerResults_ = nullptr;
};

}  // namespace saescope::ui
