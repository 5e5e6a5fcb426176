// `saescope-cli train` end to end on a tiny random GPT-2: a loadable SAELens
// folder with the provenance in cfg.json, the held-out evaluation in the
// JSON summary, refusals of bad input with exit code 2 naming the option,
// a second run reusing the finished activation cache untouched, and a run
// continuing a cache that an interrupted run left part-written.
#include "tiny_engine.h"  // first: Qt's `slots` macro breaks ATen headers

#include <QProcess>
#include <QtTest>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/workflows/input_probe.h"
#include "core/sae/activation_cache.h"
#include "core/sae/sae.h"
#include "core/sae/sae_folder.h"
#include "core/store/evaluation_table.h"
#include "core/store/workspace.h"
#include "tests/cli_runner.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace saescope;

namespace {

const std::string kOut = std::string(SAESCOPE_TEST_OUTPUT_DIR) + "/sae_train_cli";
const std::string kHook = "blocks.1.hook_resid_pre";

using cli_runner::Cli;
using cli_runner::q;
using cli_runner::run_cli;

json read_json(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

}  // namespace

class TestSaeTrainCli : public QObject {
  Q_OBJECT

  std::string model_, corpus_;

  QStringList base(const std::string& out, const std::string& arch) const {
    return {"train", "--model", q(model_), "--hook", q(kHook), "--corpus", q(corpus_), "--arch", q(arch),
            "--context", "32", "--tokens", "2000", "--batch", "64", "--out", q(out)};
  }

 private slots:
  void initTestCase() {
    fs::remove_all(kOut);
    fs::create_directories(kOut);
    model_ = tiny::write_model(kOut + "/tiny-gpt2");
    corpus_ = tiny::write_corpus(kOut + "/corpus.txt", 200, 5);
  }

  void topkWritesLoadableSaeAndHeldOutMetrics() {
    const std::string out = kOut + "/topk";
    const Cli r = run_cli(base(out, "topk") << "--k" << "4" << "--expansion" << "2" << "--json");
    QVERIFY2(r.code == 0, r.err.c_str());
    const sae::Sae s = sae::load_sae(out);
    QCOMPARE(s.config().architecture, sae::Architecture::TopK);
    QCOMPARE(s.config().meta.hook_name, kHook);
    QCOMPARE(s.config().d_in, tiny::kWidth);
    QCOMPARE(s.config().d_sae, int64_t{64});
    QCOMPARE(s.config().k, int64_t{4});
    QCOMPARE(s.config().meta.model_name, std::string("tiny-gpt2"));
    QCOMPARE(s.config().meta.context_size.value_or(0), int64_t{32});
    QCOMPARE(s.config().meta.hook_layer.value_or(-1), int64_t{1});
    QCOMPARE(s.config().center_writing_weights, false);
    QVERIFY(!read_json(out + "/cfg.json")["metadata"].contains("l1_coefficient"));

    const json j = json::parse(r.out);
    for (const char* key : {"mse", "l0", "explained_variance"}) QVERIFY2(j[key].is_number(), key);
    QVERIFY(j["l0"].get<double>() <= 4.0 + 1e-9);
    QVERIFY(j["l0"].get<double>() > 0);
    QVERIFY(j["mse"].get<double>() >= 0);
    // Trained, not left at its initialisation: it explains some variance.
    QVERIFY2(j["explained_variance"].get<double>() > 0, r.out.c_str());
    QCOMPARE(j["tokens"].get<int64_t>(), int64_t{2000});
    // The evaluation covers exactly the windows training never saw.
    QVERIFY(j["holdout_rows"].get<int64_t>() > 0);
    QCOMPARE(j["evaluation"]["tokens"].get<int64_t>(), j["holdout_rows"].get<int64_t>());
    QCOMPARE(j["train_rows"].get<int64_t>() + j["holdout_rows"].get<int64_t>(), j["cache_tokens"].get<int64_t>());
    QVERIFY(j["train_rows"].get<int64_t>() >= 2000);  // the cache was sized for the token budget
    QVERIFY(fs::exists(out + ".cache"));  // default cache path beside --out
    QVERIFY(r.err.find("train:") != std::string::npos);
    QVERIFY(r.err.find("cache:") != std::string::npos);
  }

  void standardWritesL1CoefficientAndCentering() {
    const std::string out = kOut + "/standard";
    const Cli r = run_cli(base(out, "standard") << "--l1" << "0.25" << "--d-sae" << "48"
                                                << "--center-writing-weights" << "--json");
    QVERIFY2(r.code == 0, r.err.c_str());
    const sae::Sae s = sae::load_sae(out);
    QCOMPARE(s.config().architecture, sae::Architecture::Standard);
    QCOMPARE(s.config().d_sae, int64_t{48});
    QCOMPARE(s.config().center_writing_weights, true);
    const json cfg = read_json(out + "/cfg.json");
    QCOMPARE(cfg["metadata"]["l1_coefficient"].get<double>(), 0.25);
    QCOMPARE(cfg["metadata"]["model_from_pretrained_kwargs"]["center_writing_weights"].get<bool>(), true);
    QCOMPARE(read_json(out + "/cfg.json")["metadata"]["hook_name"].get<std::string>(), kHook);
  }

  // JumpReLU (learned thresholds, L0) and gated (gate + magnitude paths, L1):
  // SAELens folders the loader reads back as those architectures, with the
  // training coefficients in cfg.json's metadata under SAELens's names.
  void jumpreluAndGatedWriteLoadableSaes() {
    const std::string jr = kOut + "/jumprelu";
    const Cli a = run_cli(base(jr, "jumprelu") << "--expansion" << "2" << "--l0-coefficient" << "0.01"
                                               << "--jumprelu-bandwidth" << "0.02"
                                               << "--jumprelu-init-threshold" << "0.005" << "--json");
    QVERIFY2(a.code == 0, a.err.c_str());
    const sae::Sae j = sae::load_sae(jr);
    QCOMPARE(j.config().architecture, sae::Architecture::JumpReLU);
    QCOMPARE(j.config().d_sae, int64_t{64});
    QVERIFY(j.weights().threshold.defined());
    QVERIFY(j.weights().threshold.min().item<float>() > 0);
    // Learned per feature: no longer all at the initial 0.005.
    QVERIFY(j.weights().threshold.max().item<float>() > j.weights().threshold.min().item<float>());
    const json jm = read_json(jr + "/cfg.json");
    QCOMPARE(jm["architecture"].get<std::string>(), std::string("jumprelu"));
    QCOMPARE(jm["metadata"]["l0_coefficient"].get<double>(), 0.01);
    QCOMPARE(jm["metadata"]["jumprelu_bandwidth"].get<double>(), 0.02);
    QCOMPARE(jm["metadata"]["jumprelu_init_threshold"].get<double>(), 0.005);
    QVERIFY(!jm["metadata"].contains("l1_coefficient"));
    const json ja = json::parse(a.out);
    qInfo("jumprelu: held-out EV %.3f, L0 %.2f", ja["explained_variance"].get<double>(), ja["l0"].get<double>());
    // Measured: EV 0.50, L0 19.4 (of 64); gated EV 0.35, L0 13.2 (of 48).
    QVERIFY2(ja["explained_variance"].get<double>() > 0.2, a.out.c_str());
    QVERIFY(ja["l0"].get<double>() > 0);
    QVERIFY(a.err.find("l0 penalty") != std::string::npos);

    // Anthropic's set-up: tanh penalty and pre-act loss, named as SAELens names them.
    const std::string jt = kOut + "/jumprelu-tanh";
    const Cli t = run_cli(base(jt, "jumprelu") << "--expansion" << "2" << "--l0-coefficient" << "0.01"
                                               << "--jumprelu-sparsity" << "tanh"
                                               << "--jumprelu-tanh-scale" << "2" << "--pre-act-loss"
                                               << "0.001" << "--json");
    QVERIFY2(t.code == 0, t.err.c_str());
    QCOMPARE(sae::load_sae(jt).config().architecture, sae::Architecture::JumpReLU);
    const json tm = read_json(jt + "/cfg.json")["metadata"];
    QCOMPARE(tm["jumprelu_sparsity_loss_mode"].get<std::string>(), std::string("tanh"));
    QCOMPARE(tm["jumprelu_tanh_scale"].get<double>(), 2.0);
    QCOMPARE(tm["pre_act_loss_coefficient"].get<double>(), 0.001);
    QCOMPARE(jm["metadata"]["jumprelu_sparsity_loss_mode"].get<std::string>(), std::string("step"));
    QVERIFY(!jm["metadata"].contains("pre_act_loss_coefficient"));
    const json tj = json::parse(t.out);
    qInfo("jumprelu tanh: held-out EV %.3f, L0 %.2f", tj["explained_variance"].get<double>(),
          tj["l0"].get<double>());
    QVERIFY2(tj["explained_variance"].get<double>() > 0.2, t.out.c_str());

    const std::string gd = kOut + "/gated";
    const Cli g = run_cli(base(gd, "gated") << "--d-sae" << "48" << "--l1" << "0.1" << "--json");
    QVERIFY2(g.code == 0, g.err.c_str());
    const sae::Sae s = sae::load_sae(gd);
    QCOMPARE(s.config().architecture, sae::Architecture::Gated);
    QCOMPARE(s.config().d_sae, int64_t{48});
    for (const at::Tensor& t : {s.weights().b_gate, s.weights().r_mag, s.weights().b_mag})
      QVERIFY(t.defined() && t.size(0) == 48);
    QVERIFY(!s.weights().b_enc.defined());
    const json gm = read_json(gd + "/cfg.json");
    QCOMPARE(gm["architecture"].get<std::string>(), std::string("gated"));
    QCOMPARE(gm["metadata"]["l1_coefficient"].get<double>(), 0.1);
    const json gj = json::parse(g.out);
    qInfo("gated: held-out EV %.3f, L0 %.2f", gj["explained_variance"].get<double>(), gj["l0"].get<double>());
    QVERIFY2(gj["explained_variance"].get<double>() > 0.2, g.out.c_str());
    QVERIFY(gj["l0"].get<double>() > 0);

    // Matryoshka BatchTopK: nested levels, saved as jumprelu with its widths and k.
    const std::string md = kOut + "/matryoshka";
    const Cli m = run_cli(base(md, "matryoshka_batchtopk") << "--d-sae" << "48" << "--k" << "4"
                                                           << "--matryoshka-widths" << "8,24" << "--json");
    QVERIFY2(m.code == 0, m.err.c_str());
    QCOMPARE(sae::load_sae(md).config().architecture, sae::Architecture::JumpReLU);
    const json mm = read_json(md + "/cfg.json")["metadata"];
    QCOMPARE(mm["matryoshka_widths"], json::array({8, 24, 48}));
    QCOMPARE(mm["trained_as"].get<std::string>(), std::string("matryoshka_batchtopk"));
    const json mj = json::parse(m.out);
    qInfo("matryoshka_batchtopk: held-out EV %.3f, L0 %.2f", mj["explained_variance"].get<double>(),
          mj["l0"].get<double>());
    QVERIFY2(mj["explained_variance"].get<double>() > 0.2, m.out.c_str());
    const Cli bad = run_cli(base(md + "-bad", "matryoshka_batchtopk") << "--d-sae" << "48" << "--k" << "4"
                                                                     << "--matryoshka-widths" << "2,24");
    QCOMPARE(bad.code, 2);
    QVERIFY2(bad.err.find("--matryoshka-widths") != std::string::npos, bad.err.c_str());

    // A skip transcoder from the MLP's input to its output: a second cache of
    // the same windows, the held-out metrics against the output hook.
    const std::string tc = kOut + "/transcoder";
    QStringList targs = base(tc, "topk");
    targs[targs.indexOf("--hook") + 1] = "blocks.1.ln2.hook_normalized";
    const Cli t2 = run_cli(targs << "--hook-out" << "blocks.1.hook_mlp_out" << "--skip-connection" << "--k" << "4"
                                 << "--d-sae" << "48" << "--json");
    QVERIFY2(t2.code == 0, t2.err.c_str());
    const json tcfg = read_json(tc + "/cfg.json");
    QCOMPARE(tcfg["architecture"].get<std::string>(), std::string("skip_topk_transcoder"));
    QCOMPARE(tcfg["hook_name_out"].get<std::string>(), std::string("blocks.1.hook_mlp_out"));
    QVERIFY(fs::exists(tc + ".out.cache"));
    const json tj2 = json::parse(t2.out);
    QCOMPARE(tj2["evaluation"]["hook_out"].get<std::string>(), std::string("blocks.1.hook_mlp_out"));
    QVERIFY2(tj2["evaluation"]["mse"].get<double>() > 0, t2.out.c_str());
    const sae::Sae tcs = sae::load_sae(tc);
    QVERIFY(tcs.is_transcoder() && tcs.weights().W_skip.defined());
    const Cli noskip = run_cli(base(tc + "-bad", "topk") << "--k" << "4" << "--d-sae" << "48" << "--skip-connection");
    QCOMPARE(noskip.code, 2);
    QVERIFY2(noskip.err.find("--hook-out") != std::string::npos, noskip.err.c_str());

    // The evaluation table names each one's sparsity setting, by the knob of
    // the architecture it was trained as.
    fs::create_directories(kOut + "/ws_arch");
    auto ws = store::Workspace::open(kOut + "/ws_arch/ws.saescope");
    jobs::register_probed(*ws, jr);
    jobs::register_probed(*ws, gd);
    jobs::register_probed(*ws, md);
    std::map<std::string, std::string> sparsity;
    for (const auto& row : store::evaluation_table(*ws)) sparsity[row.sae_path] = row.sparsity;
    QCOMPARE(QString::fromStdString(sparsity[jr]), QString("l0=0.01"));
    QCOMPARE(QString::fromStdString(sparsity[gd]), QString("l1=0.1"));
    QCOMPARE(QString::fromStdString(sparsity[md]), QString("k=4"));
  }

  void badInputExitsTwoNamingTheProblem() {
    const std::string out = kOut + "/bad";
    struct Case {
      QStringList args;
      const char* expected;
    };
    const Case cases[] = {
        {base(out, "sparse") << "--expansion" << "2", "sparse"},
        {base(out, "topk") << "--expansion" << "2", "--k"},
        {base(out, "topk") << "--k" << "4", "--expansion"},
        {base(out, "topk") << "--k" << "4" << "--expansion" << "2" << "--d-sae" << "8", "--d-sae"},
        {base(out, "topk") << "--k" << "100" << "--expansion" << "2", "--k 100"},
        {base(out, "standard") << "--k" << "4" << "--expansion" << "2", "--k"},
        {base(out, "gated") << "--k" << "4" << "--expansion" << "2", "--k"},
        {base(out, "jumprelu") << "--l1" << "0.1" << "--expansion" << "2", "--l0-coefficient"},
        {base(out, "standard") << "--l0-coefficient" << "0.1" << "--expansion" << "2", "--l0-coefficient"},
        {base(out, "topk") << "--k" << "4" << "--jumprelu-bandwidth" << "0.1" << "--expansion" << "2",
         "--jumprelu-bandwidth"},
        {base(out, "topk") << "--k" << "4" << "--jumprelu-sparsity" << "tanh" << "--expansion" << "2",
         "--jumprelu-sparsity"},
        {base(out, "jumprelu") << "--jumprelu-sparsity" << "cubic" << "--expansion" << "2", "cubic"},
        {base(out, "jumprelu") << "--jumprelu-tanh-scale" << "2" << "--expansion" << "2",
         "--jumprelu-tanh-scale"},
    };
    for (const Case& c : cases) {
      const Cli r = run_cli(c.args);
      QVERIFY2(r.code == 2, (c.args.join(' ').toStdString() + "\n" + r.err).c_str());
      QVERIFY2(r.err.find(c.expected) != std::string::npos, r.err.c_str());
    }
    QStringList hook = base(out, "topk") << "--k" << "4" << "--expansion" << "2";
    hook[hook.indexOf("--hook") + 1] = "blocks.7.hook_resid_pre";
    const Cli r = run_cli(hook);
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.find("blocks.7.hook_resid_pre") != std::string::npos, r.err.c_str());
    QVERIFY(!fs::exists(out));
  }

  void secondRunReusesTheFinishedCache() {
    const std::string out = kOut + "/rerun";
    const std::string cache = kOut + "/shared.cache";
    const QStringList args = base(out, "batchtopk") << "--k" << "4" << "--expansion" << "2" << "--cache"
                                                    << q(cache) << "--json";
    const Cli first = run_cli(args);
    QVERIFY2(first.code == 0, first.err.c_str());
    QCOMPARE(json::parse(first.out)["cache_reused"].get<bool>(), false);
    QVERIFY(!fs::exists(out + ".cache"));  // --cache given: nothing beside --out
    const auto mtime = fs::last_write_time(cache);
    const auto size = fs::file_size(cache);

    const Cli second = run_cli(args);
    QVERIFY2(second.code == 0, second.err.c_str());
    QCOMPARE(json::parse(second.out)["cache_reused"].get<bool>(), true);
    QVERIFY(fs::last_write_time(cache) == mtime);
    QCOMPARE(fs::file_size(cache), size);
    // Same seed, same cache: the same SAE.
    QCOMPARE(json::parse(second.out)["mse"].get<double>(), json::parse(first.out)["mse"].get<double>());
    QCOMPARE(sae::load_sae(out).config().architecture, sae::Architecture::JumpReLU);
  }

  void continuesAPartWrittenCache() {
    const std::string out = kOut + "/resumed";
    const std::string cache = kOut + "/partial.cache";
    const QStringList args = base(out, "topk") << "--k" << "4" << "--expansion" << "2" << "--cache" << q(cache)
                                               << "--json";
    const Cli first = run_cli(args);
    QVERIFY2(first.code == 0, first.err.c_str());
    const sae::CacheFileInfo full = sae::read_cache_file_info(cache);
    // What a run killed after 5 windows leaves: the progress record says 5
    // windows (the writer commits rows before the record that counts them).
    const uint64_t windows = 5, rows = 5 * 31;  // 31 rows per window of 32: BOS excluded
    {
      std::fstream f(cache, std::ios::in | std::ios::out | std::ios::binary);
      const uint64_t record[3] = {windows, rows, sae::cache_layout::check_word(windows, rows)};
      f.seekp(sae::cache_layout::kProgressOffset);
      f.write(reinterpret_cast<const char*>(record), sizeof record);
    }
    QVERIFY(!sae::ActivationCache::open(cache).complete());

    const Cli second = run_cli(args);
    QVERIFY2(second.code == 0, second.err.c_str());
    const json j = json::parse(second.out);
    QCOMPARE(j["cache_reused"].get<bool>(), false);
    QCOMPARE(j["cache_resumed_from_tokens"].get<int64_t>(), int64_t{rows});
    const sae::ActivationCache resumed = sae::ActivationCache::open(cache);
    QVERIFY(resumed.complete());
    QCOMPARE(resumed.rows(), full.progress.rows);
    QCOMPARE(j["cache_tokens"].get<int64_t>(), full.progress.rows);
  }
};

QTEST_GUILESS_MAIN(TestSaeTrainCli)
#include "test_sae_train_cli.moc"
