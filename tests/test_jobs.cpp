// Progress reporting: rate/ETA arithmetic and cancellation at report points.
#include <QtTest>

#include <thread>

#include "core/common/error.h"
#include "core/common/progress.h"

using namespace saescope;
using namespace saescope::jobs;

class TestJobs : public QObject {
  Q_OBJECT
 private slots:
  void rateAndEta() {
    double last_rate = -1, last_eta = -1;
    ProgressSink sink([&](const Progress&, double rate, double eta) {
      last_rate = rate;
      last_eta = eta;
    });
    sink.report({"harvest", 100, 1100, "tokens", ""});
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    sink.report({"harvest", 200, 1100, "tokens", ""});
    // 100 tokens in ~0.1 s from the first report: ~1000 tokens/s, 900 left.
    QVERIFY2(last_rate > 300 && last_rate < 1100, qPrintable(QString::number(last_rate)));
    QVERIFY(last_eta > 0.8 && last_eta < 3.0);
  }

  void eachStageHasItsOwnRate() {
    double last_rate = -1;
    ProgressSink sink([&](const Progress&, double rate, double) { last_rate = rate; });
    sink.report({"harvest", 0, 1000, "tokens", ""});
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    sink.report({"harvest", 1000, 1000, "tokens", ""});
    // A new stage (and a stage run again from 0) counts from its own first
    // report: no rate yet, rather than the previous stage's elapsed time.
    sink.report({"evaluate", 0, 50, "tokens", ""});
    QCOMPARE(last_rate, 0.0);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    sink.report({"evaluate", 50, 50, "tokens", ""});
    QVERIFY2(last_rate > 150 && last_rate < 600, qPrintable(QString::number(last_rate)));
    sink.report({"evaluate", 0, 50, "tokens", ""});
    QCOMPARE(last_rate, 0.0);
  }

  void unknownTotalHasNoEta() {
    double last_eta = 0;
    ProgressSink sink([&](const Progress&, double, double eta) { last_eta = eta; });
    sink.report({"harvest", 5, 0, "tokens", ""});
    QCOMPARE(last_eta, -1.0);
  }

  void cancellationThrowsAtReport() {
    CancelFlag flag;
    ProgressSink sink({}, &flag);
    sink.report({"x", 1, 10, "steps", ""});
    flag.cancel();
    QVERIFY(sink.cancelled());
    QVERIFY_EXCEPTION_THROWN(sink.report({"x", 2, 10, "steps", ""}), Cancelled);
  }

  void durations() {
    QCOMPARE(format_duration(3), std::string("0:03"));
    QCOMPARE(format_duration(247), std::string("4:07"));
    QCOMPARE(format_duration(3909), std::string("1:05:09"));
    QCOMPARE(format_duration(-1), std::string("?"));
  }
};

QTEST_GUILESS_MAIN(TestJobs)
#include "test_jobs.moc"
