// Disk full (the reliability issue's §3): harvest, cache, train, sae-eval and
// ps-eval run under a file-size limit (ulimit -f: every write past it fails
// with EFBIG, as on a full disk with ENOSPC) at several sizes. Each either
// fits, or exits 2 with a message naming the file and saying the disk
// refused, never a signal or an "internal error"; the workspace stays sound;
// and a rerun once the limit is lifted completes with what an unlimited run
// gives. (Run as root, a read-only folder does not refuse writes, so the
// read-only case is the workspace's own Access::ReadOnly, tested elsewhere.)
#include <ATen/ATen.h>

#include <QProcess>
#include <QtTest>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "core/sae/sae_folder.h"
#include "core/store/workspace.h"
#include "tests/cli_runner.h"
#include "tests/run_outcomes.h"
#include "tests/tiny_engine.h"

using namespace saescope;
namespace fs = std::filesystem;
using nlohmann::json;
using cli_runner::q;
using run_outcomes::Command;
using run_outcomes::sha256_of;
using run_outcomes::without_run_fields;

namespace {

const std::string kOut = std::string(SAESCOPE_TEST_OUTPUT_DIR) + "/disk_full";
const std::string kHook = "blocks.1.hook_resid_post";

// saescope-cli under `ulimit -f blocks` (1 KiB blocks).
cli_runner::Cli run_limited(const QStringList& args, int blocks) {
  QStringList quoted;
  for (const QString& a : args) quoted << "'" + QString(a).replace("'", "'\\''") + "'";
  return cli_runner::run_cli_program("bash", {"-c", QStringLiteral("ulimit -f %1; exec '%2' %3")
                                                        .arg(blocks)
                                                        .arg(SAESCOPE_CLI_PATH)
                                                        .arg(quoted.join(' '))},
                                     240000);
}

}  // namespace

class TestDiskFull : public QObject {
  Q_OBJECT
  std::string model_, sae_, corpus_, occurrences_;
  std::vector<Command> commands_;

 private slots:
  void initTestCase() {
    fs::remove_all(kOut);
    fs::create_directories(kOut);
    model_ = tiny::write_model(kOut + "/tiny-gpt2");
    sae_ = tiny::write_sae(kOut + "/tiny-sae", kHook, 64, 5);
    corpus_ = tiny::write_corpus(kOut + "/corpus.txt", 400, 9);
    occurrences_ = tiny::write_occurrences(kOut + "/occurrences.jsonl");
    const auto common = [&](QStringList a) { return a << "--model" << q(model_) << "--context" << "24"; };
    const auto json_outcome = [](const QStringList& args) {
      const cli_runner::Cli r = cli_runner::run_cli(args);
      return r.code == 0 ? without_run_fields(json::parse(r.out)).dump() : std::string();
    };
    commands_ = {
        {"harvest",
         [=](const std::string& d) {
           return common({"harvest", "--workspace", q(d + "/w.saescope"), "--sae", q(sae_), "--corpus", q(corpus_),
                          "--tokens", "6000"});
         },
         [=](const std::string& d) {
           return json_outcome({"features", "--workspace", q(d + "/w.saescope"), "--sae", q(sae_), "--sort",
                                "density", "--limit", "64", "--json"});
         }},
        {"cache",
         [=](const std::string& d) {
           return common({"cache", "--hook", q(kHook), "--corpus", q(corpus_), "--out", q(d + "/acts.cache"),
                          "--tokens", "8000"});
         },
         [](const std::string& d) { return sha256_of(d + "/acts.cache"); }},
        {"train",
         [=](const std::string& d) {
           return common({"train", "--hook", q(kHook), "--corpus", q(corpus_), "--arch", "topk", "--k", "4",
                          "--d-sae", "64", "--tokens", "6000", "--batch", "64", "--out", q(d + "/sae")});
         },
         [](const std::string& d) { return sha256_of(d + "/sae/sae_weights.safetensors"); }},
        {"sae-eval",
         [=](const std::string& d) {
           return common({"sae-eval", "--workspace", q(d + "/w.saescope"), "--sae", q(sae_), "--corpus", q(corpus_),
                          "--tokens", "1500", "--json"});
         },
         [=](const std::string& d) {
           return json_outcome(common({"sae-eval", "--workspace", q(d + "/w.saescope"), "--sae", q(sae_), "--corpus",
                                       q(corpus_), "--tokens", "1500", "--json"}));
         }},
        {"ps-eval",
         [=](const std::string& d) {
           return QStringList{"ps-eval", "--workspace", q(d + "/w.saescope"), "--model", q(model_), "--sae", q(sae_),
                              "--dataset", q(occurrences_), "--json"};
         },
         [=](const std::string& d) {
           return json_outcome({"ps-eval", "--workspace", q(d + "/w.saescope"), "--model", q(model_), "--sae",
                                q(sae_), "--dataset", q(occurrences_), "--json"});
         }},
    };
  }

  void aFullDiskLosesNothing() {
    int refused = 0;
    for (const Command& c : commands_) {
      const std::string ref_dir = kOut + "/" + c.name + "-reference";
      fs::create_directories(ref_dir);
      const cli_runner::Cli r0 = cli_runner::run_cli(c.args(ref_dir), 240000);
      QVERIFY2(r0.code == 0, (std::string(c.name) + ": " + r0.err).c_str());
      const std::string reference = c.outcome(ref_dir);
      QVERIFY(!reference.empty());
      for (int blocks : {8, 40, 160, 640}) {
        const std::string dir = kOut + "/" + c.name + "-" + std::to_string(blocks);
        fs::remove_all(dir);
        fs::create_directories(dir);
        const cli_runner::Cli r = run_limited(c.args(dir), blocks);
        const std::string where = std::string(c.name) + " at " + std::to_string(blocks) + " KiB: ";
        QVERIFY2(r.code == 0 || r.code == 2, (where + "exit " + std::to_string(r.code) + ": " + r.err).c_str());
        if (r.code == 2) {
          ++refused;
          QVERIFY2(r.err.find(dir) != std::string::npos, (where + r.err).c_str());
          QVERIFY2(r.err.find("internal error") == std::string::npos, (where + r.err).c_str());
        }
        if (fs::exists(dir + "/w.saescope")) {
          const std::string problem = store::Workspace::check_integrity(dir + "/w.saescope");
          QVERIFY2(problem.empty(), (where + problem).c_str());
        }
        if (fs::exists(dir + "/sae")) sae::load_sae(dir + "/sae");  // whole, or absent
        const cli_runner::Cli again = cli_runner::run_cli(c.args(dir), 240000);
        QVERIFY2(again.code == 0, (where + "the rerun: " + again.err).c_str());
        QVERIFY2(c.outcome(dir) == reference, (where + "the rerun differs from an unlimited run").c_str());
      }
    }
    qInfo("%d limited runs refused by name", refused);
    QVERIFY(refused >= 10);
  }
};

QTEST_GUILESS_MAIN(TestDiskFull)
#include "test_disk_full.moc"
