// Feature harvest: corpus windows, every harvested number against a dense
// brute-force computation, spill vs model recompute, resume after a killed
// CLI process, cancellation, stale results, prompt features and CLI JSON.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <QProcess>
#include <QThread>
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "core/corpus/corpus_windows.h"
#include "core/analysis/feature_harvest.h"
#include "core/analysis/feature_stats.h"
#include "core/analysis/logit_effects.h"
#include "core/workflows/harvest_request.h"
#include "core/analysis/prompt_features.h"
#include "core/common/error.h"
#include "core/common/sha256.h"
#include "core/io/safetensors.h"
#include "core/common/progress.h"
#include "core/model/gpt2/gpt2.h"
#include "core/sae/sae_folder.h"
#include "core/store/feature_store.h"
#include "core/store/workspace.h"
#include "core/tokenizer/bpe_tokenizer.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace saescope;
using namespace saescope::analysis;

namespace {

const std::string kOut = std::string(SAESCOPE_TEST_OUTPUT_DIR) + "/analysis";
const std::string kFixtures = std::string(SAESCOPE_FIXTURES_DIR) + "/analysis";
const std::string kTokenizer = std::string(SAESCOPE_SHARED_DIR) + "/data/gpt2-tokenizer";
constexpr int64_t kContext = 32;
constexpr int64_t kBatch = 4;
constexpr int64_t kTopK = 5;

model::Gpt2Config tiny_config() {
  model::Gpt2Config c;
  c.n_layer = 2, c.d_model = 32, c.n_head = 4, c.d_head = 8, c.d_mlp = 64, c.n_positions = 64;
  c.vocab_size = 50257, c.bos_token_id = c.eos_token_id = 50256;
  return c;
}

// A tiny GPT-2 with GPT-2's vocabulary, and the real tokenizer beside it.
std::string write_model(const std::string& dir) {
  fs::create_directories(dir);
  const model::Gpt2Config c = tiny_config();
  io::write_safetensors(dir + "/model.safetensors", model::hf_named_tensors(model::random_gpt2_weights(c, 11)));
  std::ofstream(dir + "/config.json")
      << json({{"model_type", "gpt2"}, {"n_embd", c.d_model}, {"n_layer", c.n_layer}, {"n_head", c.n_head},
               {"n_positions", c.n_positions}, {"vocab_size", c.vocab_size}, {"n_inner", c.d_mlp},
               {"bos_token_id", 50256}, {"eos_token_id", 50256}})
             .dump();
  for (const char* f : {"vocab.json", "merges.txt"})
    fs::copy_file(kTokenizer + "/" + f, dir + "/" + f, fs::copy_options::overwrite_existing);
  return dir;
}

// A standard SAE at `hook`; features from `dead_from` on never fire.
std::string write_sae(const std::string& dir, const std::string& hook, int64_t d_sae, uint64_t seed,
                      int64_t dead_from, float enc_scale = 8.0f) {
  sae::SaeConfig cfg;
  cfg.architecture = sae::Architecture::Standard;
  cfg.d_in = 32;
  cfg.d_sae = d_sae;
  cfg.meta.model_name = "tiny-gpt2";
  cfg.meta.hook_name = hook;
  cfg.center_writing_weights = true;
  cfg.meta.model_from_pretrained_kwargs = {{"center_writing_weights", true}};
  at::manual_seed(seed);
  sae::SaeWeights w;
  w.W_enc = at::randn({32, d_sae}) * enc_scale;
  w.W_dec = at::randn({d_sae, 32}) * 0.2;
  w.b_dec = at::randn({32}) * 0.01;
  w.b_enc = at::full({d_sae}, -0.3f);
  w.b_enc.narrow(0, dead_from, d_sae - dead_from).fill_(-1000.0f);
  sae::save_sae(sae::Sae(cfg, w, dir), dir);
  return dir;
}

// Paragraphs of random words: no two windows alike (no ties in the top-k).
std::string write_corpus(const std::string& path, int paragraphs, uint32_t seed) {
  const std::vector<std::string> words = {
      "the", "river", "bank", "money", "spring", "water", "flows", "loan", "of", "a", "in", "and",
      "morning", "quiet", "rates", "interest", "fish", "boat", "stone", "bridge", "city", "market",
      "green", "cold", "light", "house", "road", "music", "paper", "history", "number", "seven",
      "Paris", "London", "walked", "said", "because", "never", "always", "under", "over", "with"};
  std::mt19937 rng(seed);
  std::ofstream out(path);
  for (int p = 0; p < paragraphs; ++p) {
    const int n = 8 + static_cast<int>(rng() % 30);
    for (int i = 0; i < n; ++i) out << (i ? " " : "") << words[rng() % words.size()] << ((rng() % 9) == 0 ? "," : "");
    out << ".\n\n";
  }
  return path;
}

// ---- brute force -------------------------------------------------------------

struct Dense {
  at::Tensor acts;               // [tokens, d_sae]: every counted token's features
  std::vector<int64_t> window;   // per row
  std::vector<int64_t> pos;      // per row
  int64_t windows = 0;
};

// The same windows and batches as the harvest, everything kept in memory.
Dense brute_force(const model::Gpt2& m, const sae::Sae& s, const std::string& corpus,
                  const tokenizer::BpeTokenizer& tok) {
  c10::InferenceMode guard;
  CorpusOptions o;
  o.context = kContext;
  CorpusWindows src(corpus, tok, o);
  Dense d;
  std::vector<at::Tensor> rows;
  while (true) {
    const auto batch = src.next(kBatch);
    if (batch.empty()) break;
    std::vector<std::vector<int64_t>> seqs;
    for (const auto& w : batch) seqs.emplace_back(w.tokens.begin(), w.tokens.end());
    const auto tb = model::make_token_batch(seqs, m.info(), false);
    const std::string hook = s.config().meta.hook_name;
    const at::Tensor v = m.run(tb, {{hook}, {}}).hooks.at(hook);
    const at::Tensor f = s.encode(v.reshape({-1, v.size(-1)})).view({v.size(0), v.size(1), -1});
    for (size_t b = 0; b < batch.size(); ++b)
      for (size_t t = 1; t < batch[b].tokens.size(); ++t) {
        rows.push_back(f[static_cast<int64_t>(b)][static_cast<int64_t>(t)].clone());
        d.window.push_back(batch[b].index);
        d.pos.push_back(static_cast<int64_t>(t));
      }
    d.windows = batch.back().index + 1;
  }
  d.acts = at::stack(rows).contiguous();
  return d;
}

bool near(double a, double b, double tol = 1e-5) { return std::abs(a - b) <= tol * std::max(1.0, std::abs(b)); }

// Every row of harvest `r` against the brute-force numbers; "" when equal.
std::string check_against_brute(store::Workspace& ws, int64_t r, const Dense& d, const sae::Sae& s,
                                const model::Gpt2& m) {
  store::FeatureStore st(ws.db());
  const int64_t N = d.acts.size(0), D = d.acts.size(1);
  const float* A = d.acts.data_ptr<float>();
  const auto W = m.weights();
  const at::Tensor logits = at::matmul(s.weights().W_dec * W.ln_final_gain, W.unembed.t());
  int dead = 0;
  for (int64_t f = 0; f < D; ++f) {
    const std::string at_f = "feature " + std::to_string(f) + ": ";
    const auto page = st.page(r, f, std::nullopt);
    if (!page) return at_f + "no page";
    int64_t fire = 0;
    double sum = 0;
    float mx = 0;
    std::map<int64_t, std::pair<float, int64_t>> best;  // window -> (max, pos)
    for (int64_t n = 0; n < N; ++n) {
      const float a = A[n * D + f];
      if (a > 0) ++fire, sum += a, mx = std::max(mx, a);
      auto& b = best[d.window[n]];
      if (a > b.first) b = {a, d.pos[n]};
    }
    const auto& sm = page->summary;
    if (sm.fire_count != fire) return at_f + "fire count " + std::to_string(sm.fire_count) + " != " + std::to_string(fire);
    if (!near(sm.density, double(fire) / double(N))) return at_f + "density";
    if (!near(sm.max_act, mx)) return at_f + "max";
    if (!near(sm.mean_act, fire ? sum / fire : 0.0, 1e-4)) return at_f + "mean";
    if (fire == 0) {
      ++dead;
      if (!page->top.empty() || !page->interval_samples.empty() || !page->histogram.counts.empty() ||
          !page->intervals.empty())
        return at_f + "dead feature with examples";
      continue;
    }
    // Top-k windows by their best activation.
    std::vector<std::tuple<float, int64_t, int64_t>> wins;
    for (const auto& [w, b] : best)
      if (b.first > 0) wins.emplace_back(b.first, w, b.second);
    std::sort(wins.begin(), wins.end(), [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
    wins.resize(std::min<size_t>(wins.size(), kTopK));
    if (page->top.size() != wins.size()) return at_f + "top count";
    std::set<int64_t> seen;
    for (size_t i = 0; i < wins.size(); ++i) {
      const auto& e = page->top[i];
      // Equal activations (windows sharing their first tokens) may come in either order.
      const auto b = best.find(e.window);
      if (e.rank != int(i) || b == best.end() || !seen.insert(e.window).second ||
          !near(b->second.first, std::get<0>(wins[i])) || e.max_pos != b->second.second ||
          !near(e.activations.at(static_cast<size_t>(e.max_pos)), std::get<0>(wins[i])))
        return at_f + "top example " + std::to_string(i) + ": window " + std::to_string(e.window) + " pos " +
               std::to_string(e.max_pos) + ", expected window " + std::to_string(std::get<1>(wins[i])) +
               " pos " + std::to_string(std::get<2>(wins[i])) + " act " + std::to_string(std::get<0>(wins[i]));
      for (int64_t n = 0; n < N; ++n)  // every token of the window
        if (d.window[n] == e.window && !near(e.activations.at(static_cast<size_t>(d.pos[n])), std::max(0.0f, A[n * D + f])))
          return at_f + "top example activations";
    }
    // Histogram and intervals.
    const auto edges = histogram_edges(mx, 50, 3);
    std::vector<int64_t> hist(50, 0), icount(10, 0);
    std::vector<std::vector<std::pair<uint64_t, int64_t>>> members(10);
    for (int64_t n = 0; n < N; ++n) {
      const float a = A[n * D + f];
      if (!(a > 0)) continue;
      ++hist[static_cast<size_t>(histogram_bin(a, edges.data(), 50))];
      const int j = interval_of(a, mx, 10);
      ++icount[static_cast<size_t>(j)];
      members[static_cast<size_t>(j)].emplace_back(sample_priority(d.window[n] * kContext + d.pos[n], f, 0), n);
    }
    if (page->histogram.counts != hist) return at_f + "histogram counts";
    for (size_t i = 0; i < edges.size(); ++i)
      if (!near(page->histogram.edges.at(i), edges[i])) return at_f + "histogram edges";
    if (page->intervals.size() != 10) return at_f + "intervals";
    for (int j = 0; j < 10; ++j) {
      const auto& iv = page->intervals[static_cast<size_t>(j)];
      if (!near(iv.fraction, double(icount[static_cast<size_t>(j)]) / double(fire)) || !near(iv.lo, mx * j / 10.0) ||
          !near(iv.hi, mx * (j + 1) / 10.0))
        return at_f + "interval " + std::to_string(j);
    }
    // Interval samples: the 5 smallest priorities of each interval, in order.
    std::vector<const store::FeatureExample*> got;
    for (const auto& e : page->interval_samples) got.push_back(&e);
    size_t k = 0;
    for (int j = 0; j < 10; ++j) {
      auto& mem = members[static_cast<size_t>(j)];
      std::sort(mem.begin(), mem.end());
      for (size_t r2 = 0; r2 < std::min<size_t>(5, mem.size()); ++r2, ++k) {
        if (k >= got.size()) return at_f + "too few interval samples";
        const auto& e = *got[k];
        const int64_t n = mem[r2].second;
        const float a = e.activations.at(static_cast<size_t>(e.max_pos));
        if (e.interval != j || e.rank != int(r2) || e.window != d.window[n] || e.max_pos != d.pos[n])
          return at_f + "interval sample " + std::to_string(j) + "/" + std::to_string(r2);
        if (!(a >= mx * j / 10.0f * (1 - 1e-5f)) || !(a <= mx * (j + 1) / 10.0f * (1 + 1e-5f)))
          return at_f + "interval sample outside its interval";
      }
    }
    if (k != got.size()) return at_f + "too many interval samples";
    // Logit effects.
    const auto top = logits[f].topk(10), bottom = logits[f].topk(10, 0, false);
    std::vector<store::LogitEffect> pos, neg;
    for (const auto& l : page->logit_effects) (l.sign > 0 ? pos : neg).push_back(l);
    if (pos.size() != 10 || neg.size() != 10) return at_f + "logit effect count";
    for (int64_t i = 0; i < 10; ++i)
      if (pos[size_t(i)].token_id != std::get<1>(top)[i].item<int64_t>() ||
          !near(pos[size_t(i)].value, std::get<0>(top)[i].item<float>(), 1e-4) ||
          neg[size_t(i)].token_id != std::get<1>(bottom)[i].item<int64_t>())
        return at_f + "logit effects";
  }
  if (dead == 0) return "no dead feature to check";
  return {};
}

// Every row two harvests wrote, compared (floats within `tol`); "" when equal.
std::string compare_harvests(store::Database& a, int64_t ra, store::Database& b, int64_t rb, double tol) {
  struct Table {
    const char* sql;
    int ints, doubles, texts, blobs_exact, blobs_float;
  };
  const std::vector<Table> tables = {
      {"SELECT feature, fire_count, density, max_act, mean_act, top_tokens FROM features WHERE result_id = ? ORDER BY feature", 2, 3, 1, 0, 0},
      {"SELECT feature, bins FROM histograms WHERE result_id = ? ORDER BY feature", 1, 0, 0, 1, 0},
      {"SELECT feature, kind, interval, rank, window, max_pos, positions, activations FROM examples WHERE result_id = ? ORDER BY feature, kind, interval, rank", 6, 0, 0, 1, 1},
      {"SELECT feature, interval, lo, hi, fraction FROM intervals WHERE result_id = ? ORDER BY feature, interval", 2, 3, 0, 0, 0},
      {"SELECT feature, sign, rank, token_id, value FROM logit_effects WHERE result_id = ? ORDER BY feature, sign, rank", 4, 1, 0, 0, 0},
      {"SELECT window, token_bytes, tokens FROM windows WHERE result_id = ? ORDER BY window", 2, 0, 0, 1, 0}};
  for (const Table& t : tables) {
    store::Statement sa = a.prepare(t.sql), sb = b.prepare(t.sql);
    sa.bind(1, ra);
    sb.bind(1, rb);
    int64_t row = 0;
    while (true) {
      const bool ha = sa.step(), hb = sb.step();
      const std::string where = std::string(t.sql).substr(0, 60) + " row " + std::to_string(row++);
      if (ha != hb) return where + ": row counts differ";
      if (!ha) break;
      int c = 0;
      for (int i = 0; i < t.ints; ++i, ++c)
        if (sa.column_int(c) != sb.column_int(c)) return where + " column " + std::to_string(c);
      for (int i = 0; i < t.doubles; ++i, ++c)
        if (!near(sa.column_double(c), sb.column_double(c), tol) && !(tol == 0 && sa.column_double(c) == sb.column_double(c)))
          return where + " column " + std::to_string(c);
      for (int i = 0; i < t.texts; ++i, ++c)
        if (sa.column_text(c) != sb.column_text(c)) return where + " text column";
      for (int i = 0; i < t.blobs_exact; ++i, ++c)
        if (sa.column_vector<uint8_t>(c) != sb.column_vector<uint8_t>(c)) return where + " blob column " + std::to_string(c);
      for (int i = 0; i < t.blobs_float; ++i, ++c) {
        const auto x = sa.column_vector<float>(c), y = sb.column_vector<float>(c);
        if (x.size() != y.size()) return where + " float blob size";
        for (size_t k = 0; k < x.size(); ++k)
          if (tol == 0 ? x[k] != y[k] : !near(x[k], y[k], tol)) return where + " float blob";
      }
    }
  }
  return {};
}

int64_t count_rows(store::Database& db, const std::string& table, int64_t result_id) {
  store::Statement s = db.prepare("SELECT COUNT(*) FROM " + table + " WHERE result_id = ?");
  s.bind(1, result_id);
  s.step();
  return s.column_int(0);
}

std::vector<std::string> files_beside(const std::string& workspace) {
  std::vector<std::string> out;
  const std::string prefix = fs::path(workspace).filename().string() + ".harvest-";
  for (const auto& e : fs::directory_iterator(fs::path(workspace).parent_path()))
    if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path().string());
  return out;
}

struct Cli {
  int code = -1;
  QProcess::ExitStatus status = QProcess::NormalExit;
  std::string out, err;
};

// Idle OpenMP workers that spin fight for the cores of a busy machine.
QProcessEnvironment cli_env() {
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("OMP_WAIT_POLICY", "passive");
  return env;
}

Cli run_cli(const QStringList& args, int timeout_ms = 60000) {
  QProcess p;
  p.setProcessEnvironment(cli_env());
  p.start(SAESCOPE_CLI_PATH, args);
  Cli r;
  if (!p.waitForFinished(timeout_ms)) {
    p.kill();
    p.waitForFinished();
  }
  r.code = p.exitCode();
  r.status = p.exitStatus();
  r.out = p.readAllStandardOutput().toStdString();
  r.err = p.readAllStandardError().toStdString();
  return r;
}

QString q(const std::string& s) { return QString::fromStdString(s); }

}  // namespace

class TestAnalysis : public QObject {
  Q_OBJECT

  std::string model_dir_, sae_a_, sae_b_, corpus_;
  std::unique_ptr<tokenizer::BpeTokenizer> tok_;
  std::shared_ptr<const model::Gpt2> model_;

  HarvestRequest request(const std::vector<std::string>& saes) const {
    HarvestRequest r;
    r.model_dir = model_dir_;
    r.sae_dirs = saes;
    r.corpus = corpus_;
    r.context = kContext;
    r.options.top_k = kTopK;
    r.options.batch_windows = kBatch;
    r.options.commit_every = 3;
    return r;
  }

  QStringList harvest_args(const std::string& ws, const std::vector<std::string>& saes) const {
    QStringList a = {"harvest", "--workspace", q(ws), "--model", q(model_dir_), "--corpus", q(corpus_),
                     "--top-k", QString::number(kTopK), "--context", QString::number(kContext),
                     "--batch", QString::number(kBatch)};
    for (const auto& s : saes) a << "--sae" << q(s);
    return a;
  }

  std::string fresh(const std::string& name) const {
    const std::string dir = kOut + "/" + name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir + "/ws.saescope";
  }

 private slots:
  // The logit table equals at::topk over the whole [d_sae, vocab] product:
  // 600 features (two chunks of 512), the largest and smallest 10 of 300
  // tokens each, in order; and k larger than the vocabulary keeps them all.
  void logitEffectsAreTheProductsExtremes() {
    at::manual_seed(11);
    const at::Tensor w_dec = at::randn({600, 16}), gain = at::rand({16}) + 0.5, unembed = at::randn({300, 16});
    const analysis::LogitEffectTable t = analysis::logit_effects(w_dec, gain, unembed, 10);
    const at::Tensor full = at::matmul(w_dec * gain, unembed.t());
    const auto top = full.topk(10, 1, true, true), bottom = full.topk(10, 1, false, true);
    QVERIFY(at::equal(t.top_ids, std::get<1>(top)) && at::equal(t.bottom_ids, std::get<1>(bottom)));
    QVERIFY(at::allclose(t.top_values, std::get<0>(top)) && at::allclose(t.bottom_values, std::get<0>(bottom)));
    const analysis::LogitEffectTable all = analysis::logit_effects(w_dec.narrow(0, 0, 3), gain, unembed.narrow(0, 0, 7), 50);
    QCOMPARE(all.top_ids.size(1), int64_t(7));
    QVERIFY(at::equal(all.top_ids, std::get<1>(full.narrow(0, 0, 3).narrow(1, 0, 7).topk(7, 1, true, true))));
  }

  // A distributed harvest's merge: batches dealt round 3 ranks, each rank's
  // accumulators merged, equal one process's over all batches — activations
  // drawn from 4 values, so top lists tie often and the earlier window wins.
  void ranksMergeToOneProcessStatistics() {
    c10::InferenceMode guard;
    const int64_t windows = 14, T = 5, d = 6, B = 2;
    at::manual_seed(7);
    const at::Tensor dense = at::randint(0, 4, {windows, T, d}).to(at::kFloat) * 0.75f;
    analysis::StatsShape shape;
    shape.d_sae = d;
    shape.top_k = 4;
    shape.context = T;
    shape.intervals = 3;
    shape.interval_samples = 2;
    shape.histogram_bins = 4;
    auto batch = [&](int64_t b, std::vector<int64_t>& idx) {
      idx.clear();
      for (int64_t w = b * B; w < std::min(windows, (b + 1) * B); ++w) idx.push_back(w);
      return analysis::SparseCodes::from_dense(dense.narrow(0, b * B, static_cast<int64_t>(idx.size())));
    };
    const int64_t batches = (windows + B - 1) / B;
    std::vector<int64_t> idx;
    analysis::FeatureStats one(shape);
    for (int64_t b = 0; b < batches; ++b) one.add_pass1(batch(b, idx), idx);
    one.begin_pass2();
    for (int64_t b = 0; b < batches; ++b) one.add_pass2(batch(b, idx), idx);

    const int world = 3;
    std::vector<analysis::FeatureStats> ranks;  // each its own tensors (a copy shares them)
    for (int r = 0; r < world; ++r) ranks.emplace_back(shape);
    for (int64_t b = 0; b < batches; ++b) ranks[static_cast<size_t>(b % world)].add_pass1(batch(b, idx), idx);
    const auto copy = [&](const analysis::FeatureStats& s) {
      analysis::FeatureStats c(shape);
      c.load_state(s.state());  // clones
      return c;
    };
    std::vector<analysis::FeatureStats> merged;
    for (int r = 0; r < world; ++r) {
      merged.push_back(copy(ranks[static_cast<size_t>(r)]));
      merged.back().merge_pass1(ranks);
      merged.back().begin_pass2();
    }
    for (int r = 0; r < world; ++r) ranks[static_cast<size_t>(r)] = copy(merged[static_cast<size_t>(r)]);
    for (int64_t b = 0; b < batches; ++b) ranks[static_cast<size_t>(b % world)].add_pass2(batch(b, idx), idx);
    for (auto& m : merged) m.merge_pass2(ranks);

    QVERIFY(std::get<0>(at::_unique(one.top_value.flatten())).numel() < one.top_value.numel() / 2);  // ties abound
    for (const auto& m : merged) {
      for (const auto& [name, t] : one.state()) {
        const at::Tensor mine = m.state().at(name);
        const bool same = name == "act_sum" ? at::allclose(t, mine, 1e-12) : at::equal(t, mine);
        QVERIFY2(same, name.c_str());
      }
    }
  }

  void initTestCase() {
    fs::remove_all(kOut);
    fs::create_directories(kOut);
    model_dir_ = write_model(kOut + "/model");
    sae_a_ = write_sae(kOut + "/sae_a", "blocks.1.hook_resid_pre", 64, 1, 60);
    sae_b_ = write_sae(kOut + "/sae_b", "blocks.0.hook_mlp_out", 48, 2, 45, 40.0f);
    corpus_ = write_corpus(kOut + "/corpus.txt", 140, 5);
    tok_ = std::make_unique<tokenizer::BpeTokenizer>(tokenizer::load_tokenizer(model_dir_));
    model::ModelOptions mo;
    mo.center_writing_weights = true;
    model_ = model::Gpt2::load(model_dir_, mo);
  }

  // ---- corpus windows -----------------------------------------------------
  void textCorpusIsParagraphsJoinedByEndOfText() {
    const std::string path = kFixtures + "/two_documents.txt";
    CorpusOptions o;
    o.context = 8;
    CorpusWindows w(path, *tok_, o);
    std::vector<int32_t> stream;
    const std::vector<std::string> docs = {
        "The river bank was quiet in the morning.\nFishermen waited by the water.",
        "The bank raised its interest rates again,\nand the loans became more expensive.",
        "Spring came early that year."};
    for (size_t i = 0; i < docs.size(); ++i) {
      if (i) stream.push_back(50256);
      for (int32_t id : tok_->encode_ids(docs[i])) stream.push_back(id);
    }
    std::vector<int32_t> joined;
    int64_t n = 0, tokens = 0;
    for (const auto& win : w.next(1000)) {
      QCOMPARE(win.index, n++);
      QCOMPARE(win.tokens.front(), 50256);
      QVERIFY(win.tokens.size() <= 8 && win.tokens.size() >= 2);
      joined.insert(joined.end(), win.tokens.begin() + 1, win.tokens.end());
      tokens += static_cast<int64_t>(win.tokens.size());
    }
    QVERIFY(joined == stream);
    const WindowCount c = w.count();
    QCOMPARE(c.windows, n);
    QCOMPARE(c.tokens, tokens);
    QCOMPARE(c.last_length, static_cast<int64_t>((stream.size() - 1) % 7 + 2));
    QCOMPARE(w.content_hash(), sha256_file(path));
  }

  void seekGivesTheSameWindows() {
    CorpusOptions o;
    o.context = kContext;
    CorpusWindows a(corpus_, *tok_, o), b(corpus_, *tok_, o);
    const auto all = a.next(100000);
    QVERIFY(all.size() > 100);
    for (int64_t at : {int64_t(0), int64_t(7), int64_t(50), static_cast<int64_t>(all.size()) - 1}) {
      b.seek(at);
      QCOMPARE(b.position(), at);
      const auto got = b.next(3);
      QVERIFY(!got.empty());
      for (size_t i = 0; i < got.size(); ++i) {
        QCOMPARE(got[i].index, at + static_cast<int64_t>(i));
        QVERIFY(got[i].tokens == all[static_cast<size_t>(at) + i].tokens);
      }
    }
    b.seek(static_cast<int64_t>(all.size()) + 5);
    QVERIFY(b.next(1).empty());
  }

  void tokenLimitCutsTheLastWindow() {
    CorpusOptions o;
    o.context = kContext;
    o.max_tokens = 3 * kContext + 10;
    CorpusWindows w(corpus_, *tok_, o);
    const WindowCount c = w.count();
    QCOMPARE(c.tokens, o.max_tokens);
    QCOMPARE(c.windows, int64_t(4));
    QCOMPARE(c.last_length, int64_t(10));
  }

  void jsonlBadLinesAreReportedWithLineNumbers() {
    CorpusWindows w(kFixtures + "/bad_lines.jsonl", *tok_, {});
    const auto& p = w.problems();
    QCOMPARE(p.size(), size_t(3));
    QCOMPARE(p[0].line, int64_t(3));
    QCOMPARE(p[1].line, int64_t(4));
    QCOMPARE(p[1].reason, std::string("not valid JSON"));
    QCOMPARE(p[2].line, int64_t(5));
    QVERIFY(w.problems_summary().find("skipped 3 bad lines: 3 (") != std::string::npos);
    std::vector<int32_t> expect = {50256};
    for (const char* d : {"First document about rivers.", "Second document, about money.", "Third one."}) {
      if (expect.size() > 1) expect.push_back(50256);
      for (int32_t id : tok_->encode_ids(d)) expect.push_back(id);
    }
    QVERIFY(w.next(10).front().tokens == expect);
    try {
      CorpusWindows bad(kFixtures + "/all_bad.jsonl", *tok_, {});
      bad.count();
      QFAIL("no InputError");
    } catch (const InputError& e) {
      const std::string msg = e.what();
      QVERIFY2(msg.find("all_bad.jsonl") != std::string::npos && msg.find("1 (") != std::string::npos, e.what());
    }
  }

  // ---- the harvest against brute force ------------------------------------
  void harvestEqualsBruteForce_data() {
    QTest::addColumn<int>("spill_kind");
    QTest::newRow("auto: features kept") << int(SpillKind::Auto);
    QTest::newRow("activations kept, SAEs rerun") << int(SpillKind::Activations);
  }
  void harvestEqualsBruteForce() {
    QFETCH(int, spill_kind);
    const auto kind = static_cast<SpillKind>(spill_kind);
    const std::string path = fresh(kind == SpillKind::Auto ? "brute" : "brute_activations");
    auto ws = store::Workspace::open(path);
    jobs::ProgressSink sink;
    HarvestRequest req = request({sae_a_, sae_b_});
    req.options.spill_kind = kind;
    const HarvestOutcome out = run_harvest(*ws, req, sink);
    QVERIFY(out.ran);
    QCOMPARE(out.saes.size(), size_t(2));
    QVERIFY(out.report.spilled);
    QVERIFY(out.report.spill_bytes > 0);
    // Auto keeps these sparse SAEs' features (L0 well under d_in).
    const std::string kept = kind == SpillKind::Auto ? "keeps its features" : "keeps its hook's activations";
    int notes = 0;
    for (const std::string& n : out.report.notes) notes += n.find(kept) != std::string::npos;
    QCOMPARE(notes, 2);
    const sae::Sae a = sae::load_sae(sae_a_), b = sae::load_sae(sae_b_);
    for (size_t i = 0; i < 2; ++i) {
      const sae::Sae& s = i == 0 ? a : b;
      const Dense d = brute_force(*model_, s, corpus_, *tok_);
      const auto rec = ws->result(out.saes[i].result_id);
      QVERIFY(rec && rec->done);
      QCOMPARE(rec->params.value("tokens", int64_t(0)), out.report.tokens);
      {
        store::Statement st = ws->db().prepare("SELECT COUNT(*) FROM features WHERE result_id = ? AND fire_count = 0");
        st.bind(1, out.saes[i].result_id);
        QVERIFY(st.step());
        QCOMPARE(rec->metrics.value("dead", int64_t(-1)), st.column_int(0));
        QVERIFY(st.column_int(0) >= (i == 0 ? 4 : 3));  // the SAEs' dead features at least
      }
      const std::string problem = check_against_brute(*ws, out.saes[i].result_id, d, s, *model_);
      QVERIFY2(problem.empty(), problem.c_str());
      // Windows stored are exactly those an example shows.
      store::Statement st = ws->db().prepare(
          "SELECT COUNT(*) FROM windows WHERE result_id = ?1 AND window NOT IN (SELECT window FROM examples WHERE result_id = ?1)");
      st.bind(1, out.saes[i].result_id);
      QVERIFY(st.step());
      QCOMPARE(st.column_int(0), int64_t(0));
      QVERIFY(count_rows(ws->db(), "windows", out.saes[i].result_id) > 0);
    }
    store::FeatureStore fs(ws->db());
    QCOMPARE(fs.token_text(out.model_id, 262), std::string(" the"));
    QVERIFY(files_beside(path).empty());  // state and spill files are gone
    // top_tokens names the token at the best position of the top examples.
    const auto page = fs.page(out.saes[0].result_id, 0, out.model_id);
    QVERIFY(page && !page->top.empty());
    const std::string first = fs.token_text(out.model_id, page->top[0].tokens[static_cast<size_t>(page->top[0].max_pos)]);
    QVERIFY2(page->summary.top_tokens.find(first) != std::string::npos, page->summary.top_tokens.c_str());

    // The same request again reuses the finished results.
    const HarvestOutcome again = run_harvest(*ws, req, sink);
    QVERIFY(!again.ran);
    QVERIFY(again.saes[0].reused && again.saes[0].result_id == out.saes[0].result_id);

    // Without the spill file, passes 2 and 3 rerun the model: the same rows.
    if (kind != SpillKind::Auto) return;
    const std::string path2 = fresh("nospill");
    auto ws2 = store::Workspace::open(path2);
    HarvestRequest r2 = request({sae_a_, sae_b_});
    r2.options.spill = false;
    const HarvestOutcome out2 = run_harvest(*ws2, r2, sink);
    QVERIFY(!out2.report.spilled);
    for (size_t i = 0; i < 2; ++i) {
      const std::string diff = compare_harvests(ws->db(), out.saes[i].result_id, ws2->db(), out2.saes[i].result_id, 1e-4);
      QVERIFY2(diff.empty(), diff.c_str());
    }
  }

  void promptFeaturesMatchTheSae() {
    const sae::Sae s = sae::load_sae(sae_a_);
    const std::string text = "The river bank was quiet.";
    const auto got = prompt_features(*model_, s, *tok_, text, 3);
    c10::InferenceMode guard;
    std::vector<int64_t> ids;
    for (int32_t id : tok_->encode_ids(text)) ids.push_back(id);
    const auto tb = model::make_token_batch({ids}, model_->info());
    const at::Tensor f = s.encode(model_->run(tb, {{"blocks.1.hook_resid_pre"}, {}}).hooks.begin()->second[0]);
    QCOMPARE(got.size(), ids.size() + 1);
    QVERIFY(got[0].is_bos && !got[1].is_bos);
    QCOMPARE(got[1].text, std::string("The"));
    int nonempty = 0;
    for (size_t t = 0; t < got.size(); ++t) {
      const auto best = f[static_cast<int64_t>(t)].topk(3);
      for (size_t r = 0; r < got[t].top.size(); ++r) {
        QCOMPARE(got[t].top[r].first, std::get<1>(best)[static_cast<int64_t>(r)].item<int64_t>());
        QVERIFY(near(got[t].top[r].second, std::get<0>(best)[static_cast<int64_t>(r)].item<float>()));
      }
      nonempty += !got[t].top.empty();
    }
    QVERIFY(nonempty > 0);
  }

  // ---- resume --------------------------------------------------------------
  void resumeAfterKillEqualsUninterrupted_data() {
    QTest::addColumn<int>("kill_in_pass");
    QTest::addColumn<bool>("lose_spill");
    QTest::addColumn<QString>("spill");
    QTest::newRow("killed in pass 1") << 1 << false << "auto";
    QTest::newRow("killed in pass 2") << 2 << false << "auto";
    QTest::newRow("killed in pass 2, features file lost") << 2 << true << "auto";
    QTest::newRow("activations kept, killed in pass 1") << 1 << false << "activations";
    QTest::newRow("activations kept, killed in pass 2, file lost") << 2 << true << "activations";
  }
  void resumeAfterKillEqualsUninterrupted() {
    QFETCH(int, kill_in_pass);
    QFETCH(bool, lose_spill);
    QFETCH(QString, spill);
    const std::string ref = kOut + "/kill_ref/ws.saescope";
    if (!fs::exists(ref)) {
      fresh("kill_ref");
      const Cli r0 = run_cli(harvest_args(ref, {sae_a_}));
      QVERIFY2(r0.code == 0, r0.err.c_str());
    }
    const int64_t ref_id = store::Workspace::open(ref)->results("harvest").at(0).id;

    const std::string path = fresh("kill_" + std::to_string(kill_in_pass) + (lose_spill ? "_lost_" : "_") +
                                   spill.toStdString());
    QProcess p;
    p.setProcessEnvironment(cli_env());
    p.start(SAESCOPE_CLI_PATH, harvest_args(path, {sae_a_}) << "--commit-every" << "1" << "--spill" << spill);
    QVERIFY(p.waitForStarted());
    bool killed = false;
    json progress;
    for (int i = 0; i < 20000 && !killed; ++i) {
      if (p.state() == QProcess::NotRunning) break;
      if (fs::exists(path)) {
        try {
          store::Database db(path, false);
          store::Statement s = db.prepare("SELECT progress FROM results WHERE status = 'running'");
          if (s.step() && !s.column_is_null(0)) {
            progress = json::parse(s.column_text(0));
            if (progress["pass"] == kill_in_pass && progress["next_window"].get<int64_t>() > 0) {
              p.kill();
              killed = true;
            }
          }
        } catch (const std::exception&) {  // the writer is creating it
        }
      }
      if (!killed) QThread::usleep(500);
    }
    p.waitForFinished();
    QVERIFY2(killed, "the harvest finished before it could be killed");
    QCOMPARE(p.exitStatus(), QProcess::CrashExit);
    {
      auto ws = store::Workspace::open(path);
      const auto rs = ws->results("harvest");
      QCOMPARE(rs.size(), size_t(1));
      QVERIFY(!rs[0].done);
      QCOMPARE(count_rows(ws->db(), "features", rs[0].id), int64_t(0));
    }
    QVERIFY(!files_beside(path).empty());  // state (and spill) wait for the resume
    QCOMPARE(QString::fromStdString(progress["spill_kind"].get<std::string>()),
             spill == "auto" ? QString("features") : spill);
    if (lose_spill) QVERIFY(fs::remove(progress["spill_file"].get<std::string>()));
    const Cli r1 = run_cli(harvest_args(path, {sae_a_}) << "--json");
    QVERIFY2(r1.code == 0, r1.err.c_str());
    QVERIFY2(r1.err.find("resumed in pass " + std::to_string(kill_in_pass)) != std::string::npos, r1.err.c_str());
    QCOMPARE(r1.err.find("recomputing activations with the model") != std::string::npos, lose_spill);
    const int64_t id = json::parse(r1.out)["saes"][0]["result_id"].get<int64_t>();
    auto a = store::Workspace::open(ref);
    auto b = store::Workspace::open(path);
    QVERIFY(b->result(id)->done);
    // The model recomputes what the file held, and the SAE re-encodes kept
    // activations in other batches: equal up to float rounding.
    const std::string diff =
        compare_harvests(a->db(), ref_id, b->db(), id, lose_spill || spill == "activations" ? 1e-4 : 0.0);
    QVERIFY2(diff.empty(), diff.c_str());
    QVERIFY(files_beside(path).empty());
  }

  void cancelLeavesAConsistentWorkspace() {
    const std::string ref = fresh("cancel_ref");
    auto ws_ref = store::Workspace::open(ref);
    jobs::ProgressSink plain;
    const HarvestOutcome full = run_harvest(*ws_ref, request({sae_a_}), plain);

    const std::string path = fresh("cancel");
    jobs::CancelFlag flag;
    int reports = 0;
    jobs::ProgressSink sink([&](const jobs::Progress&, double, double) {
      if (++reports == 5) flag.cancel();
    }, &flag);
    {
      auto ws = store::Workspace::open(path);
      bool cancelled = false;
      try {
        run_harvest(*ws, request({sae_a_}), sink);
      } catch (const Cancelled&) {
        cancelled = true;
      }
      QVERIFY(cancelled);
    }
    auto ws = store::Workspace::open(path);  // integrity-checked on open
    const auto rs = ws->results("harvest");
    QCOMPARE(rs.size(), size_t(1));
    QVERIFY(!rs[0].done);
    QCOMPARE(rs[0].progress["pass"].get<int>(), 1);
    QCOMPARE(rs[0].progress["next_window"].get<int64_t>(), 5 * kBatch);  // committed on cancel
    QVERIFY(fs::exists(rs[0].progress["state_file"].get<std::string>()));
    QCOMPARE(count_rows(ws->db(), "features", rs[0].id), int64_t(0));
    QCOMPARE(count_rows(ws->db(), "windows", rs[0].id), 5 * kBatch);

    // A resume state that went missing: the harvest starts over, same result.
    QVERIFY(fs::remove(rs[0].progress["state_file"].get<std::string>()));
    const HarvestOutcome resumed = run_harvest(*ws, request({sae_a_}), plain);
    QCOMPARE(resumed.saes[0].result_id, rs[0].id);
    QCOMPARE(resumed.report.notes.size(), size_t(2));  // starting over, then the spill it chose
    QVERIFY2(resumed.report.notes[0].find("starting over") != std::string::npos, resumed.report.notes[0].c_str());
    QVERIFY2(resumed.report.notes[1].find("keeps its features") != std::string::npos, resumed.report.notes[1].c_str());
    const std::string diff = compare_harvests(ws_ref->db(), full.saes[0].result_id, ws->db(), rs[0].id, 0.0);
    QVERIFY2(diff.empty(), diff.c_str());
  }

  void changedSaeGetsANewHarvest() {
    const std::string dir = kOut + "/sae_changing";
    fs::remove_all(dir);
    write_sae(dir, "blocks.1.hook_resid_pre", 64, 1, 60);
    const std::string path = fresh("stale");
    auto ws = store::Workspace::open(path);
    jobs::ProgressSink sink;
    HarvestRequest r = request({dir});
    r.max_tokens = 300;
    r.options.logit_effects = 0;
    const HarvestOutcome first = run_harvest(*ws, r, sink);
    QVERIFY(first.ran);
    QCOMPARE(count_rows(ws->db(), "logit_effects", first.saes[0].result_id), int64_t(0));
    QVERIFY(count_rows(ws->db(), "features", first.saes[0].result_id) == 64);
    const HarvestOutcome same = run_harvest(*ws, r, sink);
    QVERIFY(!same.ran && same.saes[0].reused);
    QCOMPARE(same.saes[0].result_id, first.saes[0].result_id);

    write_sae(dir, "blocks.1.hook_resid_pre", 64, 99, 60);  // new weights, same folder
    const HarvestOutcome changed = run_harvest(*ws, r, sink);
    QVERIFY(changed.ran && !changed.saes[0].reused);
    QVERIFY(changed.saes[0].result_id != first.saes[0].result_id);
    QVERIFY(changed.saes[0].sae_id != first.saes[0].sae_id);
    store::FeatureStore fs(ws->db());
    QVERIFY(fs.page(first.saes[0].result_id, 0, std::nullopt)->summary.max_act !=
            fs.page(changed.saes[0].result_id, 0, std::nullopt)->summary.max_act);
    // Readers by folder get the harvest of the SAE as it is now.
    const Cli c = run_cli({"features", "--workspace", q(path), "--sae", q(dir), "--json"});
    QVERIFY2(c.code == 0, c.err.c_str());
    QCOMPARE(json::parse(c.out)["result_id"].get<int64_t>(), changed.saes[0].result_id);
  }

  void badHarvestInputsAreInputErrors() {
    const std::string path = fresh("bad_inputs");
    auto ws = store::Workspace::open(path);
    jobs::ProgressSink sink;
    const auto expect = [&](const std::vector<std::string>& saes, const std::vector<std::string>& parts,
                            const std::string& corpus = {}) {
      HarvestRequest r = request(saes);
      if (!corpus.empty()) r.corpus = corpus;
      try {
        run_harvest(*ws, r, sink);
        QFAIL("no InputError");
      } catch (const InputError& e) {
        for (const auto& p : parts) QVERIFY2(std::string(e.what()).find(p) != std::string::npos, e.what());
      }
    };
    expect({}, {"at least one SAE"});
    expect({write_sae(kOut + "/bad_inputs/deep", "blocks.5.hook_resid_pre", 16, 3, 16)}, {"blocks.5.hook_resid_pre"});
    expect({write_sae(kOut + "/bad_inputs/wide", "blocks.0.mlp.hook_post", 16, 3, 16)}, {"blocks.0.mlp.hook_post"});
    const std::string flat = write_sae(kOut + "/bad_inputs/flat", "blocks.0.hook_resid_post", 16, 3, 16);
    {
      std::ifstream in(flat + "/cfg.json");
      json cfg = json::parse(in);
      cfg["metadata"]["model_from_pretrained_kwargs"]["center_writing_weights"] = false;
      std::ofstream(flat + "/cfg.json") << cfg.dump();
    }
    expect({sae_a_, flat}, {"center_writing_weights", "separately"});
    expect({sae_a_}, {"nowhere.txt"}, kOut + "/nowhere.txt");
    expect({sae_a_}, {"all_bad.jsonl", "no text"}, kFixtures + "/all_bad.jsonl");
    QVERIFY(ws->results().empty());
    CorpusOptions o;
    o.context = 1;
    QVERIFY_EXCEPTION_THROWN(CorpusWindows(corpus_, *tok_, o), InputError);
  }

  // ---- CLI -----------------------------------------------------------------
  void cliJsonShapes() {
    const std::string path = fresh("cli");
    const std::string jsonl = kOut + "/cli/corpus.jsonl";
    {
      std::ifstream in(corpus_);
      std::ofstream out(jsonl);
      std::string line;
      int n = 0;
      while (std::getline(in, line))
        if (!line.empty()) out << json({{"text", line}}).dump() << "\n" << (++n == 2 ? "{broken\n" : "");
    }
    QStringList args = harvest_args(path, {sae_a_});
    args[args.indexOf("--corpus") + 1] = q(jsonl);
    const Cli h = run_cli(args << "--json" << "--tokens" << "600");
    QVERIFY2(h.code == 0, h.err.c_str());
    QVERIFY2(h.err.find("skipped 1 bad line: 3 (not valid JSON)") != std::string::npos, h.err.c_str());
    const json hj = json::parse(h.out);
    QCOMPARE(hj["tokens"].get<int64_t>(), int64_t(600));
    const int64_t sae_id = hj["saes"][0]["sae_id"].get<int64_t>();

    const Cli f = run_cli({"feature", "--workspace", q(path), "--sae", QString::number(sae_id), "--id", "2", "--json"});
    QVERIFY2(f.code == 0, f.err.c_str());
    const json fj = json::parse(f.out);
    for (const char* key : {"result_id", "sae", "hook", "feature", "dead", "fire_count", "density", "max_act",
                            "mean_act", "top_tokens", "histogram", "intervals", "top_examples",
                            "interval_examples", "logit_effects"})
      QVERIFY2(fj.contains(key), key);
    QCOMPARE(fj["feature"].get<int64_t>(), int64_t(2));
    QVERIFY(!fj["top_examples"].empty());
    const json& ex = fj["top_examples"][0];
    QCOMPARE(ex["tokens"].size(), ex["activations"].size());
    QCOMPARE(ex["tokens"][0].get<std::string>(), std::string("<|endoftext|>"));
    QCOMPARE(ex["activation"].get<float>(), ex["activations"][ex["max_pos"].get<size_t>()].get<float>());
    QCOMPARE(fj["logit_effects"]["positive"].size(), size_t(10));
    QVERIFY(fj["logit_effects"]["negative"][0].contains("token"));
    QCOMPARE(fj["histogram"]["edges"].size(), fj["histogram"]["counts"].size() + 1);
    QCOMPARE(fj["intervals"].size(), size_t(10));

    const Cli dead = run_cli({"feature", "--workspace", q(path), "--sae", q(sae_a_), "--id", "63", "--json"});
    QVERIFY2(dead.code == 0, dead.err.c_str());
    QVERIFY(json::parse(dead.out)["dead"].get<bool>());

    const Cli l = run_cli({"features", "--workspace", q(path), "--sae", q(sae_a_), "--sort", "density", "--limit", "5", "--json"});
    QVERIFY2(l.code == 0, l.err.c_str());
    const json lj = json::parse(l.out);
    QCOMPARE(lj["features"].size(), size_t(5));
    QCOMPARE(lj["dead"].get<int64_t>(), int64_t(4));
    for (size_t i = 1; i < 5; ++i)
      QVERIFY(lj["features"][i - 1]["density"].get<double>() >= lj["features"][i]["density"].get<double>());

    const Cli info = run_cli({"workspace", "info", q(path), "--json"});
    QVERIFY2(info.code == 0, info.err.c_str());
    const json ij = json::parse(info.out);
    QCOMPARE(ij["inputs"].size(), size_t(3));
    QCOMPARE(ij["results"][0]["kind"].get<std::string>(), std::string("harvest"));
    QCOMPARE(ij["results"][0]["status"].get<std::string>(), std::string("done"));
    QCOMPARE(run_cli({"workspace", "info", q(path)}).code, 0);

    for (const QStringList& bad :
         {QStringList{"feature", "--workspace", q(path), "--sae", q(sae_a_), "--id", "9999"},
          QStringList{"feature", "--workspace", q(path + ".none"), "--sae", q(sae_a_), "--id", "1"},
          QStringList{"features", "--workspace", q(path), "--sae", q(sae_b_)},
          QStringList{"features", "--workspace", q(path), "--sae", q(sae_a_), "--sort", "size"},
          QStringList{"workspace", "info", q(path + ".none")},
          harvest_args(path + "2", {sae_a_}) << "--top-k" << "0",
          harvest_args(path + "2", {sae_a_}) << "--context" << "1"}) {
      const Cli c = run_cli(bad);
      QVERIFY2(c.code == 2, qPrintable(bad.join(' ')));
      QVERIFY(!c.err.empty());
    }

    // A damaged file: recover keeps the inputs.
    {
      std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
      file.seekp(0);
      file << "this is no longer a SQLite database header";
    }
    QCOMPARE(run_cli({"workspace", "info", q(path)}).code, 2);
    const Cli rec = run_cli({"workspace", "recover", q(path), "--json"});
    QVERIFY2(rec.code == 0, rec.err.c_str());
    const json rj = json::parse(rec.out);
    QVERIFY(fs::exists(rj["damaged_copy"].get<std::string>()));
    QCOMPARE(run_cli({"workspace", "info", q(path)}).code, 0);
  }
};

QTEST_GUILESS_MAIN(TestAnalysis)
#include "test_analysis.moc"
