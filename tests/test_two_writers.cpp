// Two writers (the reliability issue's §4): several saescope-cli processes
// writing one workspace at once (as the app and the CLI may) all finish, the
// file stays sound and holds what each would have written alone; and a
// process held up past the busy timeout by another's long write exits 2 with
// a message saying so, having changed nothing, and succeeds once it is free.
#include <ATen/ATen.h>

#include <QProcess>
#include <QtTest>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/store/sqlite.h"
#include "core/store/workspace.h"
#include "tests/cli_runner.h"
#include "tests/tiny_engine.h"

using namespace saescope;
namespace fs = std::filesystem;
using nlohmann::json;
using cli_runner::q;

namespace {

const std::string kOut = std::string(SAESCOPE_TEST_OUTPUT_DIR) + "/two_writers";
const std::string kHook = "blocks.1.hook_resid_post";

}  // namespace

class TestTwoWriters : public QObject {
  Q_OBJECT
  std::string model_, sae_, sae2_, corpus_, occurrences_;

  QStringList harvest(const std::string& ws, const std::string& sae) const {
    return {"harvest", "--workspace", q(ws), "--model", q(model_), "--sae", q(sae), "--corpus", q(corpus_),
            "--context", "24", "--tokens", "5000"};
  }
  QStringList sae_eval(const std::string& ws) const {
    return {"sae-eval", "--workspace", q(ws), "--model", q(model_), "--sae", q(sae_), "--corpus", q(corpus_),
            "--context", "24", "--tokens", "1500", "--json"};
  }
  QStringList ps_eval(const std::string& ws) const {
    return {"ps-eval", "--workspace", q(ws), "--model", q(model_), "--sae", q(sae_), "--dataset", q(occurrences_),
            "--json"};
  }
  std::string features(const std::string& ws, const std::string& sae) const {
    const cli_runner::Cli f = cli_runner::run_cli(
        {"features", "--workspace", q(ws), "--sae", q(sae), "--sort", "density", "--limit", "64", "--json"});
    return f.code == 0 ? json::parse(f.out)["features"].dump() : "failed: " + f.err;
  }

 private slots:
  void initTestCase() {
    fs::remove_all(kOut);
    fs::create_directories(kOut);
    model_ = tiny::write_model(kOut + "/tiny-gpt2");
    sae_ = tiny::write_sae(kOut + "/tiny-sae", kHook, 64, 5);
    sae2_ = tiny::write_sae(kOut + "/tiny-sae-2", "blocks.0.hook_resid_post", 48, 6);
    corpus_ = tiny::write_corpus(kOut + "/corpus.txt", 300, 9);
    occurrences_ = tiny::write_occurrences(kOut + "/occurrences.jsonl");
  }

  void concurrentWritersAllFinishAndAgree() {
    // Alone, each into its own workspace.
    const std::string alone = kOut + "/alone.saescope";
    QVERIFY(cli_runner::run_cli(harvest(alone, sae_), 240000).code == 0);
    QVERIFY(cli_runner::run_cli(harvest(alone, sae2_), 240000).code == 0);
    const cli_runner::Cli se = cli_runner::run_cli(sae_eval(alone), 240000);
    QVERIFY2(se.code == 0, se.err.c_str());

    // Together, into one.
    const std::string ws = kOut + "/shared.saescope";
    std::vector<std::unique_ptr<QProcess>> procs;
    for (const QStringList& args : {harvest(ws, sae_), harvest(ws, sae2_), sae_eval(ws), ps_eval(ws)}) {
      auto p = std::make_unique<QProcess>();
      p->start(SAESCOPE_CLI_PATH, args);
      QVERIFY(p->waitForStarted());
      procs.push_back(std::move(p));
    }
    for (auto& p : procs) {
      QVERIFY(p->waitForFinished(240000));
      QVERIFY2(p->exitStatus() == QProcess::NormalExit && p->exitCode() == 0, p->readAllStandardError().constData());
    }
    QCOMPARE(QString::fromStdString(store::Workspace::check_integrity(ws)), QString());
    QCOMPARE(QString::fromStdString(features(ws, sae_)), QString::fromStdString(features(alone, sae_)));
    QCOMPARE(QString::fromStdString(features(ws, sae2_)), QString::fromStdString(features(alone, sae2_)));
    const cli_runner::Cli again = cli_runner::run_cli(sae_eval(ws), 240000);
    QVERIFY2(again.code == 0, again.err.c_str());
    QCOMPARE(json::parse(again.out)["mse"].get<double>(), json::parse(se.out)["mse"].get<double>());
  }

  void aLongWriteElsewhereIsSaidNotHidden() {
    const std::string ws = kOut + "/held.saescope";
    QVERIFY(cli_runner::run_cli(harvest(ws, sae_), 240000).code == 0);
    const auto results_before = store::Workspace::open(ws)->results().size();
    {
      store::Database other(ws, false);  // another process's long write, in effect
      other.exec("BEGIN IMMEDIATE");
      const auto t0 = std::chrono::steady_clock::now();
      const cli_runner::Cli r = cli_runner::run_cli(sae_eval(ws), 120000);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      QCOMPARE(r.code, 2);
      QVERIFY2(r.err.find(ws) != std::string::npos && r.err.find("another process") != std::string::npos,
               r.err.c_str());
      QVERIFY2(s < 60, std::to_string(s).c_str());
      other.exec("ROLLBACK");
    }
    QCOMPARE(store::Workspace::open(ws)->results().size(), results_before);  // nothing half-done left
    const cli_runner::Cli after = cli_runner::run_cli(sae_eval(ws), 240000);
    QVERIFY2(after.code == 0, after.err.c_str());
  }
};

QTEST_GUILESS_MAIN(TestTwoWriters)
#include "test_two_writers.moc"
