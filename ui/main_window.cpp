#include "ui/main_window.h"

#include <QApplication>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>

#include "core/common/runtime_info.h"

namespace saescope::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle(QStringLiteral("SAEScope"));
  resize(1600, 1000);

  QMenu* file = menuBar()->addMenu(tr("&File"));
  QAction* quit = file->addAction(tr("&Quit"), qApp, &QApplication::quit);
  quit->setShortcut(QKeySequence::Quit);

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&About SAEScope"), this, &MainWindow::showAbout);

  auto* engine = new QLabel(runtimeSummary(), this);
  engine->setObjectName(QStringLiteral("engineLabel"));
  statusBar()->addPermanentWidget(engine);
}

QString MainWindow::runtimeSummary() {
  const RuntimeInfo info = runtime_info();
  const QString blas = info.blas_library.empty()
                           ? tr("no BLAS mapped")
                           : QFileInfo(QString::fromStdString(info.blas_library)).path();
  return tr("LibTorch %1 · BLAS %2%3 · %4 threads · CUDA %5")
      .arg(QString::fromStdString(info.torch_version), blas,
           info.blas_is_optimised ? QString() : tr(" (reference, slow)"))
      .arg(info.intra_op_threads)
      .arg(info.cuda_available ? tr("available") : tr("not available"));
}

void MainWindow::showAbout() {
  QMessageBox::about(this, tr("About SAEScope"),
                     tr("<b>SAEScope %1</b><p>Sparse autoencoders on GPT-2-family "
                        "activations, with polysemy evaluation (PS-Eval).</p><p>%2</p>")
                         .arg(QStringLiteral(SAESCOPE_VERSION), runtimeSummary()));
}

}  // namespace saescope::ui
