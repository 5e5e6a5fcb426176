#pragma once
// Preferences kept in QSettings: compute device (CPU, or CUDA when LibTorch
// has it), engine threads, and the default corpus and sense dataset that new
// harvests and evaluations use. The theme follows the system (Qt's default).
#include <QDialog>

class QComboBox;
class QLineEdit;
class QSpinBox;

namespace saescope::ui {

struct EngineSettings {
  QString device = QStringLiteral("cpu");
  int threads = 0;  // 0 = all cores
  QString default_corpus;
  QString default_dataset;

  static EngineSettings load();
  void save() const;
  void apply() const;  // sets the engine's thread count
};

class SettingsDialog : public QDialog {
  Q_OBJECT
 public:
  explicit SettingsDialog(QWidget* parent = nullptr);
  EngineSettings settings() const;

 private:
  QComboBox* device_ = nullptr;
  QSpinBox* threads_ = nullptr;
  QLineEdit* corpus_ = nullptr;
  QLineEdit* dataset_ = nullptr;
};

}  // namespace saescope::ui
