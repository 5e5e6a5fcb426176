// saescope: the desktop app.
#include <QApplication>

#include "core/common/runtime_info.h"
#include "ui/main_window.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("SAEScope"));
  QApplication::setOrganizationName(QStringLiteral("SAEScope"));
  QApplication::setApplicationVersion(QStringLiteral(SAESCOPE_VERSION));
  saescope::set_engine_threads(0);
  saescope::ui::MainWindow window;
  window.show();
  return app.exec();
}
