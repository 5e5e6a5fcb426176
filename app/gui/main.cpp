// saescope: the desktop app.
//   saescope [WORKSPACE.saescope] [--sae ID] [--feature N] [--view features|senses|evaluation]
//            [--word W] [--screenshot FILE.png] [--quit-when-ready]
#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QIcon>
#include <QTabWidget>
#include <QTimer>
#include <cstdio>

#include "core/common/process_setup.h"
#include "core/common/runtime_info.h"
#include "ui/features_view.h"
#include "ui/main_window.h"
#include "ui/model_panel.h"
#include "ui/senses_view.h"
#include "ui/settings_dialog.h"

int main(int argc, char** argv) {
  QElapsedTimer since_start;
  since_start.start();
  saescope::ensure_passive_openmp(argv);
  QApplication app(argc, argv);
  Q_INIT_RESOURCE(saescope);  // the icon lives in the static ui library
  QApplication::setApplicationName(QStringLiteral("SAEScope"));
  QApplication::setOrganizationName(QStringLiteral("SAEScope"));
  QApplication::setApplicationVersion(QStringLiteral(SAESCOPE_VERSION));
  QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/saescope.svg")));
  QApplication::setDesktopFileName(QStringLiteral("io.github.saescope.SAEScope"));

  QCommandLineParser cli;
  cli.setApplicationDescription(QStringLiteral("SAEScope: sparse autoencoders on GPT-2 activations"));
  cli.addHelpOption();
  cli.addVersionOption();
  cli.addPositionalArgument(QStringLiteral("workspace"), QStringLiteral("A .saescope workspace to open"));
  const QCommandLineOption sae(QStringLiteral("sae"), QStringLiteral("Select the SAE with this input id"), QStringLiteral("id"));
  const QCommandLineOption feature(QStringLiteral("feature"), QStringLiteral("Open this feature"), QStringLiteral("n"));
  const QCommandLineOption view(QStringLiteral("view"), QStringLiteral("features, senses or evaluation"), QStringLiteral("name"));
  const QCommandLineOption word(QStringLiteral("word"), QStringLiteral("Show this word in the Senses view"), QStringLiteral("word"));
  const QCommandLineOption shot(QStringLiteral("screenshot"), QStringLiteral("Save the window as PNG once ready, then quit"), QStringLiteral("file"));
  const QCommandLineOption ready(QStringLiteral("quit-when-ready"), QStringLiteral("Quit as soon as the window is interactive (prints the time)"));
  cli.addOptions({sae, feature, view, word, shot, ready});
  cli.process(app);

  saescope::ui::EngineSettings::load().apply();
  saescope::ui::MainWindow window;
  window.show();
  if (!cli.positionalArguments().isEmpty() && !window.openWorkspace(cli.positionalArguments().first()))
    return cli.isSet(ready) || cli.isSet(shot) ? 2 : app.exec();
  if (cli.isSet(sae)) window.modelPanel()->selectSae(cli.value(sae).toLongLong());
  if (cli.isSet(feature)) window.featuresView()->selectFeature(cli.value(feature).toLongLong());
  if (cli.isSet(view)) {
    const QString v = cli.value(view);
    window.views()->setCurrentIndex(v == QLatin1String("senses") ? 1 : v == QLatin1String("evaluation") ? 2 : 0);
  }
  if (cli.isSet(word)) window.sensesView()->showWord(cli.value(word));
  if (cli.isSet(shot) || cli.isSet(ready)) {
    // Zero-timeout timer: fires once the event loop has processed the show
    // and the first paint, i.e. when the window is interactive.
    QTimer::singleShot(0, &window, [&] {
      if (cli.isSet(shot)) window.grab().save(cli.value(shot));
      std::printf("ready after %lld ms\n", static_cast<long long>(since_start.elapsed()));
      std::fflush(stdout);
      QApplication::quit();
    });
  }
  return app.exec();
}
