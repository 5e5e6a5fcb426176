// Progress reporting: rate/ETA arithmetic and cancellation at report points.
#include <QtTest>

#include <cmath>
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

  // A job of stages weighs each by its expected seconds: the demo's 66.7 %
  // after 25 s came from counting stages (or a stage's own passes).
  void stagedFractionTracksExpectedWork() {
    Progress last;
    double last_eta = -2;
    int reports = 0;
    ProgressSink job([&](const Progress& p, double, double eta) {
      last = p;
      last_eta = eta;
      ++reports;
    });
    StagedProgress stages(job, {{"WordNet", 10}, {"harvest", 90}, {"PS-Eval", 100}});
    QCOMPARE(stages.eta_seconds(), -1.0);
    ProgressSink& wordnet = stages.begin("WordNet");
    wordnet.report({"WordNet", 1, 2, "stages", ""});
    // Half of a 10 s stage of a 200 s job: 2.5 %, not 50 % (or a third).
    QCOMPARE(last.job_fraction, 0.025);
    QCOMPARE(last.job_stage, std::string("WordNet"));
    QCOMPARE(last.stage, std::string("WordNet"));  // the stage's own report passes through
    QCOMPARE(last.job_stages_ended, 0);
    // Too little done to measure a pace: the expected time left.
    QVERIFY2(std::abs(last_eta - 195) < 1, qPrintable(QString::number(last_eta)));
    stages.end();
    QCOMPARE(last.job_fraction, 0.05);
    QCOMPARE(last.job_stages_ended, 1);
    ProgressSink& harvest = stages.begin("harvest");
    harvest.report({"harvest pass 2/3", 200, 300, "tokens", ""});  // a stage's own passes stay inside it
    QCOMPARE(last.job_fraction, (10 + 90 * 2.0 / 3) / 200);
    QCOMPARE(last.job_stage, std::string("harvest"));
    stages.end();
    QCOMPARE(last.job_fraction, 0.5);
    QCOMPARE(last.job_stages_ended, 2);
    // The stage reports count, never the number of stages: 2 of 3 ended is 50 %.
    QVERIFY(std::abs(stages.fraction() - 2.0 / 3) > 0.1);
    ProgressSink& pseval = stages.begin("PS-Eval");
    pseval.report({"ps-eval", 100, 100, "prompts", ""});
    stages.end();
    QCOMPARE(last.job_fraction, 1.0);
    QCOMPARE(last.job_stages_ended, 3);
    QCOMPARE(last_eta, 0.0);
    QVERIFY(reports >= 6);
  }

  void stagedEtaFollowsThisRunsPace() {
    double last_eta = -1;
    ProgressSink job([&](const Progress&, double, double eta) { last_eta = eta; });
    // Expected 4 s + 4 s; this run does the first second's worth in ~0.25 s.
    StagedProgress stages(job, {{"a", 4}, {"b", 4}});
    ProgressSink& a = stages.begin("a");
    a.report({"a", 0, 4, "steps", ""});
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    a.report({"a", 1, 4, "steps", ""});
    // min(5 s, 2 % of 8 s) = 0.16 s of expected work done: the pace counts,
    // about 4x the expectation, so about 7 expected seconds left take ~1.75 s.
    QVERIFY2(last_eta > 1.0 && last_eta < 4.0, qPrintable(QString::number(last_eta)));
  }

  void stagesFoundDoneOrSkippedCountAsDone() {
    Progress last;
    double last_eta = -1;
    ProgressSink job([&](const Progress& p, double, double eta) {
      last = p;
      last_eta = eta;
    });
    StagedProgress stages(job, {{"a", 50}, {"b", 30}, {"c", 20}});
    stages.begin("a");
    stages.end();  // reused at once: done, but no evidence of pace
    QCOMPARE(last.job_fraction, 0.5);
    QVERIFY2(std::abs(last_eta - 50) < 1, qPrintable(QString::number(last_eta)));
    ProgressSink& c = stages.begin("c");  // b not run at all
    QCOMPARE(stages.stages_ended(), 2);
    c.report({"c", 1, 2, "steps", ""});
    QCOMPARE(last.job_fraction, 0.9);
    QCOMPARE(last.job_stages_ended, 2);
    // Stages run in the order declared.
    QVERIFY_EXCEPTION_THROWN(stages.begin("a"), InternalError);
    QVERIFY_EXCEPTION_THROWN(stages.begin("nowhere"), InternalError);
  }

  // A stage whose work after its main count is said under other names (PS-Eval:
  // prompts, then scoring, then storing) places each part by its seconds, so
  // the bar does not sit at the stage's end while a minute of work remains.
  void stagePartsPlaceTheirOwnCounts() {
    Progress last;
    ProgressSink job([&](const Progress& p, double, double) { last = p; });
    StagedProgress stages(job, {{"harvest", 50}, {"PS-Eval", 50, {{"ps-eval", 30}, {"ps-eval scoring", 10}, {"ps-eval storing", 10}}}});
    stages.begin("harvest");
    stages.end();
    ProgressSink& pseval = stages.begin("PS-Eval");
    pseval.report({"ps-eval", 100, 100, "prompts", ""});
    QCOMPARE(last.job_fraction, 0.8);  // every prompt done: 30 of the stage's 50 s
    pseval.report({"ps-eval scoring", 1, 2, "scores", ""});
    QCOMPARE(last.job_fraction, 0.85);
    pseval.report({"ps-eval storing", 1, 4, "SAEs", ""});
    QCOMPARE(last.job_fraction, 0.925);
    pseval.report({"load", 0, 2, "steps", ""});  // a name of no part: the part under way, never back
    QCOMPARE(last.job_fraction, 0.925);
    stages.end();
    QCOMPARE(last.job_fraction, 1.0);
  }

  // One count shared by parts of unequal cost: a harvest's first pass is a
  // third of its count and most of its time.
  void partsCoverStretchesOfOneCount() {
    Progress last;
    ProgressSink job([&](const Progress& p, double, double) { last = p; });
    StagedProgress stages(job, {{"harvest", 100,
                                 {{"harvest pass 1/3", 60, 0, 1.0 / 3}, {"harvest pass 2/3", 10, 1.0 / 3, 2.0 / 3},
                                  {"harvest pass 3/3", 30, 2.0 / 3, 1}}}});
    ProgressSink& harvest = stages.begin("harvest");
    harvest.report({"harvest pass 1/3", 50, 300, "tokens", ""});  // half of pass 1
    QCOMPARE(last.job_fraction, 0.3);
    harvest.report({"harvest pass 1/3", 100, 300, "tokens", ""});
    QCOMPARE(last.job_fraction, 0.6);
    harvest.report({"harvest pass 2/3", 200, 300, "tokens", ""});
    QCOMPARE(last.job_fraction, 0.7);
    harvest.report({"harvest pass 3/3", 250, 300, "tokens", ""});
    QCOMPARE(last.job_fraction, 0.85);
  }

  void stagedProgressCancels() {
    CancelFlag flag;
    ProgressSink job({}, &flag);
    StagedProgress stages(job, {{"a", 1}, {"b", 1}});
    ProgressSink& a = stages.begin("a");
    a.report({"a", 1, 2, "steps", ""});
    flag.cancel();
    QVERIFY_EXCEPTION_THROWN(a.report({"a", 2, 2, "steps", ""}), Cancelled);
    QVERIFY_EXCEPTION_THROWN(stages.end(), Cancelled);
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
