// The main window: opening a workspace fills the model panel and the Features
// view from the store; jobs run off the UI thread, report progress and cancel;
// a damaged or missing workspace gives an error, not a crash.
#include <QLabel>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QTableView>
#include <QMessageBox>
#include <QPushButton>
#include <QtTest>
#include <thread>

#include "fixture_workspace.h"
#include "ui/feature_page.h"
#include "ui/feature_table_model.h"
#include "ui/features_view.h"
#include "ui/jobs_panel.h"
#include "ui/main_window.h"
#include "ui/model_panel.h"
#include "ui/token_context_view.h"
#include "ui/workspace_session.h"

using namespace saescope::ui;

namespace {
QString outPath(const QString& name) { return QStringLiteral(SAESCOPE_TEST_OUTPUT_DIR "/") + name; }
}  // namespace

class TestGuiShell : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    QCoreApplication::setOrganizationName(QStringLiteral("SAEScopeTests"));
    QCoreApplication::setApplicationName(QStringLiteral("test_gui_shell"));
  }

  void showsEngine() {
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto* engine = window.findChild<QLabel*>(QStringLiteral("engineLabel"));
    QVERIFY(engine);
    QVERIFY2(engine->text().contains(QStringLiteral("LibTorch")), qPrintable(engine->text()));
    QVERIFY2(engine->text().contains(QStringLiteral("BLAS")), qPrintable(engine->text()));
  }

  void openingWorkspaceFillsViews() {
    const auto built = fixture::build_workspace(outPath(QStringLiteral("gui_ws")).toStdString());
    MainWindow window;
    window.resize(1600, 1000);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(window.openWorkspace(QString::fromStdString(built.path)));
    QCOMPARE(window.modelPanel()->saeList()->count(), 2);
    QVERIFY(window.modelPanel()->selectSae(built.sae_id));
    FeaturesView* view = window.featuresView();
    QCOMPARE(view->model()->rowCount(), built.features);

    QVERIFY(view->selectFeature(42));
    QCOMPARE(view->page()->headline(), QStringLiteral("Feature 42"));
    QCOMPARE(view->page()->topContexts()->rows().size(), 5);
    QCOMPARE(view->page()->intervalContexts()->rows().size(), 3);
    QVERIFY2(view->page()->intervalContexts()->rows()[1].label.contains(QStringLiteral("contains 30.0%")),
             qPrintable(view->page()->intervalContexts()->rows()[1].label));
    // Tokens come from the workspace's vocab, activations from the store.
    const auto& row = view->page()->topContexts()->rows()[0];
    QCOMPARE(row.tokens.size(), 16);
    QVERIFY(row.activations[row.focus] > 0);

    // Sorting by density descending puts the densest feature first.
    view->table()->sortByColumn(FeatureTableModel::Density, Qt::DescendingOrder);
    QCOMPARE(view->table()->model()->index(0, 0).data().toLongLong(), qlonglong(built.features - 2));

    // The second SAE has no harvest: the view says so instead of showing stale rows.
    QVERIFY(window.modelPanel()->selectSae(built.other_sae_id));
    QCOMPARE(view->model()->rowCount(), 0);
    QVERIFY(window.modelPanel()->selectSae(built.sae_id));
    QVERIFY(view->selectFeature(42));
    QTest::qWait(50);
    QVERIFY(window.grab().save(outPath(QStringLiteral("screenshot_features.png"))));
  }

  void missingOrDamagedWorkspaceGivesError() {
    MainWindow window;
    QSignalSpy errors(&window, &MainWindow::errorShown);
    const QString garbage = outPath(QStringLiteral("garbage.saescope"));
    QFile f(garbage);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray(4096, 'x'));
    f.close();
    // The recovery question is a modal box: answer "No" as soon as it shows.
    QTimer::singleShot(200, [] {
      for (QWidget* w : QApplication::topLevelWidgets())
        if (auto* box = qobject_cast<QMessageBox*>(w)) box->button(QMessageBox::No)->click();
    });
    QVERIFY(!window.openWorkspace(garbage));
    QCOMPARE(errors.count(), 1);
    QVERIFY(errors.at(0).at(0).toString().contains(garbage));
    QVERIFY(!window.session()->isOpen());
  }

  void jobsReportProgressAndCancelWithoutStallingUi() {
    MainWindow window;
    window.show();
    JobsPanel* jobs = window.jobsPanel();
    std::atomic<int> steps{0};
    Job* job = jobs->run(QStringLiteral("busy job"), [&](saescope::jobs::ProgressSink& progress) {
      for (int i = 0; i < 100000; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        ++steps;
        progress.report({"work", double(i), 100000.0, "steps", ""});
      }
    });
    // Measure the event loop while the job runs: the longest gap between ticks.
    QElapsedTimer clock;
    clock.start();
    qint64 last = 0, worst = 0;
    QTimer tick;
    QObject::connect(&tick, &QTimer::timeout, [&] {
      const qint64 now = clock.elapsed();
      worst = std::max(worst, now - last);
      last = now;
    });
    tick.start(5);
    QTest::qWait(600);
    QVERIFY(steps > 10);
    QVERIFY(job->fraction() > 0);
    QVERIFY(!job->rateText().isEmpty());
    QVERIFY(!job->etaText().isEmpty());
    job->cancel();
    QTRY_COMPARE_WITH_TIMEOUT(job->state(), Job::State::Cancelled, 5000);
    tick.stop();
    QVERIFY2(worst < 50, qPrintable(QStringLiteral("event loop stalled %1 ms").arg(worst)));
    QVERIFY(job->log().join(QLatin1Char('\n')).contains(QStringLiteral("cancelled")));
  }

  void failingJobShowsError() {
    MainWindow window;
    QSignalSpy errors(&window, &MainWindow::errorShown);
    Job* job = window.jobsPanel()->run(QStringLiteral("bad input"), [](saescope::jobs::ProgressSink&) {
      throw saescope::InputError("/data/sae/cfg.json: missing d_in");
    });
    QTRY_COMPARE_WITH_TIMEOUT(job->state(), Job::State::Failed, 5000);
    QCOMPARE(errors.count(), 1);
    QVERIFY(errors.at(0).at(0).toString().contains(QStringLiteral("/data/sae/cfg.json")));
  }
};

QTEST_MAIN(TestGuiShell)
#include "test_gui_shell.moc"
