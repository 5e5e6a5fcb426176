// SAE evaluation: CE losses against direct computations from the logits
// (clean, SAE spliced in, zero-ablated; BOS excluded or included), an
// identity SAE recovering everything and a zero SAE nothing, explained
// variance / MSE / L0 / dead and dense fractions by hand on a cache,
// center_writing_weights taken from the SAE, workspace reuse and
// invalidation, and the CLI's JSON.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <QProcess>
#include <QtTest>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "core/corpus/corpus_windows.h"
#include "core/corpus/window_source.h"
#include "core/common/error.h"
#include "core/io/safetensors.h"
#include "core/common/progress.h"
#include "core/model/gpt2/gpt2.h"
#include "core/sae/activation_cache_writer.h"
#include "core/sae/sae.h"
#include "core/sae/sae_evaluation.h"
#include "core/workflows/sae_evaluation_request.h"
#include "core/sae/sae_folder.h"
#include "core/store/workspace.h"
#include "core/tokenizer/bpe_tokenizer.h"
#include "tests/cli_runner.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace saescope;
using namespace saescope::sae;

namespace {

const std::string kOut = std::string(SAESCOPE_TEST_OUTPUT_DIR) + "/sae_eval";
const std::string kTokenizer = std::string(SAESCOPE_SHARED_DIR) + "/data/gpt2-tokenizer";
const std::string kHook = "blocks.1.hook_resid_pre";
constexpr int64_t kD = 32;

model::Gpt2Config tiny_config() {
  model::Gpt2Config c;
  c.n_layer = 2, c.d_model = kD, c.n_head = 4, c.d_head = 8, c.d_mlp = 64, c.n_positions = 64;
  c.vocab_size = 50257, c.bos_token_id = c.eos_token_id = 50256;
  return c;
}

// Random GPT-2 weights scaled up so that ablating a hook moves the loss clearly.
model::Gpt2Weights tiny_weights() {
  model::Gpt2Weights w = model::random_gpt2_weights(tiny_config(), 21);
  w.token_embed.mul_(20);
  w.pos_embed.mul_(5);
  for (auto& b : w.blocks) {
    b.qkv_weight.mul_(10);
    b.mlp_in_weight.mul_(10);
  }
  w.unembed = w.token_embed;
  return w;
}

std::string write_model(const std::string& dir) {
  fs::create_directories(dir);
  const model::Gpt2Config c = tiny_config();
  io::write_safetensors(dir + "/model.safetensors", model::hf_named_tensors(tiny_weights()));
  std::ofstream(dir + "/config.json")
      << json({{"model_type", "gpt2"}, {"n_embd", c.d_model}, {"n_layer", c.n_layer}, {"n_head", c.n_head},
               {"n_positions", c.n_positions}, {"vocab_size", c.vocab_size}, {"n_inner", c.d_mlp},
               {"bos_token_id", 50256}, {"eos_token_id", 50256}})
             .dump();
  for (const char* f : {"vocab.json", "merges.txt"})
    fs::copy_file(kTokenizer + "/" + f, dir + "/" + f, fs::copy_options::overwrite_existing);
  return dir;
}

std::string write_corpus(const std::string& path, int paragraphs, uint32_t seed) {
  const std::vector<std::string> words = {"the", "river", "bank", "money", "spring", "water", "flows",
                                          "loan", "of", "a", "in", "and", "morning", "quiet", "rates"};
  std::mt19937 rng(seed);
  std::ofstream out(path);
  for (int p = 0; p < paragraphs; ++p) {
    const int n = 5 + static_cast<int>(rng() % 20);
    for (int i = 0; i < n; ++i) out << (i ? " " : "") << words[rng() % words.size()];
    out << ".\n\n";
  }
  return path;
}

SaeConfig sae_config(int64_t d_in, int64_t d_sae, int cww /* 0 false, 1 true, -1 assumed */) {
  SaeConfig cfg;
  cfg.architecture = Architecture::Standard;
  cfg.d_in = d_in;
  cfg.d_sae = d_sae;
  cfg.apply_b_dec_to_input = false;
  cfg.meta.model_name = "tiny-gpt2";
  cfg.meta.hook_name = kHook;
  cfg.center_writing_weights = cww != 0;
  cfg.center_writing_weights_source = cww < 0 ? "assumed (TransformerLens default)" : "model_from_pretrained_kwargs";
  return cfg;
}

// f = ReLU([x, −x]) and x̂ = scale·(f₊ − f₋): scale 1 is the identity, 0 the zero map.
Sae signed_copy_sae(int64_t d_in, float scale, int cww = 0, const std::string& source = "mem") {
  const at::Tensor eye = at::eye(d_in);
  SaeWeights w;
  w.W_enc = at::cat({eye, -eye}, 1);
  w.W_dec = at::cat({eye, -eye}, 0) * scale;
  w.b_enc = at::zeros({2 * d_in});
  w.b_dec = at::zeros({d_in});
  return Sae(sae_config(d_in, 2 * d_in, cww), w, source);
}

Sae random_sae(uint64_t seed, int cww = 0) {
  at::manual_seed(seed);
  SaeWeights w;
  w.W_enc = at::randn({kD, 96}) * 0.5;
  w.W_dec = at::randn({96, kD}) * 0.3;
  w.b_enc = at::full({96}, -0.5f);
  w.b_dec = at::randn({kD}) * 0.1;
  return Sae(sae_config(kD, 96, cww), w, "random");
}

std::string save(const Sae& s, const std::string& dir) {
  save_sae(s, dir);
  return dir;
}

// Windows of random tokens behind BOS; the last one shorter.
analysis::VectorWindowSource random_windows() {
  std::mt19937 rng(3);
  std::vector<std::vector<int32_t>> w;
  for (int i = 0; i < 7; ++i) {
    std::vector<int32_t> t = {50256};
    const int len = i == 6 ? 9 : 16;
    while (static_cast<int>(t.size()) < len) t.push_back(static_cast<int32_t>(rng() % 50256));
    w.push_back(t);
  }
  return analysis::VectorWindowSource(w);
}

// Mean −log p(next token), each window run alone, over the predictions made
// at positions >= first, with `replace` applied to positions >= first.
struct Direct {
  double ce = 0;
  int64_t predictions = 0, rows = 0;
};
Direct direct_ce(const model::Gpt2& m, analysis::WindowSource& windows, int64_t first,
                 const std::function<at::Tensor(const at::Tensor&)>& replace) {
  c10::InferenceMode guard;
  windows.seek(0);
  Direct d;
  double sum = 0;
  for (const auto& w : windows.next(1000)) {
    const std::vector<int64_t> ids(w.tokens.begin(), w.tokens.end());
    model::RunRequest req{{"logits"}, {}};
    if (replace)
      req.replace.push_back({kHook, [&](const at::Tensor& v, const model::HookPoint&) {
                               at::Tensor out = v.clone();
                               out[0].slice(0, first).copy_(replace(v[0].slice(0, first)));
                               return out;
                             }});
    const at::Tensor lp = at::log_softmax(m.run(model::make_token_batch({ids}, m.info(), false), req)
                                              .hooks.at("logits")[0].to(at::kDouble), -1);
    const auto L = static_cast<int64_t>(ids.size());
    for (int64_t p = first; p + 1 < L; ++p) {
      sum -= lp[p][ids[static_cast<size_t>(p + 1)]].item<double>();
      ++d.predictions;
    }
    d.rows += L - first;
  }
  d.ce = sum / static_cast<double>(d.predictions);
  return d;
}

bool close(double a, double b, double rel = 1e-5) { return std::fabs(a - b) <= rel * std::max(1.0, std::fabs(b)); }

using cli_runner::Cli;
using cli_runner::q;
using cli_runner::run_cli;

}  // namespace

class TestSaeEval : public QObject {
  Q_OBJECT

  std::string model_dir_, corpus_;
  std::shared_ptr<const model::Gpt2> raw_;

  SaeEvalRequest request(const std::string& sae_dir) const {
    SaeEvalRequest r;
    r.model_dir = model_dir_;
    r.sae_dir = sae_dir;
    r.corpus = corpus_;
    r.context = 16;
    r.options.batch_windows = 4;
    return r;
  }

 private slots:
  void initTestCase() {
    fs::remove_all(kOut);
    fs::create_directories(kOut);
    model_dir_ = write_model(kOut + "/model");
    corpus_ = write_corpus(kOut + "/corpus.txt", 12, 5);
    raw_ = std::make_shared<const model::Gpt2>(tiny_config(), tiny_weights());
  }

  // ---- CE losses -----------------------------------------------------------
  void ceLossesEqualDirectComputations_data() {
    QTest::addColumn<bool>("bos");
    QTest::newRow("BOS excluded") << false;
    QTest::newRow("BOS included") << true;
  }
  void ceLossesEqualDirectComputations() {
    QFETCH(bool, bos);
    const int64_t first = bos ? 0 : 1;
    const Sae sae = random_sae(5);
    auto windows = random_windows();
    SaeEvalOptions o;
    o.batch_windows = 3;  // padded batches, the short window among them
    o.include_bos = bos;
    const SaeEvaluation e = evaluate_sae_on_windows(*raw_, sae, windows, o);
    QVERIFY(e.has_ce);
    QCOMPARE(e.windows, int64_t(7));

    const Direct clean = direct_ce(*raw_, windows, first, {});
    const Direct zero = direct_ce(*raw_, windows, first, [](const at::Tensor& x) { return at::zeros_like(x); });
    const Direct spliced = direct_ce(*raw_, windows, first, [&](const at::Tensor& x) {
      return sae.forward(x).reconstruction;
    });
    QCOMPARE(e.ce.tokens, clean.predictions);
    QCOMPARE(e.ce.tokens, bos ? int64_t(6 * 15 + 8) : int64_t(6 * 14 + 7));
    QCOMPARE(e.reconstruction.tokens, clean.rows);
    QVERIFY2(close(e.ce.clean, clean.ce), (std::to_string(e.ce.clean) + " vs " + std::to_string(clean.ce)).c_str());
    QVERIFY2(close(e.ce.zero, zero.ce), (std::to_string(e.ce.zero) + " vs " + std::to_string(zero.ce)).c_str());
    QVERIFY2(close(e.ce.sae, spliced.ce), (std::to_string(e.ce.sae) + " vs " + std::to_string(spliced.ce)).c_str());
    QVERIFY2(std::fabs(e.ce.zero - e.ce.clean) > 0.05, (std::to_string(e.ce.zero) + " vs " + std::to_string(e.ce.clean)).c_str());  // the ablation matters
    const double recovered = (zero.ce - spliced.ce) / (zero.ce - clean.ce);
    QVERIFY(close(ce_loss_recovered(e.ce), recovered, 1e-4));

    // The CeLossEvaluator interface gives the same numbers, run after run.
    windows.seek(0);
    WindowCeLossEvaluator ev(*raw_, windows, o);
    const CeLosses a = ev.evaluate(sae), b = ev.evaluate(sae);
    QCOMPARE(a.tokens, e.ce.tokens);
    QVERIFY(close(a.sae, e.ce.sae, 1e-9) && close(b.zero, e.ce.zero, 1e-9));
  }

  void identitySaeRecoversEverything() {
    auto windows = random_windows();
    const SaeEvaluation e = evaluate_sae_on_windows(*raw_, signed_copy_sae(kD, 1.0f), windows, {});
    QVERIFY(e.reconstruction.mse < 1e-12);
    QVERIFY(std::fabs(e.reconstruction.explained_variance - 1.0) < 1e-9);
    QVERIFY(close(e.ce.sae, e.ce.clean, 1e-12));
    QVERIFY(std::fabs(e.ce.zero - e.ce.clean) > 0.05);
    QVERIFY(std::fabs(ce_loss_recovered(e.ce) - 1.0) < 1e-9);
    const json j = evaluation_json(e);
    QVERIFY(std::fabs(j["ce_loss_recovered"].get<double>() - 1.0) < 1e-9);
    QCOMPARE(j["mse"].get<double>(), e.reconstruction.mse);
  }

  void zeroSaeRecoversNothing() {
    auto windows = random_windows();
    const SaeEvaluation e = evaluate_sae_on_windows(*raw_, signed_copy_sae(kD, 0.0f), windows, {});
    QVERIFY(close(e.ce.sae, e.ce.zero, 1e-12));
    QVERIFY(std::fabs(e.ce.zero - e.ce.clean) > 0.05);
    QVERIFY(std::fabs(ce_loss_recovered(e.ce)) < 1e-9);
    QVERIFY(e.reconstruction.explained_variance < 0);  // x̂ = 0 is worse than the mean
  }

  void withoutCeOnlyActivationMetrics() {
    auto windows = random_windows();
    const Sae sae = random_sae(6);
    SaeEvalOptions o;
    const SaeEvaluation full = evaluate_sae_on_windows(*raw_, sae, windows, o);
    windows.seek(0);
    o.ce_loss = false;
    const SaeEvaluation part = evaluate_sae_on_windows(*raw_, sae, windows, o);
    QVERIFY(!part.has_ce);
    QCOMPARE(part.reconstruction.tokens, full.reconstruction.tokens);
    QVERIFY(close(part.reconstruction.mse, full.reconstruction.mse, 1e-9));
    QVERIFY(close(part.reconstruction.l0, full.reconstruction.l0, 1e-9));
    const json j = evaluation_json(part);
    QVERIFY(j["ce_loss_recovered"].is_null() && j["ce_loss_clean"].is_null());
  }

  void wrongWidthOrHookIsRefused() {
    auto windows = random_windows();
    QVERIFY_THROWS_EXCEPTION(InputError, evaluate_sae_on_windows(*raw_, signed_copy_sae(16, 1.0f), windows, {}));
    Sae s = signed_copy_sae(kD, 1.0f);
    s.mutable_config().meta.hook_name = "blocks.7.hook_resid_pre";
    QVERIFY_THROWS_EXCEPTION(InputError, evaluate_sae_on_windows(*raw_, s, windows, {}));
  }

  // ---- activation metrics by hand -------------------------------------------
  void metricsByHandOnACache() {
    // Rows (1,0), (0,1), (2,3); an SAE with x̂ = x/2 and features [x₊, x₋].
    const std::string cache = kOut + "/hand.cache";
    fs::remove(cache);
    ActivationCacheHeader h;
    h.hook = kHook;
    h.d_in = 2;
    h.context = 4;
    h.windows = 1;
    h.tokens = 3;
    {
      ActivationCacheWriter w(cache, h);
      w.append(at::tensor({1.0f, 0.0f, 0.0f, 1.0f, 2.0f, 3.0f}).view({3, 2}), 1);
      w.commit();
    }
    const std::string dir = save(signed_copy_sae(2, 0.5f), kOut + "/half_sae");
    const SaeEvalOutcome out = run_sae_eval_on_cache(dir, cache, 1.0, 0, {});
    const json& m = out.metrics;
    // Σ‖x − x̂‖² = (1 + 1 + 13)/4 = 3.75 over 3 tokens; mean x = (1, 4/3),
    // Σ‖x − mean‖² = 16/9 + 10/9 + 34/9 = 60/9; EV = 1 − 3.75·9/60 = 0.4375.
    QVERIFY(close(m["mse"].get<double>(), 1.25, 1e-12));
    QVERIFY(close(m["explained_variance"].get<double>(), 0.4375, 1e-12));
    QVERIFY(close(m["l0"].get<double>(), 4.0 / 3.0, 1e-12));
    QCOMPARE(m["dead_fraction"].get<double>(), 0.5);   // the x₋ features never fire
    QCOMPARE(m["dense_fraction"].get<double>(), 0.5);  // the x₊ ones fire on 2 of 3 tokens
    QCOMPARE(m["tokens"].get<int64_t>(), int64_t(3));
    QVERIFY(m["ce_loss_recovered"].is_null());
    QVERIFY(m["explained_variance_formula"].get<std::string>().find("mean(x)") != std::string::npos);
    QCOMPARE(m["bos_included"].get<bool>(), false);
  }

  void cacheEvaluationChecksHookAndCentring() {
    const std::string cache = kOut + "/hook.cache";
    fs::remove(cache);
    ActivationCacheHeader h;
    h.hook = "blocks.0.hook_resid_pre";
    h.d_in = kD;
    h.context = 3;
    h.windows = 1;
    h.tokens = 2;
    {
      ActivationCacheWriter w(cache, h);
      w.append(at::randn({2, kD}), 1);
      w.commit();
    }
    const std::string dir = save(signed_copy_sae(kD, 1.0f), kOut + "/identity_sae");
    QVERIFY_THROWS_EXCEPTION(InputError, run_sae_eval_on_cache(dir, cache, 1.0, 0, {}));
    Sae centred = signed_copy_sae(kD, 1.0f, 1);
    centred.mutable_config().meta.hook_name = h.hook;
    const std::string cdir = save(centred, kOut + "/centred_sae");
    try {
      run_sae_eval_on_cache(cdir, cache, 1.0, 0, {});
      QFAIL("evaluated a centred SAE on raw activations");
    } catch (const InputError& e) {
      QVERIFY2(std::string(e.what()).find("center_writing_weights") != std::string::npos, e.what());
    }
  }

  // ---- requests ---------------------------------------------------------------
  void modelLoadFollowsTheSaesCentring() {
    const std::string raw_dir = save(signed_copy_sae(kD, 1.0f, 0), kOut + "/sae_raw");
    const std::string assumed_dir = save(signed_copy_sae(kD, 1.0f, -1), kOut + "/sae_assumed");
    jobs::ProgressSink sink;
    const SaeEvalOutcome raw = run_sae_eval(request(raw_dir), nullptr, sink);
    const SaeEvalOutcome assumed = run_sae_eval(request(assumed_dir), nullptr, sink);
    QVERIFY(raw.warnings.empty());
    QCOMPARE(assumed.warnings.size(), size_t(1));
    QVERIFY2(assumed.warnings[0].find("assumed") != std::string::npos, assumed.warnings[0].c_str());
    QCOMPARE(assumed.metrics["center_writing_weights"].get<bool>(), true);
    QCOMPARE(raw.metrics["center_writing_weights"].get<bool>(), false);
    // The identity SAE's L1 is the mean Σ|x| of the activations it saw.
    const auto tok = tokenizer::load_tokenizer(model_dir_);
    for (const bool centre : {false, true}) {
      model::ModelOptions mo;
      mo.center_writing_weights = centre;
      const auto m = model::Gpt2::load(model_dir_, mo);
      analysis::CorpusOptions co;
      co.context = 16;
      analysis::CorpusWindows windows(corpus_, tok, co);
      c10::InferenceMode guard;
      double sum = 0;
      int64_t n = 0;
      for (const auto& w : windows.next(1000)) {
        const std::vector<int64_t> ids(w.tokens.begin(), w.tokens.end());
        const at::Tensor x = m->run(model::make_token_batch({ids}, m->info(), false), {{kHook}, {}})
                                 .hooks.at(kHook)[0].slice(0, 1);
        sum += x.abs().sum().item<double>();
        n += x.size(0);
      }
      const json& got = centre ? assumed.metrics : raw.metrics;
      QVERIFY2(close(got["l1"].get<double>(), sum / static_cast<double>(n), 1e-5),
               (got["l1"].dump() + " vs " + std::to_string(sum / static_cast<double>(n))).c_str());
    }
  }

  void workspaceReusesAndInvalidates() {
    const std::string ws_path = kOut + "/reuse.saescope";
    fs::remove(ws_path);
    auto ws = store::Workspace::open(ws_path);
    const std::string dir = save(random_sae(8), kOut + "/sae_reuse");
    int reports = 0;
    jobs::ProgressSink sink([&](const jobs::Progress&, double, double) { ++reports; });
    const SaeEvalOutcome first = run_sae_eval(request(dir), ws.get(), sink);
    QVERIFY(!first.reused);
    QVERIFY(reports > 0);
    const auto stored = ws->result(first.result_id);
    QVERIFY(stored && stored->done);
    QCOMPARE(stored->kind, std::string("reconstruction"));
    QVERIFY(stored->metrics == first.metrics);
    QVERIFY(ws->input(*stored->model_id)->kind == store::InputKind::Model);
    QVERIFY(ws->input(*stored->sae_id)->kind == store::InputKind::Sae);
    QVERIFY(ws->input(*stored->data_id)->kind == store::InputKind::Corpus);
    const std::string key = store::Workspace::result_key(
        "reconstruction",
        {ws->content_hash(model_dir_), ws->content_hash(dir), ws->content_hash(corpus_)},
        sae_eval_params(request(dir), kHook, false, ""));
    QCOMPARE(first.key, key);

    reports = 0;
    const SaeEvalOutcome again = run_sae_eval(request(dir), ws.get(), sink);
    QVERIFY(again.reused);
    QCOMPARE(reports, 0);  // nothing ran
    QCOMPARE(again.result_id, first.result_id);
    QVERIFY(again.metrics == first.metrics);

    SaeEvalRequest fewer = request(dir);
    fewer.max_tokens = 40;
    const SaeEvalOutcome limited = run_sae_eval(fewer, ws.get(), sink);
    QVERIFY(!limited.reused);
    QVERIFY(limited.metrics["tokens"].get<int64_t>() < first.metrics["tokens"].get<int64_t>());

    save(random_sae(9), dir);  // the same folder, other weights
    const SaeEvalOutcome changed = run_sae_eval(request(dir), ws.get(), sink);
    QVERIFY(!changed.reused);
    QVERIFY(changed.result_id != first.result_id);
    QVERIFY(changed.metrics["mse"] != first.metrics["mse"]);
    QCOMPARE(ws->results("reconstruction").size(), size_t(3));
  }

  // Several SAEs in one pass over the corpus (shared clean and zero-ablated
  // passes, one model load) give each exactly what it gets alone, stored
  // under the key run_sae_eval uses, so either path reuses the other's result.
  void severalSaesEqualOneAtATime() {
    const std::string ws_path = kOut + "/several.saescope";
    fs::remove(ws_path);
    const std::string a = save(random_sae(21), kOut + "/sae_several_a");
    const std::string b = save(random_sae(22), kOut + "/sae_several_b");  // same hook as a
    Sae other = random_sae(23);
    SaeConfig cfg = other.config();
    cfg.meta.hook_name = "blocks.0.hook_resid_pre";
    const std::string c = save(Sae(cfg, other.weights(), "other hook"), kOut + "/sae_several_c");
    jobs::ProgressSink sink;
    std::vector<SaeEvalOutcome> alone;
    for (const std::string& dir : {a, b, c}) alone.push_back(run_sae_eval(request(dir), nullptr, sink));

    auto ws = store::Workspace::open(ws_path);
    const std::vector<SaeEvalOutcome> together = run_sae_evals({request(a), request(b), request(c)}, ws.get(), sink);
    QCOMPARE(together.size(), size_t(3));
    for (std::size_t i = 0; i < 3; ++i) {
      QVERIFY(!together[i].reused);
      QVERIFY2(together[i].metrics == alone[i].metrics,
               (together[i].metrics.dump() + "\nvs\n" + alone[i].metrics.dump()).c_str());
    }
    QVERIFY(together[0].metrics["ce_loss_zero"] == together[1].metrics["ce_loss_zero"]);
    QVERIFY(together[0].metrics["ce_loss_zero"] != together[2].metrics["ce_loss_zero"]);  // another hook
    QVERIFY(together[0].metrics["mse"] != together[1].metrics["mse"]);
    const SaeEvalOutcome again = run_sae_eval(request(b), ws.get(), sink);
    QVERIFY(again.reused);
    QCOMPARE(again.result_id, together[1].result_id);
  }

  void cliPrintsTheMetricsJson() {
    const std::string dir = save(random_sae(10), kOut + "/sae_cli");
    const std::string ws = kOut + "/cli.saescope";
    fs::remove(ws);
    const QStringList args = {"sae-eval", "--model", q(model_dir_), "--sae", q(dir), "--corpus", q(corpus_),
                              "--context", "16", "--tokens", "120", "--workspace", q(ws), "--json"};
    const Cli r = run_cli(args);
    QVERIFY2(r.code == 0, r.err.c_str());
    const json j = json::parse(r.out);
    for (const char* k : {"mse", "l0", "explained_variance", "ce_loss_clean", "ce_loss_sae", "ce_loss_zero",
                          "ce_loss_recovered", "dead_fraction", "dense_fraction"})
      QVERIFY2(j.contains(k) && j[k].is_number_float(), k);
    QVERIFY(j["tokens"].is_number_integer());
    QCOMPARE(j["tokens"].get<int64_t>(), int64_t(120 - 8));  // 8 windows, BOS left out
    QVERIFY(j["explained_variance_formula"].is_string());
    QVERIFY(j["positions"].get<std::string>().find("BOS") != std::string::npos);
    QCOMPARE(j["bos_included"].get<bool>(), false);
    QCOMPARE(j["reused"].get<bool>(), false);
    const Cli again = run_cli(args);
    QVERIFY2(again.code == 0, again.err.c_str());
    const json j2 = json::parse(again.out);
    QCOMPARE(j2["reused"].get<bool>(), true);
    QVERIFY(j2["mse"] == j["mse"]);
    QVERIFY(j2["result_id"] == j["result_id"]);
    // The SAE in cfg.json says nothing about centring: the CLI says what it assumed.
    const std::string assumed_dir = save(signed_copy_sae(kD, 1.0f, -1), kOut + "/sae_cli_assumed");
    const Cli warned = run_cli({"sae-eval", "--model", q(model_dir_), "--sae", q(assumed_dir), "--corpus",
                                q(corpus_), "--context", "16", "--tokens", "40", "--no-ce", "--json"});
    QVERIFY2(warned.code == 0, warned.err.c_str());
    QVERIFY2(warned.err.find("assumed") != std::string::npos, warned.err.c_str());
    QVERIFY(json::parse(warned.out)["ce_loss_recovered"].is_null());

    const Cli missing = run_cli({"sae-eval", "--model", q(model_dir_), "--sae", q(kOut + "/nope"), "--corpus",
                                 q(corpus_), "--json"});
    QCOMPARE(missing.code, 2);
    const Cli neither = run_cli({"sae-eval", "--sae", q(dir), "--json"});
    QCOMPARE(neither.code, 2);
  }
};

QTEST_GUILESS_MAIN(TestSaeEval)
#include "test_sae_eval.moc"
