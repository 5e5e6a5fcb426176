// saescope: the desktop app.
//   saescope [WORKSPACE.saescope] [--sae ID] [--feature N] [--view features|senses|evaluation]
//            [--word W] [--screenshot FILE.png [--screenshot-after S]] [--quit-when-ready] [--demo]
//   saescope --export-report DIR WORKSPACE.saescope   (charts + PDF report, no window shown)
// Without a workspace it opens the last one, or — the first time, or with
// --demo — the embedded demo.
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QElapsedTimer>
#include <QIcon>
#include <QTabWidget>
#include <QTimer>
#include <cstdio>

#include "core/common/process_setup.h"
#include "core/common/runtime_info.h"
#include "ui/evaluation_view.h"
#include "ui/features_view.h"
#include "ui/main_window.h"
#include "ui/model_panel.h"
#include "ui/senses_view.h"
#include "ui/settings_dialog.h"

SAESCOPE_PASSIVE_OPENMP_AT_LOAD

namespace {

// `saescope --export-report DIR WORKSPACE`: what `saescope-cli demo` calls to
// draw its charts with the Evaluation view's own code, off screen.
int exportReportAndQuit(saescope::ui::MainWindow& window, const QCommandLineParser& cli,
                        const QString& dir) {
  if (cli.positionalArguments().isEmpty()) {
    std::fprintf(stderr, "saescope: --export-report needs a workspace file\n");
    return 2;
  }
  QObject::connect(&window, &saescope::ui::MainWindow::errorShown, [](const QString& message) {
    std::fprintf(stderr, "saescope: %s\n", qPrintable(message));
  });
  if (!window.openWorkspace(cli.positionalArguments().first())) return 2;
  if (!QDir().mkpath(dir)) {
    std::fprintf(stderr, "saescope: %s: cannot create the folder\n", qPrintable(dir));
    return 2;
  }
  window.resize(1600, 1000);
  QString error;
  const QStringList charts = window.evaluationView()->exportCharts(dir, 1600, 1000, 150, &error);
  if (!error.isEmpty() || charts.isEmpty()) {
    std::fprintf(stderr, "saescope: %s\n", qPrintable(error));
    return 1;
  }
  const QString report = QDir(dir).filePath(QStringLiteral("report.pdf"));
  if (!window.evaluationView()->exportReport(report, &error)) {
    std::fprintf(stderr, "saescope: %s: %s\n", qPrintable(report), qPrintable(error));
    return 1;
  }
  const QString slides = QDir(dir).filePath(QStringLiteral("slides.pdf"));
  if (!window.evaluationView()->exportSlides(slides, &error)) {
    std::fprintf(stderr, "saescope: %s: %s\n", qPrintable(slides), qPrintable(error));
    return 1;
  }
  for (const QString& f : charts + QStringList{report, slides}) std::printf("%s\n", qPrintable(f));
  return 0;
}

}  // namespace

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
  cli.setApplicationDescription(QStringLiteral("SAEScope: sparse autoencoders on language-model activations"));
  cli.addHelpOption();
  cli.addVersionOption();
  cli.addPositionalArgument(QStringLiteral("workspace"), QStringLiteral("A .saescope workspace to open"));
  const QCommandLineOption sae(QStringLiteral("sae"), QStringLiteral("Select the SAE with this input id"), QStringLiteral("id"));
  const QCommandLineOption feature(QStringLiteral("feature"), QStringLiteral("Open this feature"), QStringLiteral("n"));
  const QCommandLineOption view(QStringLiteral("view"), QStringLiteral("features, senses or evaluation"), QStringLiteral("name"));
  const QCommandLineOption word(QStringLiteral("word"), QStringLiteral("Show this word in the Senses view"), QStringLiteral("word"));
  const QCommandLineOption shot(QStringLiteral("screenshot"), QStringLiteral("Save the window as PNG once ready, then quit"), QStringLiteral("file"));
  const QCommandLineOption shotAfter(
      QStringLiteral("screenshot-after"),
      QStringLiteral("With --screenshot: take it this many seconds after the window is ready (the first start's "
                     "demo build part-way), then quit"),
      QStringLiteral("seconds"));
  const QCommandLineOption ready(QStringLiteral("quit-when-ready"), QStringLiteral("Quit as soon as the window is interactive (prints the time)"));
  const QCommandLineOption demo(QStringLiteral("demo"), QStringLiteral("Open the embedded demo"));
  const QCommandLineOption exportReport(
      QStringLiteral("export-report"),
      QStringLiteral("Write the workspace's evaluation charts (PNG, PDF, SVG) and PDF report to a folder, then quit"),
      QStringLiteral("dir"));
  cli.addOptions({sae, feature, view, word, shot, shotAfter, ready, demo, exportReport});
  cli.process(app);

  saescope::ui::EngineSettings::load().apply();
  saescope::ui::MainWindow window;
  if (cli.isSet(exportReport)) return exportReportAndQuit(window, cli, cli.value(exportReport));
  window.show();
  if (!cli.positionalArguments().isEmpty()) {
    if (!window.openWorkspace(cli.positionalArguments().first()))
      return cli.isSet(ready) || cli.isSet(shot) ? 2 : app.exec();
  } else {
    window.openAtStart(cli.isSet(demo));
  }
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
    const int after_ms = cli.isSet(shotAfter) ? static_cast<int>(cli.value(shotAfter).toDouble() * 1000) : 0;
    QTimer::singleShot(after_ms, &window, [&] {
      if (cli.isSet(shot)) {
        // Layouts a selection just changed (the feature page's contexts) are
        // still pending: settle them, or the picture shows widgets overlapping.
        for (int i = 0; i < 3; ++i) QCoreApplication::sendPostedEvents(nullptr, QEvent::LayoutRequest);
        window.grab().save(cli.value(shot));
      }
      std::printf("ready after %lld ms\n", static_cast<long long>(since_start.elapsed()));
      std::fflush(stdout);
      QApplication::quit();
    });
  }
  return app.exec();
}
