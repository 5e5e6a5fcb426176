// The main window opens, names the engine it runs on, and renders.
#include <QLabel>
#include <QtTest>

#include "ui/main_window.h"

class TestGuiShell : public QObject {
  Q_OBJECT
 private slots:
  void opensAndShowsEngine() {
    saescope::ui::MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto* engine = window.findChild<QLabel*>(QStringLiteral("engineLabel"));
    QVERIFY(engine);
    QVERIFY2(engine->text().contains(QStringLiteral("LibTorch")), qPrintable(engine->text()));
    QVERIFY2(engine->text().contains(QStringLiteral("BLAS")), qPrintable(engine->text()));
    const QImage shot = window.grab().toImage();
    QCOMPARE(shot.width(), window.width());
    QVERIFY(shot.save(QStringLiteral(SAESCOPE_TEST_OUTPUT_DIR "/shell.png")));
  }
};

QTEST_MAIN(TestGuiShell)
#include "test_gui_shell.moc"
