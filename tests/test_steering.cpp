// Steering, ablation and generation (the steering issue): the KV cache
// equals recomputation for every family (logits at every step, and greedy
// continuations); --add 0 changes nothing; clamping a feature to its own
// value changes nothing; adding equals the same replacement written through
// the hook API; on the demo model, adding a feature raises the token its
// logit effects promote (measured); sampling is seeded and honours top-k /
// top-p; bad input is refused by name; the CLI's JSON has the promised shape.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <QtTest>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/analysis/steering.h"
#include "core/common/error.h"
#include "core/common/runtime_info.h"
#include "core/demo/demo_assets.h"
#include "core/model/generation.h"
#include "core/model/kv_cache.h"
#include "core/model/language_model.h"
#include "core/model/model_registry.h"
#include "core/sae/formats/sae_formats.h"
#include "core/sae/sae.h"
#include "core/common/progress.h"
#include "core/store/workspace.h"
#include "core/workflows/engine_cache.h"
#include "core/workflows/steering_request.h"
#include "tests/cli_runner.h"
#include "tests/tiny_engine.h"

using namespace saescope;
using namespace saescope::model;
using analysis::FeatureEdit;
using analysis::FeatureEditKind;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kFamilies = std::string(SAESCOPE_FIXTURES_DIR) + "/model/families";
const std::string kOut = std::string(SAESCOPE_TEST_OUTPUT_DIR) + "/steering";
const char* const kCases[] = {"pythia", "neox-sequential", "llama3", "qwen2", "qwen3",
                              "gemma2", "gemma3-text", "gemma3-multimodal"};

std::vector<int64_t> some_ids(int64_t n, int64_t vocab, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int64_t> ids;
  for (int64_t i = 0; i < n; ++i) ids.push_back(static_cast<int64_t>(rng() % static_cast<uint64_t>(vocab)));
  return ids;
}

at::Tensor ids_tensor(const std::vector<int64_t>& ids) {
  return at::tensor(ids, at::TensorOptions().dtype(at::kLong)).view({1, -1});
}

at::Tensor logits_of(const LanguageModel& m, const std::vector<int64_t>& ids, RunRequest req = {}) {
  c10::InferenceMode guard;
  req.hooks = {"logits"};
  return m.forward(ids_tensor(ids), req).hooks.at("logits")[0];
}

// A random SAE at `hook` of `model`, in memory.
sae::Sae random_sae(const LanguageModel& model, const std::string& hook, int64_t d_sae, uint64_t seed) {
  const int64_t d = model.hook_schema().resolve(hook).width;
  sae::SaeConfig cfg;
  cfg.architecture = sae::Architecture::Standard;
  cfg.d_in = d;
  cfg.d_sae = d_sae;
  cfg.meta.hook_name = hook;
  at::manual_seed(seed);
  sae::SaeWeights w;
  w.W_enc = at::randn({d, d_sae});
  w.W_dec = at::randn({d_sae, d}) * 0.3;
  w.b_dec = at::randn({d}) * 0.1;
  w.b_enc = at::full({d_sae}, -0.2f);
  return sae::Sae(cfg, w, "random-sae(" + hook + ")");
}

double max_diff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

}  // namespace

class TestSteering : public QObject {
  Q_OBJECT
  std::string tiny_model_, tiny_sae_;

 private slots:
  void initTestCase() {
    set_engine_threads(2);
    fs::remove_all(kOut);
    fs::create_directories(kOut);
    tiny_model_ = tiny::write_model(kOut + "/tiny-gpt2");
    tiny_sae_ = tiny::write_sae(kOut + "/tiny-sae", "blocks.1.hook_resid_post", 64, 5);
  }

  void cachedStepsEqualRecomputation_data() {
    QTest::addColumn<QString>("fixture");
    QTest::newRow("gpt2") << QString("gpt2");
    for (const char* c : kCases) QTest::newRow(c) << QString(c);
  }
  // Prompt in one pass, then one token at a time through the cache: each
  // step's logits equal the full recomputation's at that position, past
  // Gemma's sliding windows (3 to 5 positions in the fixtures).
  void cachedStepsEqualRecomputation() {
    QFETCH(QString, fixture);
    const auto model = load_language_model(fixture == "gpt2" ? tiny_model_ : kFamilies + "/" + fixture.toStdString());
    const int64_t n = std::min<int64_t>(24, model->info().n_positions);
    const std::vector<int64_t> ids = some_ids(n, model->info().vocab_size, 3);
    const at::Tensor full = logits_of(*model, ids);
    KvCache cache;
    RunRequest req;
    req.cache = &cache;
    const at::Tensor prompt = logits_of(*model, {ids.begin(), ids.begin() + 5}, req);
    QVERIFY2(max_diff(prompt, full.narrow(0, 0, 5)) < 1e-4, fixture.toUtf8());
    for (int64_t t = 5; t < n; ++t) {
      const at::Tensor step = logits_of(*model, {ids[static_cast<size_t>(t)]}, req);
      const double d = max_diff(step[0], full[t]);
      QVERIFY2(d < 1e-4, (fixture.toStdString() + " position " + std::to_string(t) + ": " + std::to_string(d)).c_str());
    }
    QCOMPARE(cache.length(), n);
    // And whole greedy continuations agree.
    GenerationRequest g;
    g.prompt = {ids.begin(), ids.begin() + 4};
    g.max_new_tokens = n - 4;
    g.stop_at_eos = false;
    const Generation cached = generate(*model, g);
    g.use_cache = false;
    const Generation recomputed = generate(*model, g);
    QCOMPARE(cached.ids, recomputed.ids);
    QCOMPARE(static_cast<int64_t>(cached.ids.size()), n - 4);
  }

  void addingZeroAndClampingToItsOwnValueChangeNothing_data() {
    QTest::addColumn<QString>("fixture");
    QTest::addColumn<QString>("hook");
    QTest::newRow("gpt2") << QString("gpt2") << QString("blocks.1.hook_resid_post");
    QTest::newRow("llama3") << QString("llama3") << QString("blocks.0.hook_mlp_out");
    QTest::newRow("gemma2 attn z") << QString("gemma2") << QString("blocks.1.attn.hook_z");
    QTest::newRow("pythia") << QString("pythia") << QString("blocks.1.hook_resid_pre");
  }
  void addingZeroAndClampingToItsOwnValueChangeNothing() {
    QFETCH(QString, fixture);
    QFETCH(QString, hook);
    const auto model = load_language_model(fixture == "gpt2" ? tiny_model_ : kFamilies + "/" + fixture.toStdString());
    const sae::Sae sae = random_sae(*model, hook.toStdString(), 40, 7);
    const std::vector<int64_t> prompt = some_ids(6, model->info().vocab_size, 9);
    GenerationRequest g;
    g.prompt = prompt;
    g.max_new_tokens = 10;
    g.stop_at_eos = false;
    const Generation plain = generate(*model, g);
    g.edits = analysis::sae_feature_edits(sae, {{3, FeatureEditKind::Add, 0.0}});
    QCOMPARE(generate(*model, g).ids, plain.ids);

    // The code of feature f at the last prompt position, clamped there.
    c10::InferenceMode guard;
    const std::string h = hook.toStdString();
    at::Tensor x = model->forward(ids_tensor(prompt), {{h}, {}}).hooks.at(h)[0];
    x = x.reshape({x.size(0), -1});
    const at::Tensor codes = sae.encode(x);
    const int64_t last = static_cast<int64_t>(prompt.size()) - 1;
    const int64_t f = codes[last].argmax().item<int64_t>();  // one that fires
    QVERIFY(codes[last][f].item<double>() > 0);
    const auto edits = analysis::sae_feature_edits(sae, {{f, FeatureEditKind::Clamp, codes[last][f].item<double>()}}, last);
    const RunRequest req{{"logits"}, replacements_for(edits, 0)};
    const at::Tensor clamped = model->forward(ids_tensor(prompt), req).hooks.at("logits")[0];
    QVERIFY(max_diff(clamped, logits_of(*model, prompt)) < 1e-4);
    // While clamping it elsewhere does change them.
    const auto moved = analysis::sae_feature_edits(sae, {{f, FeatureEditKind::Clamp, codes[last][f].item<double>() + 5}}, last);
    const RunRequest req2{{"logits"}, replacements_for(moved, 0)};
    QVERIFY(max_diff(model->forward(ids_tensor(prompt), req2).hooks.at("logits")[0], clamped) > 1e-3);
  }

  // Add s equals x + s·W_dec[f] at every position written by hand.
  void addingEqualsTheSameHookReplacement() {
    const auto model = load_language_model(kFamilies + "/qwen3");
    const std::string hook = "blocks.1.hook_resid_mid";
    const sae::Sae sae = random_sae(*model, hook, 32, 11);
    const std::vector<int64_t> ids = some_ids(9, model->info().vocab_size, 4);
    const double s = 2.5;
    RunRequest by_hand{{"logits"}, {}};
    const at::Tensor dir = sae.weights().W_dec[5];
    by_hand.replace.emplace_back(hook, [&](const at::Tensor& v, const HookPoint&) { return v + s * dir; });
    const auto add_edits = analysis::sae_feature_edits(sae, {{5, FeatureEditKind::Add, s}});
    const RunRequest by_edit{{"logits"}, replacements_for(add_edits, 0)};
    c10::InferenceMode guard;
    const at::Tensor a = model->forward(ids_tensor(ids), by_hand).hooks.at("logits");
    const at::Tensor b = model->forward(ids_tensor(ids), by_edit).hooks.at("logits");
    QVERIFY(max_diff(a, b) < 1e-5);
    QVERIFY(max_diff(a, logits_of(*model, ids).unsqueeze(0)) > 1e-3);  // it did act
    // Generation with the edit sees the same edited prompt.
    GenerationRequest g;
    g.prompt = ids;
    g.max_new_tokens = 1;
    g.edits = analysis::sae_feature_edits(sae, {{5, FeatureEditKind::Add, s}});
    QVERIFY(max_diff(generate(*model, g).first_log_probs, at::log_softmax(a[0][-1].to(at::kDouble), -1).to(at::kFloat)) < 1e-4);
  }

  // The demo's last-layer SAE: the feature whose logit effect on one token is
  // the largest, added, makes that token more likely after a prompt.
  void addingAFeatureRaisesTheTokenItsLogitEffectsPromote() {
    const demo::DemoAssets demo = demo::find_demo_assets();
    std::string sae_dir;
    for (const auto& d : demo.sae_dirs)
      if (fs::path(d).filename().string().rfind("L3_resid_post", 0) == 0) sae_dir = d;
    QVERIFY(!sae_dir.empty());
    const auto model = load_language_model(demo.model_dir);
    const sae::Sae sae = sae::open_sae(sae_dir);
    const Unembedding u = model->unembedding();
    c10::InferenceMode guard;
    const at::Tensor effects = at::matmul(sae.weights().W_dec * u.final_norm_gain, u.unembed.t());  // [d_sae, vocab]
    const auto best = effects.max(1);
    const int64_t f = std::get<0>(best).argmax().item<int64_t>();
    const int64_t token = std::get<1>(best)[f].item<int64_t>();
    const std::vector<int64_t> prompt = {50256, 464, 3290, 286, 262};  // <|endoftext|>The end of the
    // As strong as the residual stream itself at the last prompt position.
    const std::string hook = sae.config().meta.hook_name;
    const at::Tensor x = model->forward(ids_tensor(prompt), {{hook}, {}}).hooks.at(hook)[0][-1];
    const double s = x.norm().item<double>() / sae.weights().W_dec[f].norm().item<double>();
    analysis::SteerOptions o;
    o.max_new_tokens = 3;
    const analysis::SteerResult r =
        analysis::steer(*model, sae, prompt, {{f, FeatureEditKind::Add, s}}, o);
    const double before = r.baseline.first_log_probs[token].item<double>();
    const double after = r.steered.first_log_probs[token].item<double>();
    qInfo("feature %lld promotes token %lld: added at s = %.2f, log-prob %.3f -> %.3f, KL %.3f",
          static_cast<long long>(f), static_cast<long long>(token), s, before, after, r.next_token.kl);
    QVERIFY(after > before + 1.0);
    QVERIFY(r.next_token.kl > 0);
    bool listed = false;
    for (const auto& c : r.next_token.promoted) listed = listed || c.id == token;
    QVERIFY(listed);
  }

  void samplingIsSeededAndHonoursTopKAndTopP() {
    const at::Tensor logits = at::tensor({1.0, 3.0, 2.0, 3.0, -1.0});
    std::mt19937_64 rng(1);
    QCOMPARE(choose_token(logits, {}, rng), int64_t(1));  // greedy: the first of equal maxima
    Sampling topk{1.0, 2, 1.0, 0};
    Sampling topp{1.0, 0, 0.3, 0};
    std::map<int64_t, int> seen_k, seen_p, seen_all;
    Sampling all{1.0, 0, 1.0, 0};
    for (int i = 0; i < 2000; ++i) {
      ++seen_k[choose_token(logits, topk, rng)];
      ++seen_p[choose_token(logits, topp, rng)];
      ++seen_all[choose_token(logits, all, rng)];
    }
    QCOMPARE(static_cast<int>(seen_k.size()), 2);  // ids 1 and 3 only
    QVERIFY(seen_k.count(1) && seen_k.count(3));
    QCOMPARE(static_cast<int>(seen_p.size()), 1);  // the first top token's mass ≥ 0.3
    QCOMPARE(static_cast<int>(seen_all.size()), 5);
    // Frequencies near softmax: token 2 has p = e²/(e+2e³+e²+e⁻¹).
    const double p2 = std::exp(2.0) / (std::exp(1.0) + 2 * std::exp(3.0) + std::exp(2.0) + std::exp(-1.0));
    QVERIFY(std::abs(seen_all[2] / 2000.0 - p2) < 0.04);
    // The same seed, the same continuation.
    const auto model = load_language_model(tiny_model_);
    GenerationRequest g;
    g.prompt = {50256, 464};
    g.max_new_tokens = 12;
    g.stop_at_eos = false;
    g.sampling = {1.0, 50, 0.9, 42};
    const auto a = generate(*model, g).ids, b = generate(*model, g).ids;
    QCOMPARE(a, b);
    g.sampling.seed = 43;
    QVERIFY(generate(*model, g).ids != a);
  }

  void ablationAttributionScoresEveryNextToken() {
    const auto model = load_language_model(tiny_model_);
    const sae::Sae sae = sae::open_sae(tiny_sae_);
    const std::vector<int64_t> ids = some_ids(10, model->info().vocab_size, 2);
    c10::InferenceMode guard;
    const at::Tensor lp = at::log_softmax(logits_of(*model, ids).to(at::kDouble), -1);
    const at::Tensor x = model->forward(ids_tensor(ids), {{"blocks.1.hook_resid_post"}, {}}).hooks.begin()->second[0];
    const at::Tensor codes = sae.encode(x);
    const int64_t fires = codes.sum(0).argmax().item<int64_t>();
    const auto rows = analysis::ablation_attribution(*model, sae, ids, {fires});
    QCOMPARE(rows.size(), ids.size() - 1);
    double moved = 0;
    for (const auto& r : rows) {
      QCOMPARE(r.next_id, ids[static_cast<size_t>(r.position) + 1]);
      QVERIFY(std::abs(r.log_prob_with - lp[r.position][r.next_id].item<double>()) < 1e-4);
      moved += std::abs(r.log_prob_without - r.log_prob_with);
    }
    QVERIFY(moved > 1e-3);
    // A feature that never fires on this text changes nothing.
    const at::Tensor silent = (std::get<0>(codes.max(0)) <= 0).nonzero();
    if (silent.numel() > 0) {
      for (const auto& r : analysis::ablation_attribution(*model, sae, ids, {silent[0][0].item<int64_t>()}))
        QVERIFY(std::abs(r.log_prob_without - r.log_prob_with) < 1e-6);
    }
  }

  void badInputIsRefusedByName() {
    const auto model = load_language_model(tiny_model_);
    const sae::Sae sae = sae::open_sae(tiny_sae_);
    const auto refused = [&](const std::function<void()>& f, const std::string& says) {
      try {
        f();
      } catch (const InputError& e) {
        if (std::string(e.what()).find(says) != std::string::npos) return true;
        qWarning("%s", e.what());
        return false;
      }
      return false;
    };
    analysis::SteerOptions o;
    o.max_new_tokens = 4;
    const std::vector<int64_t> prompt = {50256, 464};
    QVERIFY(refused([&] { analysis::steer(*model, sae, prompt, {{64, FeatureEditKind::Add, 1.0}}, o); },
                    "feature 64 is outside the SAE's 64 features"));
    QVERIFY(refused([&] { analysis::steer(*model, sae, prompt, {{1, FeatureEditKind::Add, std::nan("")}}, o); },
                    "is not a finite number"));
    o.max_new_tokens = 63;
    QVERIFY(refused([&] { analysis::steer(*model, sae, prompt, {{1, FeatureEditKind::Add, 1.0}}, o); },
                    "exceed the model's context of 64"));
    o.max_new_tokens = 4;
    const auto llama = load_language_model(kFamilies + "/llama3");
    const sae::Sae wide = random_sae(*llama, "blocks.1.hook_resid_post", 16, 1);  // 48 wide, at a hook GPT-2 has
    QVERIFY(refused([&] { analysis::steer(*model, wide, prompt, {{1, FeatureEditKind::Add, 1.0}}, o); },
                    "an SAE for another model"));
    QVERIFY(refused([&] { analysis::ablation_attribution(*model, sae, {50256}, {1}); }, "fewer than 2 tokens"));
    o.sampling.top_p = 0;
    QVERIFY(refused([&] { analysis::steer(*model, sae, prompt, {{1, FeatureEditKind::Add, 1.0}}, o); }, "top-p"));
  }

  // --add-max S is S times the feature's largest activation in the
  // workspace's harvest: the same continuation as --add with that raw value.
  void strengthInUnitsOfTheHarvestedMax() {
    const std::string ws = kOut + "/max.saescope";
    const std::string corpus = tiny::write_corpus(kOut + "/corpus.txt", 40, 3);
    const cli_runner::Cli h = cli_runner::run_cli({"harvest", "--workspace", cli_runner::q(ws), "--model",
                                                   cli_runner::q(tiny_model_), "--sae", cli_runner::q(tiny_sae_),
                                                   "--corpus", cli_runner::q(corpus), "--context", "24"},
                                                  240000);
    QVERIFY2(h.code == 0, h.err.c_str());
    const cli_runner::Cli f = cli_runner::run_cli(
        {"feature", "--workspace", cli_runner::q(ws), "--sae", cli_runner::q(tiny_sae_), "--id", "3", "--json"});
    QVERIFY2(f.code == 0, f.err.c_str());
    const json page = json::parse(f.out);
    const double max_act = page["max_act"].get<double>();
    QVERIFY(max_act > 0);
    const auto steered = [&](const QStringList& strength) {
      QStringList args = {"steer", "--model", cli_runner::q(tiny_model_), "--sae", cli_runner::q(tiny_sae_),
                          "--feature", "3", "--prompt", "The bank of the river", "--tokens", "6", "--json"};
      args << strength;
      const cli_runner::Cli r = cli_runner::run_cli(args, 120000);
      return r.code == 0 ? json::parse(r.out) : json{{"error", r.err}};
    };
    const json by_max = steered({"--add-max", "3", "--workspace", cli_runner::q(ws)});
    const json raw = steered({"--add", QString::number(3 * max_act, 'g', 17)});
    QVERIFY2(!by_max.contains("error"), by_max.dump().c_str());
    QCOMPARE(by_max["steered"]["ids"], raw["steered"]["ids"]);
    QCOMPARE(by_max["edits"][0]["value"].get<double>(), 3 * max_act);
    // Without a workspace there is no harvest to read: refused by name.
    const json none = steered({"--add-max", "3"});
    QVERIFY2(none.contains("error") && none["error"].get<std::string>().find("--workspace") != std::string::npos,
             none.dump().c_str());
  }

  // A cancelled steering run stores nothing and says it was cancelled.
  void cancellingStoresNothing() {
    const std::string ws_path = kOut + "/cancel.saescope";
    auto ws = store::Workspace::open(ws_path);
    jobs::SteerRequest r;
    r.model_dir = tiny_model_;
    r.sae_path = tiny_sae_;
    r.prompt = "The bank of the river";
    r.edits = {{3, FeatureEditKind::Add, 2.0}};
    r.options.max_new_tokens = 30;
    jobs::CancelFlag flag;
    int reports = 0;
    jobs::ProgressSink progress([&](const jobs::Progress&, double, double) {
      if (++reports == 3) flag.cancel();
    }, &flag);
    jobs::EngineCache engines;
    QVERIFY_THROWS_EXCEPTION(Cancelled, jobs::run_steer(r, ws.get(), engines, progress));
    QCOMPARE(static_cast<int>(ws->results("steer").size()), 0);
    jobs::ProgressSink fresh;
    const auto done = jobs::run_steer(r, ws.get(), engines, fresh);
    QCOMPARE(static_cast<int>(done.result["steered"]["ids"].size()), 30);
    QCOMPARE(static_cast<int>(ws->results("steer").size()), 1);
  }

  void cliSteerAndAblateSpeakJson() {
    const std::string ws = kOut + "/steer.saescope";
    const QStringList steer = {"steer", "--model", cli_runner::q(tiny_model_), "--sae", cli_runner::q(tiny_sae_),
                               "--feature", "3", "--add", "4", "--prompt", "The bank of the river",
                               "--tokens", "6", "--workspace", cli_runner::q(ws), "--json"};
    const cli_runner::Cli r = cli_runner::run_cli(steer, 120000);
    QVERIFY2(r.code == 0, r.err.c_str());
    const json j = json::parse(r.out);
    QCOMPARE(j["baseline"]["ids"].size(), size_t(6));
    QCOMPARE(j["steered"]["ids"].size(), size_t(6));
    QVERIFY(j["baseline"]["text"].is_string());
    QCOMPARE(j["next_token"]["promoted"].size(), size_t(10));
    QVERIFY(j["next_token"]["kl"].get<double>() > 0);
    QCOMPARE(j["reused"].get<bool>(), false);
    // The baseline is plain greedy generation of the BOS-prefixed prompt.
    const auto model = load_language_model(tiny_model_);
    GenerationRequest g;
    g.prompt = j["prompt"]["ids"].get<std::vector<int64_t>>();
    QCOMPARE(g.prompt.front(), int64_t(50256));
    g.max_new_tokens = 6;
    QCOMPARE(generate(*model, g).ids, j["baseline"]["ids"].get<std::vector<int64_t>>());
    // Asked again: from the workspace, the same answer.
    const cli_runner::Cli again = cli_runner::run_cli(steer, 120000);
    QVERIFY2(again.code == 0, again.err.c_str());
    json k = json::parse(again.out);
    QCOMPARE(k["reused"].get<bool>(), true);
    k["reused"] = false;
    QCOMPARE(QString::fromStdString(k.dump()), QString::fromStdString(j.dump()));
    // --add 0: the same continuation.
    QStringList zero = steer;
    zero[zero.indexOf("4")] = "0";
    zero.removeAll("--workspace");
    zero.removeAll(cli_runner::q(ws));
    const json z = json::parse(cli_runner::run_cli(zero, 120000).out);
    QCOMPARE(z["steered"]["ids"], z["baseline"]["ids"]);
    QCOMPARE(z["next_token"]["kl"].get<double>(), 0.0);

    const cli_runner::Cli a = cli_runner::run_cli({"ablate", "--model", cli_runner::q(tiny_model_), "--sae",
                                                   cli_runner::q(tiny_sae_), "--feature", "3", "--text",
                                                   "The bank of the river", "--json"},
                                                  120000);
    QVERIFY2(a.code == 0, a.err.c_str());
    const json aj = json::parse(a.out);
    QCOMPARE(aj["tokens"].size(), aj["ids"].size() - 1);
    QVERIFY(aj["tokens"][0].contains("log_prob_with") && aj["tokens"][0].contains("log_prob_without"));

    // Refused by name, exit 2.
    QStringList bad = zero;
    bad[bad.indexOf("3")] = "999";
    const cli_runner::Cli b = cli_runner::run_cli(bad, 120000);
    QCOMPARE(b.code, 2);
    QVERIFY2(b.err.find("feature 999 is outside") != std::string::npos, b.err.c_str());
    QStringList two = zero;
    two << "--ablate";
    QCOMPARE(cli_runner::run_cli(two, 120000).code, 2);
  }
};

QTEST_GUILESS_MAIN(TestSteering)
#include "test_steering.moc"
