#pragma once
// The SAEScope main window. For now: the shell (menus, status bar showing the
// engine's runtime); the model, features, senses and evaluation views attach here.
#include <QMainWindow>

namespace saescope::ui {

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);

  // One line describing the engine (LibTorch, BLAS, threads, CUDA): shown in
  // the status bar and the About box.
  static QString runtimeSummary();

 private:
  void showAbout();
};

}  // namespace saescope::ui
