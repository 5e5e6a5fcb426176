// Distributed runs on c10d (Gloo, loopback): torchrun's environment read and
// checked; the collectives between two ranks in one process; sae-eval on 2
// and 3 ranks, through `launch` and through the environment, equal to one
// process (counts exactly, sums within 1e-5 relative); only rank 0 writes the
// workspace; ranks given different files refused before any work; a rank
// killed mid-pass stops the other with an error naming it, nothing stored,
// and a rerun completes. harvest on 2 ranks (with spill files) and on 3
// (without, committing every batch) writes the rows one process writes; a rank killed
// mid-harvest leaves the last commit, and the rerun resumes to the same rows.
#include <ATen/ATen.h>

#include <QProcess>
#include <QtTest>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>
#include <unistd.h>

#include "core/common/error.h"
#include "core/common/sha256.h"
#include "core/distributed/dist_env.h"
#include "core/distributed/process_group.h"
#include "core/sae/activation_cache.h"
#include "core/sae/formats/sae_formats.h"
#include "core/sae/sae.h"
#include "core/store/sqlite.h"
#include "core/store/workspace.h"
#include "tests/cli_runner.h"
#include "tests/tiny_engine.h"

using namespace saescope;
namespace fs = std::filesystem;
using nlohmann::json;
using cli_runner::q;

namespace {

const std::string kOut = std::string(SAESCOPE_TEST_OUTPUT_DIR) + "/distributed";

int free_port() {  // a port per call, spread by pid so concurrent runs of this suite do not meet
  static int next = 29600 + static_cast<int>(::getpid() % 2000);
  return next += 7;
}

// One rank of a command started by hand with torchrun's variables.
std::unique_ptr<QProcess> start_rank(int rank, int world, int port, const QStringList& args) {
  auto p = std::make_unique<QProcess>();
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("OMP_WAIT_POLICY", "passive");
  env.insert("RANK", QString::number(rank));
  env.insert("LOCAL_RANK", QString::number(rank));
  env.insert("WORLD_SIZE", QString::number(world));
  env.insert("MASTER_ADDR", "127.0.0.1");
  env.insert("MASTER_PORT", QString::number(port));
  p->setProcessEnvironment(env);
  p->start(SAESCOPE_CLI_PATH, args);
  return p;
}

void set_env(const std::map<std::string, std::string>& vars) {
  for (const char* k : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}) ::unsetenv(k);
  for (const auto& [k, v] : vars) ::setenv(k.c_str(), v.c_str(), 1);
}

QString env_error(const std::map<std::string, std::string>& vars) {
  set_env(vars);
  try {
    dist::dist_env_from_environment();
  } catch (const InputError& e) {
    set_env({});
    return e.what();
  }
  set_env({});
  return {};
}

// Every field equal; doubles within 1e-5 relative.
QString differences(const json& a, const json& b, const std::string& at = "") {
  if (a.is_number_float() || b.is_number_float()) {
    const double x = a.get<double>(), y = b.get<double>();
    return std::abs(x - y) <= 1e-5 * std::max({1.0, std::abs(x), std::abs(y)}) ? QString()
                                                                                  : q(at + ": " + a.dump() + " vs " + b.dump() + "\n");
  }
  if (a.type() != b.type()) return q(at + ": types differ\n");
  QString out;
  if (a.is_object()) {
    for (const auto& [k, v] : a.items())
      out += b.contains(k) ? differences(v, b[k], at + "." + k) : q(at + "." + k + " missing\n");
  } else if (a.is_array()) {
    if (a.size() != b.size()) return q(at + ": sizes differ\n");
    for (size_t i = 0; i < a.size(); ++i) out += differences(a[i], b[i], at + "[" + std::to_string(i) + "]");
  } else if (a != b) {
    out += q(at + ": " + a.dump() + " vs " + b.dump() + "\n");
  }
  return out;
}

// Every row of a workspace's feature tables, as JSON (blobs as hex), in key order.
json feature_rows(const std::string& workspace) {
  auto ws = store::Workspace::open(workspace);
  json out;
  for (const char* table : {"features", "histograms", "windows", "examples", "intervals", "logit_effects"}) {
    std::vector<std::pair<std::string, std::string>> columns;  // name, declared type
    store::Statement info = ws->db().prepare(std::string("PRAGMA table_info(") + table + ")");
    while (info.step()) columns.emplace_back(info.column_text(1), info.column_text(2));
    std::string order;
    for (const auto& c : columns) order += (order.empty() ? "" : ", ") + c.first;
    store::Statement rows = ws->db().prepare(std::string("SELECT * FROM ") + table + " ORDER BY " + order);
    json& t = out[table] = json::array();
    while (rows.step()) {
      json row = json::array();
      for (int i = 0; i < static_cast<int>(columns.size()); ++i) {
        const std::string& type = columns[static_cast<size_t>(i)].second;
        if (type == "INTEGER") row.push_back(rows.column_int(i));
        else if (type == "REAL") row.push_back(rows.column_double(i));
        else if (type == "TEXT") row.push_back(rows.column_text(i));
        else row.push_back(sha256_hex(std::string(static_cast<const char*>(rows.column_blob(i)), rows.column_bytes(i))));
      }
      t.push_back(row);
    }
  }
  return out;
}

// Files a harvest keeps beside its workspace while it runs.
int harvest_files_beside(const std::string& workspace) {
  int n = 0;
  const std::string stem = fs::path(workspace).filename().string() + ".harvest-";
  for (const auto& e : fs::directory_iterator(fs::path(workspace).parent_path()))
    n += e.path().filename().string().rfind(stem, 0) == 0;
  return n;
}

}  // namespace

class TestDistributed : public QObject {
  Q_OBJECT
  std::string model_, sae_, sae2_, corpus_;

  QStringList sae_eval(const std::string& sae, const QStringList& extra = {}) const {
    QStringList a = {"sae-eval", "--model", q(model_), "--sae", q(sae), "--corpus", q(corpus_), "--context", "24",
                     "--batch", "4", "--json"};
    return a + extra;
  }

 private slots:
  void initTestCase() {
    QVERIFY2(dist::available(), "this build has no c10d Gloo (libgloo-dev)");
    fs::remove_all(kOut);
    fs::create_directories(kOut);
    model_ = tiny::write_model(kOut + "/tiny-gpt2");
    sae_ = tiny::write_sae(kOut + "/tiny-sae", "blocks.1.hook_resid_post", 64, 5);
    sae2_ = tiny::write_sae(kOut + "/tiny-sae-2", "blocks.1.hook_resid_post", 64, 6);
    corpus_ = tiny::write_corpus(kOut + "/corpus.txt", 200, 9);
  }

  void torchrunsEnvironmentIsReadAndChecked() {
    set_env({});
    QVERIFY(!dist::dist_env_from_environment());
    set_env({{"WORLD_SIZE", "1"}});
    QVERIFY(!dist::dist_env_from_environment());
    set_env({{"WORLD_SIZE", "3"}, {"RANK", "2"}, {"LOCAL_RANK", "0"}, {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "29511"}});
    const auto e = dist::dist_env_from_environment();
    QVERIFY(e && e->rank == 2 && e->world_size == 3 && e->master_addr == "node7" && e->master_port == 29511);
    set_env({});
    QVERIFY(env_error({{"WORLD_SIZE", "2"}, {"MASTER_ADDR", "x"}}).contains("RANK is not set"));
    QVERIFY(env_error({{"WORLD_SIZE", "2"}, {"RANK", "2"}, {"MASTER_ADDR", "x"}}).contains("RANK=2"));
    QVERIFY(env_error({{"WORLD_SIZE", "2"}, {"RANK", "0"}}).contains("MASTER_ADDR"));
    QVERIFY(env_error({{"WORLD_SIZE", "two"}}).contains("WORLD_SIZE=two"));
    QVERIFY(env_error({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_ADDR", "x"}, {"MASTER_PORT", "70000"}})
                .contains("MASTER_PORT=70000"));
  }

  // Two ranks as two threads of this process, each with its own group.
  void collectivesBetweenTwoRanks() {
    const int port = free_port();
    const auto rank = [&](int r) {
      dist::DistEnv env{r, 2, r, "127.0.0.1", port};
      auto g = dist::ProcessGroup::join(env, std::chrono::seconds(30));
      at::Tensor t = at::full({3}, double(r + 1), at::kDouble);
      g->allreduce_sum(t, "sum");
      at::Tensor b = at::full({2}, double(10 * r), at::kDouble);
      g->broadcast(b, 1, "broadcast");
      const auto all = g->allgather(at::full({2}, int64_t(r), at::kLong), "gather");
      std::string differs;
      try {
        g->check_same(r == 0 ? "same" : "other", "the files");
      } catch (const dist::DistributedError& e) {
        differs = e.what();
      }
      g->check_same("same", "the files");  // agreeing passes
      return std::make_tuple(t, b, all, differs);
    };
    auto other = std::async(std::launch::async, rank, 1);
    const auto [t, b, all, differs] = rank(0);
    other.get();
    QVERIFY(t.equal(at::full({3}, 3.0, at::kDouble)));
    QVERIFY(b.equal(at::full({2}, 10.0, at::kDouble)));
    QCOMPARE(all.size(), size_t(2));
    QCOMPARE(all[1][0].item<int64_t>(), int64_t(1));
    QVERIFY2(q(differs).contains("differ between rank 0 and rank(s) 1"), differs.c_str());
  }

  void saeEvalOnTwoAndThreeRanksEqualsOneProcess() {
    const cli_runner::Cli one = cli_runner::run_cli(sae_eval(sae_), 240000);
    QVERIFY2(one.code == 0, one.err.c_str());
    const json single = json::parse(one.out);
    for (const char* n : {"2", "3"}) {
      const cli_runner::Cli many = cli_runner::run_cli(QStringList{"launch", "--nproc", n, "--"} + sae_eval(sae_), 240000);
      QVERIFY2(many.code == 0, many.err.c_str());
      const json merged = json::parse(many.out);  // rank 0 alone prints
      QCOMPARE(merged["tokens"], single["tokens"]);
      QCOMPARE(merged["ce_tokens"], single["ce_tokens"]);
      QCOMPARE(differences(single, merged), QString());
    }
    // Started by hand with the environment (as torchrun or srun would).
    const int port = free_port();
    auto r1 = start_rank(1, 2, port, sae_eval(sae_));
    auto r0 = start_rank(0, 2, port, sae_eval(sae_));
    QVERIFY(r0->waitForFinished(240000) && r1->waitForFinished(240000));
    QCOMPARE(r0->exitCode(), 0);
    QCOMPARE(r1->exitCode(), 0);
    QVERIFY(r1->readAllStandardOutput().isEmpty());
    QCOMPARE(differences(single, json::parse(r0->readAllStandardOutput().toStdString())), QString());
  }

  // Two ranks started with the environment; once rank 0 has printed
  // `marker` (and `ms` more have passed) rank 1 is SIGKILLed: rank 0 must
  // stop with exit code 2 and name it.
  void kill_rank_one_after(const QStringList& args, const char* marker, int ms) {
    const int port = free_port();
    auto r0 = start_rank(0, 2, port, args);
    auto r1 = start_rank(1, 2, port, args);
    QElapsedTimer t;
    t.start();
    QByteArray err0;
    while (!err0.contains(marker) && t.elapsed() < 120000) {
      r0->waitForReadyRead(100);
      err0 += r0->readAllStandardError();
    }
    QVERIFY2(err0.contains(marker), err0.constData());
    if (ms > 0) QTest::qWait(ms);
    r1->kill();  // SIGKILL
    QVERIFY(r1->waitForFinished(10000));
    QVERIFY(r0->waitForFinished(60000));
    err0 += r0->readAllStandardError();
    QCOMPARE(r0->exitCode(), 2);
    QVERIFY2(err0.contains("rank 1 stopped answering"), err0.constData());
  }

  QStringList harvest(const std::string& corpus, const std::string& ws, const QStringList& extra = {}) const {
    return QStringList{"harvest", "--model", q(model_), "--sae", q(sae_), "--sae", q(sae2_), "--corpus", q(corpus),
                       "--context", "24", "--batch", "3", "--top-k", "4", "--workspace", q(ws)} +
           extra;
  }

  // Batches go round the ranks; the statistics merge at the end of passes 1
  // and 2 and pass 3's rows travel to rank 0: the rows are one process's
  // (the mean within 1e-5: its sums add in another order).
  void harvestOnTwoAndThreeRanksEqualsOneProcess() {
    const std::string one = kOut + "/harvest-one.saescope";
    const cli_runner::Cli single = cli_runner::run_cli(harvest(corpus_, one), 240000);
    QVERIFY2(single.code == 0, single.err.c_str());
    const json expected = feature_rows(one);
    QVERIFY(expected["examples"].size() > 100 && expected["windows"].size() > 10);
    const std::string no_spill = kOut + "/harvest-one-nospill.saescope";
    QCOMPARE(cli_runner::run_cli(harvest(corpus_, no_spill, {"--no-spill"}), 240000).code, 0);
    const json expected_no_spill = feature_rows(no_spill);
    struct Case {
      const char* ranks;
      QStringList extra;
      const json* expect;
    };
    for (const Case& c : {Case{"2", {}, &expected}, Case{"3", {"--no-spill", "--commit-every", "1"}, &expected_no_spill}}) {
      const std::string ws = kOut + "/harvest-" + c.ranks + ".saescope";
      fs::remove(ws);
      const cli_runner::Cli many =
          cli_runner::run_cli(QStringList{"launch", "--nproc", c.ranks, "--"} + harvest(corpus_, ws, c.extra), 240000);
      QVERIFY2(many.code == 0, many.err.c_str());
      QVERIFY2(q(many.out).contains(QString(c.ranks) + " ranks; rank 0 sent"), many.out.c_str());
      QCOMPARE(differences(*c.expect, feature_rows(ws)), QString());
      QCOMPARE(harvest_files_beside(ws), 0);  // every rank's spill and state files removed
    }
  }

  // Rank 1 killed in pass 1: rank 0 stops with an error naming it; the
  // workspace holds the last commit (no finished harvest); a rerun on two
  // ranks resumes from it and writes one process's rows.
  void aHarvestRankKilledResumesToTheSameRows() {
    const std::string big = tiny::write_corpus(kOut + "/harvest-big.txt", 1500, 4);
    const std::string one = kOut + "/harvest-big-one.saescope", ws = kOut + "/harvest-killed.saescope";
    QCOMPARE(cli_runner::run_cli(harvest(big, one), 240000).code, 0);
    const QStringList args = harvest(big, ws, {"--commit-every", "1", "--dist-timeout", "20"});
    kill_rank_one_after(args, "harvest pass 1/3", 300);
    if (QTest::currentTestFailed()) return;
    {
      const auto results = store::Workspace::open(ws)->results("harvest");
      QCOMPARE(results.size(), size_t(2));
      for (const auto& r : results) QVERIFY(!r.done);
    }
    const cli_runner::Cli rerun = cli_runner::run_cli(QStringList{"launch", "--nproc", "2", "--"} + args, 240000);
    QVERIFY2(rerun.code == 0, rerun.err.c_str());
    QVERIFY2(q(rerun.err).contains("resumed in pass"), rerun.err.c_str());
    QCOMPARE(differences(feature_rows(one), feature_rows(ws)), QString());
    QCOMPARE(harvest_files_beside(ws), 0);
  }

  // Each rank caches a run of whole batches into its shard; the manifest
  // makes them one cache whose rows are one process's, bit for bit.
  void cacheShardsReadAsOneProcessCache() {
    const QStringList args = {"cache", "--model", q(model_), "--hook", "blocks.1.hook_resid_post", "--corpus",
                              q(corpus_), "--context", "24", "--batch", "3", "--json"};
    const std::string one = kOut + "/one.cache";
    QCOMPARE(cli_runner::run_cli(args + QStringList{"--out", q(one)}, 240000).code, 0);
    const sae::ActivationCache single = sae::ActivationCache::open(one);
    for (const char* n : {"2", "3"}) {
      const std::string out = kOut + "/sharded-" + n + ".cache";
      const cli_runner::Cli many =
          cli_runner::run_cli(QStringList{"launch", "--nproc", n, "--"} + args + QStringList{"--out", q(out)}, 240000);
      QVERIFY2(many.code == 0, many.err.c_str());
      const sae::ActivationCache merged = sae::ActivationCache::open(out);
      QCOMPARE(merged.shards(), int64_t(std::stoi(n)));
      QVERIFY(merged.complete());
      QCOMPARE(merged.rows(), single.rows());
      QVERIFY(at::equal(merged.rows(0, merged.rows()), single.rows(0, single.rows())));
      QVERIFY(at::equal(merged.rows(5, 300), single.rows(5, 300)));  // across a shard boundary
      const cli_runner::Cli again =
          cli_runner::run_cli(QStringList{"launch", "--nproc", n, "--"} + args + QStringList{"--out", q(out)}, 240000);
      QVERIFY2(json::parse(again.out)["already_complete"].get<bool>(), again.out.c_str());
      // A command reading the cache reads the manifest as it reads the file.
      json from_single = json::parse(cli_runner::run_cli({"sae-eval", "--sae", q(sae_), "--cache", q(one), "--json"}).out);
      json from_shards = json::parse(cli_runner::run_cli({"sae-eval", "--sae", q(sae_), "--cache", q(out), "--json"}).out);
      from_single.erase("cache");
      from_shards.erase("cache");
      QCOMPARE(q(from_shards.dump()), q(from_single.dump()));
    }
    // A missing shard is named.
    fs::remove(kOut + "/sharded-3.cache.shard-1-of-3");
    try {
      sae::ActivationCache::open(kOut + "/sharded-3.cache");
      QFAIL("a manifest with a missing shard opened");
    } catch (const InputError& e) {
      QVERIFY2(QString(e.what()).contains("sharded-3.cache.shard-1-of-3"), e.what());
    }
  }

  // PS-Eval's batches are one process's, so its picks, counts and MSE merge
  // exactly: the JSON is identical but for the seconds it took.
  void psEvalOnTwoAndThreeRanksIsIdentical() {
    const std::string occurrences = tiny::write_occurrences(kOut + "/occurrences.jsonl");
    const QStringList args = {"ps-eval", "--model", q(model_), "--sae", q(sae_), "--sae", q(sae2_),
                              "--dataset", q(occurrences), "--batch", "3", "--json"};
    const auto without_seconds = [](const std::string& out) {
      json j = json::parse(out);
      for (auto& s : j) s.erase("seconds");
      return j.dump();
    };
    const cli_runner::Cli one = cli_runner::run_cli(args, 240000);
    QVERIFY2(one.code == 0, one.err.c_str());
    for (const char* n : {"2", "3"}) {
      const cli_runner::Cli many = cli_runner::run_cli(QStringList{"launch", "--nproc", n, "--"} + args, 240000);
      QVERIFY2(many.code == 0, many.err.c_str());
      QCOMPARE(q(without_seconds(many.out)), q(without_seconds(one.out)));
    }
    const std::string ws = kOut + "/pseval.saescope";
    const cli_runner::Cli stored =
        cli_runner::run_cli(QStringList{"launch", "--nproc", "2", "--"} + args + QStringList{"--workspace", q(ws)}, 240000);
    QVERIFY2(stored.code == 0, stored.err.c_str());
    QCOMPARE(store::Workspace::open(ws)->results("pseval").size(), size_t(2));
    const json again = json::parse(
        cli_runner::run_cli(QStringList{"launch", "--nproc", "2", "--"} + args + QStringList{"--workspace", q(ws)}, 240000).out);
    QCOMPARE(again[0]["cached"].get<bool>(), true);
  }

  // 50 steps of data-parallel training on 2 and 3 ranks: the same weights as
  // one process on the whole batch, within 1e-5 of each tensor's largest value.
  void trainingDataParallelEqualsOneProcess() {
    for (const char* arch : {"standard", "topk"}) {
      const std::string one = kOut + "/train-one-" + arch;
      QStringList args = {"train", "--model", q(model_), "--hook", "blocks.1.hook_resid_post", "--corpus", q(corpus_),
                          "--arch", arch, "--expansion", "2", "--batch", "64", "--tokens", "3200", "--context", "24",
                          "--checkpoint-every", "0", "--json"};
      if (std::string(arch) == "topk") args << "--k" << "8";
      const cli_runner::Cli single = cli_runner::run_cli(args + QStringList{"--out", q(one)}, 240000);
      QVERIFY2(single.code == 0, single.err.c_str());
      QCOMPARE(json::parse(single.out)["steps"].get<int>(), 50);
      const sae::Sae reference = sae::open_sae(one);
      for (const char* n : {"2", "3"}) {
        const std::string many = kOut + "/train-" + n + "-" + arch;
        const cli_runner::Cli run = cli_runner::run_cli(
            QStringList{"launch", "--nproc", n, "--"} + args + QStringList{"--out", q(many), "--cache", q(one + ".cache")},
            240000);
        QVERIFY2(run.code == 0, run.err.c_str());
        const sae::Sae trained = sae::open_sae(many);
        const auto& a = reference.weights();
        const auto& b = trained.weights();
        for (const auto& [name, x, y] : {std::make_tuple("W_enc", a.W_enc, b.W_enc), std::make_tuple("W_dec", a.W_dec, b.W_dec),
                                         std::make_tuple("b_enc", a.b_enc, b.b_enc), std::make_tuple("b_dec", a.b_dec, b.b_dec)}) {
          const double diff = (x - y).abs().max().item<double>(), scale = x.abs().max().item<double>();
          QVERIFY2(diff <= 1e-5 * scale, (std::string(arch) + " on " + n + " ranks: " + name + " differs by " +
                                          std::to_string(diff) + " of " + std::to_string(scale)).c_str());
        }
      }
    }
    // batchtopk's threshold is over the whole batch: refused, by name, not approximated.
    const cli_runner::Cli refused = cli_runner::run_cli(
        {"launch", "--nproc", "2", "--", "train", "--model", q(model_), "--hook", "blocks.1.hook_resid_post", "--corpus",
         q(corpus_), "--arch", "batchtopk", "--k", "8", "--expansion", "2", "--batch", "64", "--tokens", "3200",
         "--context", "24", "--out", q(kOut + "/train-btk"), "--cache", q(kOut + "/train-one-topk.cache")},
        240000);
    QCOMPARE(refused.code, 2);
    QVERIFY2(q(refused.err).contains("batchtopk") && q(refused.err).contains("one process"), refused.err.c_str());
  }

  // --sae-per-rank: the ranks cache each hook together (a shard each), then
  // SAE i trains on rank i mod W on all the data: each SAE equals the one
  // the same sweep trains in one process. batchtopk, refused data-parallel,
  // trains whole on its rank.
  void sweepSaePerRankEqualsOneProcess() {
    const auto sweep = [&](const std::string& dir) {
      return QStringList{"train", "--model", q(model_), "--hook", "blocks.1.hook_resid_post", "--corpus", q(corpus_),
                         "--arch", "topk", "--k", "8", "--expansion", "2", "--batch", "64", "--tokens", "1600",
                         "--context", "24", "--checkpoint-every", "0", "--json",
                         "--sweep", q("out=" + dir + "/k8"),
                         "--sweep", q("out=" + dir + "/btk4,arch=batchtopk,k=4"),
                         "--sweep", q("out=" + dir + "/l0-standard,hook=blocks.0.hook_resid_post,arch=standard,l1=2")};
    };
    const std::string one = kOut + "/sweep-one", two = kOut + "/sweep-two";
    fs::remove_all(one);
    fs::remove_all(two);
    const cli_runner::Cli single = cli_runner::run_cli(sweep(one), 240000);
    QVERIFY2(single.code == 0, single.err.c_str());
    const cli_runner::Cli refused = cli_runner::run_cli(QStringList{"launch", "--nproc", "2", "--"} + sweep(two), 240000);
    QCOMPARE(refused.code, 2);
    QVERIFY2(q(refused.err).contains("--sae-per-rank"), refused.err.c_str());
    const cli_runner::Cli spread =
        cli_runner::run_cli(QStringList{"launch", "--nproc", "2", "--"} + sweep(two) + QStringList{"--sae-per-rank"}, 240000);
    QVERIFY2(spread.code == 0, spread.err.c_str());
    const json outcomes = json::parse(spread.out);
    QCOMPARE(outcomes.size(), size_t(3));
    QCOMPARE(outcomes[1]["rank"].get<int>(), 1);
    QCOMPARE(sae::ActivationCache::open(two + "/k8.cache").shards(), int64_t(2));  // the first SAE of a hook names its cache
    QCOMPARE(sae::ActivationCache::open(two + "/l0-standard.cache").shards(), int64_t(2));
    for (const char* name : {"k8", "btk4", "l0-standard"}) {
      const sae::Sae a = sae::open_sae(one + "/" + name), b = sae::open_sae(two + "/" + name);
      for (const auto& [what, x, y] : {std::make_tuple("W_enc", a.weights().W_enc, b.weights().W_enc),
                                       std::make_tuple("W_dec", a.weights().W_dec, b.weights().W_dec)}) {
        const double diff = (x - y).abs().max().item<double>(), scale = x.abs().max().item<double>();
        QVERIFY2(diff <= 1e-5 * scale, (std::string(name) + ": " + what + " differs by " + std::to_string(diff)).c_str());
      }
    }
  }

  void onlyRankZeroWritesTheWorkspace() {
    const std::string ws = kOut + "/w.saescope";
    const QStringList args = QStringList{"launch", "--nproc", "2", "--"} + sae_eval(sae_, {"--workspace", q(ws)});
    const cli_runner::Cli first = cli_runner::run_cli(args, 240000);
    QVERIFY2(first.code == 0, first.err.c_str());
    QCOMPARE(json::parse(first.out)["reused"].get<bool>(), false);
    QCOMPARE(store::Workspace::open(ws)->results("reconstruction").size(), size_t(1));
    const cli_runner::Cli again = cli_runner::run_cli(args, 240000);
    QVERIFY2(again.code == 0, again.err.c_str());
    QCOMPARE(json::parse(again.out)["reused"].get<bool>(), true);
  }

  void ranksGivenDifferentFilesAreRefused() {
    const int port = free_port();
    auto r0 = start_rank(0, 2, port, sae_eval(sae_));
    auto r1 = start_rank(1, 2, port, sae_eval(sae2_));
    QVERIFY(r0->waitForFinished(240000) && r1->waitForFinished(240000));
    QCOMPARE(r0->exitCode(), 2);
    QCOMPARE(r1->exitCode(), 2);
    const QString err = r0->readAllStandardError();
    QVERIFY2(err.contains("differ between rank 0 and rank(s) 1") && err.contains("nothing was run"), qPrintable(err));
  }

  void aRankKilledMidPassStopsTheOthers() {
    const std::string ws = kOut + "/killed.saescope";
    const std::string big = tiny::write_corpus(kOut + "/big.txt", 2000, 4);
    QStringList args = {"sae-eval", "--model", q(model_), "--sae", q(sae_), "--corpus", q(big), "--context", "24",
                        "--batch", "2", "--workspace", q(ws), "--json", "--dist-timeout", "20"};
    // Rank 0's first progress line comes after the rendezvous and the agreement on inputs.
    kill_rank_one_after(args, "evaluate:", 0);
    if (QTest::currentTestFailed()) return;
    QCOMPARE(store::Workspace::open(ws)->results("reconstruction").size(), size_t(0));  // nothing half-done
    const cli_runner::Cli rerun = cli_runner::run_cli(QStringList{"launch", "--nproc", "2", "--"} + args, 240000);
    QVERIFY2(rerun.code == 0, rerun.err.c_str());
    QCOMPARE(store::Workspace::open(ws)->results("reconstruction").size(), size_t(1));
  }

  // Two "hosts": network namespaces joined by a veth pair, each rank in its
  // own, so nothing goes over loopback and each rank must find the address
  // that routes to the master (the hostname resolves to loopback there).
  // Needs root (CAP_NET_ADMIN); skipped otherwise.
  void twoHostsInNetworkNamespaces() {
    if (::geteuid() != 0) QSKIP("needs root to create network namespaces");
    const QString a = QStringLiteral("saescope-a%1").arg(::getpid()), b = QStringLiteral("saescope-b%1").arg(::getpid());
    const auto ip = [](const QStringList& args) {
      QProcess p;
      p.start(QStringLiteral("ip"), args);
      return p.waitForFinished(10000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
    };
    if (!ip({"netns", "add", a})) QSKIP("cannot create network namespaces here");
    const auto cleanup = qScopeGuard([&] {
      ip({"netns", "del", a});
      ip({"netns", "del", b});
    });
    const QString va = QStringLiteral("sv%1a").arg(::getpid() % 100000), vb = QStringLiteral("sv%1b").arg(::getpid() % 100000);
    QVERIFY(ip({"netns", "add", b}));
    QVERIFY(ip({"link", "add", va, "type", "veth", "peer", "name", vb}));
    QVERIFY(ip({"link", "set", va, "netns", a}) && ip({"link", "set", vb, "netns", b}));
    QVERIFY(ip({"-n", a, "addr", "add", "10.213.7.1/24", "dev", va}) && ip({"-n", b, "addr", "add", "10.213.7.2/24", "dev", vb}));
    for (const auto& [ns, dev] : {std::make_pair(a, va), std::make_pair(b, vb)})
      QVERIFY(ip({"-n", ns, "link", "set", dev, "up"}) && ip({"-n", ns, "link", "set", "lo", "up"}));
    const cli_runner::Cli single = cli_runner::run_cli(sae_eval(sae_), 240000);
    QVERIFY2(single.code == 0, single.err.c_str());
    std::vector<std::unique_ptr<QProcess>> ranks;
    for (int r = 0; r < 2; ++r) {
      auto p = std::make_unique<QProcess>();
      QStringList args = {"netns", "exec", r == 0 ? a : b, "env", "RANK=" + QString::number(r), "WORLD_SIZE=2",
                          "MASTER_ADDR=10.213.7.1", "MASTER_PORT=29511", "OMP_WAIT_POLICY=passive", SAESCOPE_CLI_PATH};
      args << sae_eval(sae_) << "--dist-timeout" << "60";
      p->start(QStringLiteral("ip"), args);
      ranks.push_back(std::move(p));
    }
    for (auto& p : ranks) QVERIFY(p->waitForFinished(240000));
    QVERIFY2(ranks[0]->exitCode() == 0 && ranks[1]->exitCode() == 0,
             (ranks[0]->readAllStandardError() + ranks[1]->readAllStandardError()).constData());
    QCOMPARE(differences(json::parse(single.out), json::parse(ranks[0]->readAllStandardOutput().toStdString())), QString());
  }

  void launchSaysWhichRankFailed() {
    const cli_runner::Cli r = cli_runner::run_cli({"launch", "--nproc", "2", "--", "sae-eval", "--sae", "/nonexistent",
                                                   "--model", q(model_), "--corpus", q(corpus_)});
    QCOMPARE(r.code, 2);
    QVERIFY2(q(r.err).contains("launch: rank 0 exited with code 2") || q(r.err).contains("launch: rank 1 exited with code 2"),
             r.err.c_str());
    QCOMPARE(cli_runner::run_cli({"launch", "--nproc", "2"}).code, 2);  // no command
  }
};

QTEST_GUILESS_MAIN(TestDistributed)
#include "test_distributed.moc"
