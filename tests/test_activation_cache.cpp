// Activation cache: rows equal to the model's hook values (within float16 /
// bfloat16 rounding), header fields, resume after a killed CLI process equal
// byte for byte to an uninterrupted run, uncommitted rows dropped, damaged
// files refused, and the shuffled stream visiting every row once per epoch.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <QProcess>
#include <QThread>
#include <QtTest>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "core/corpus/corpus_windows.h"
#include "core/common/error.h"
#include "core/common/sha256.h"
#include "core/io/safetensors.h"
#include "core/common/progress.h"
#include "core/model/gpt2/gpt2.h"
#include "core/sae/activation_cache.h"
#include "core/workflows/activation_cache_request.h"
#include "core/sae/activation_cache_source.h"
#include "core/sae/activation_cache_writer.h"
#include "core/store/workspace.h"
#include "core/tokenizer/bpe_tokenizer.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace saescope;
using namespace saescope::sae;

namespace {

const std::string kOut = std::string(SAESCOPE_TEST_OUTPUT_DIR) + "/activation_cache";
const std::string kTokenizer = std::string(SAESCOPE_SHARED_DIR) + "/data/gpt2-tokenizer";
constexpr int64_t kContext = 16;

// A tiny GPT-2 with GPT-2's vocabulary, and the real tokenizer beside it.
std::string write_model(const std::string& dir) {
  fs::create_directories(dir);
  model::Gpt2Config c;
  c.n_layer = 2, c.d_model = 32, c.n_head = 4, c.d_head = 8, c.d_mlp = 64, c.n_positions = 64;
  c.vocab_size = 50257, c.bos_token_id = c.eos_token_id = 50256;
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

std::string write_corpus(const std::string& path, int paragraphs, uint32_t seed) {
  const std::vector<std::string> words = {"the", "river", "bank", "money", "spring", "water", "flows",
                                          "loan", "of", "a", "in", "and", "morning", "quiet", "rates",
                                          "fish", "boat", "stone", "bridge", "city", "market", "green"};
  std::mt19937 rng(seed);
  std::ofstream out(path);
  for (int p = 0; p < paragraphs; ++p) {
    const int n = 5 + static_cast<int>(rng() % 25);
    for (int i = 0; i < n; ++i) out << (i ? " " : "") << words[rng() % words.size()];
    out << ".\n\n";
  }
  return path;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A cache of `rows` rows whose row r is (r / 64, r % 64, 1): exact in float16.
ActivationCache numbered_cache(const std::string& path, int64_t windows, int64_t per_window) {
  fs::remove(path);
  ActivationCacheHeader h;
  h.hook = "blocks.0.hook_resid_pre";
  h.d_in = 3;
  h.context = per_window + 1;
  h.windows = windows;
  h.tokens = windows * per_window;
  {
    ActivationCacheWriter w(path, h);
    const at::Tensor r = at::arange(h.tokens, at::kFloat);
    const at::Tensor rows = at::stack({at::floor(r / 64), at::fmod(r, 64), at::ones_like(r)}, 1);
    for (int64_t k = 0; k < windows; ++k) w.append(rows.narrow(0, k * per_window, per_window), k + 1);
    w.commit();
  }
  return ActivationCache::open(path);
}

std::vector<int64_t> row_ids(const at::Tensor& batch) {
  std::vector<int64_t> ids;
  for (int64_t i = 0; i < batch.size(0); ++i)
    ids.push_back(batch[i][0].item<int64_t>() * 64 + batch[i][1].item<int64_t>());
  return ids;
}

struct Cli {
  int code = -1;
  std::string out, err;
};

QProcessEnvironment cli_env() {
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("OMP_WAIT_POLICY", "passive");
  return env;
}

Cli run_cli(const QStringList& args) {
  QProcess p;
  p.setProcessEnvironment(cli_env());
  p.start(SAESCOPE_CLI_PATH, args);
  if (!p.waitForFinished(120000)) {
    p.kill();
    p.waitForFinished();
  }
  return {p.exitCode(), p.readAllStandardOutput().toStdString(), p.readAllStandardError().toStdString()};
}

QString q(const std::string& s) { return QString::fromStdString(s); }

}  // namespace

class TestActivationCache : public QObject {
  Q_OBJECT

  std::string model_dir_, corpus_, big_corpus_;

  CacheRequest request(const std::string& out, const std::string& dtype = "float16", bool bos = false) const {
    CacheRequest r;
    r.model_dir = model_dir_;
    r.hook = "blocks.1.hook_resid_pre";
    r.corpus = corpus_;
    r.out = out;
    r.context = kContext;
    r.dtype = dtype;
    r.include_bos = bos;
    r.fill.batch_windows = 4;
    return r;
  }

  // One window per batch, so a kill can land between any two windows.
  QStringList cache_args(const std::string& out, bool commit_each) const {
    QStringList a = {"cache", "--model", q(model_dir_), "--hook", "blocks.1.hook_resid_pre", "--corpus",
                     q(big_corpus_), "--context", QString::number(kContext), "--out", q(out), "--batch", "1"};
    if (commit_each) a << "--commit-every" << "1";
    return a;
  }

 private slots:
  void initTestCase() {
    fs::remove_all(kOut);
    fs::create_directories(kOut);
    model_dir_ = write_model(kOut + "/model");
    corpus_ = write_corpus(kOut + "/corpus.txt", 30, 5);
    big_corpus_ = write_corpus(kOut + "/big_corpus.txt", 300, 9);
  }

  // ---- contents ------------------------------------------------------------
  void rowsEqualTheModelsHookValues_data() {
    QTest::addColumn<QString>("dtype");
    QTest::addColumn<bool>("bos");
    QTest::addColumn<bool>("centre");
    QTest::newRow("float16, BOS excluded") << "float16" << false << false;
    QTest::newRow("bfloat16, BOS excluded, centred") << "bfloat16" << false << true;
    QTest::newRow("float16, BOS included") << "float16" << true << false;
  }
  void rowsEqualTheModelsHookValues() {
    QFETCH(QString, dtype);
    QFETCH(bool, bos);
    QFETCH(bool, centre);
    const std::string path = kOut + "/roundtrip.cache";
    fs::remove(path);
    CacheRequest r = request(path, dtype.toStdString(), bos);
    r.center_writing_weights = centre;
    jobs::ProgressSink sink;
    const CacheOutcome out = build_activation_cache(r, sink);
    QVERIFY(!out.already_complete);
    const ActivationCache cache = ActivationCache::open(path);
    QVERIFY(cache.complete());
    QCOMPARE(cache.activations().scalar_type(), dtype == "float16" ? at::kHalf : at::kBFloat16);

    // Expected: each window run alone, its hook rows in order.
    model::ModelOptions mo;
    mo.center_writing_weights = centre;
    const auto m = model::Gpt2::load(model_dir_, mo);
    const auto tok = tokenizer::load_tokenizer(model_dir_);
    analysis::CorpusOptions co;
    co.context = kContext;
    analysis::CorpusWindows windows(corpus_, tok, co);
    std::vector<at::Tensor> rows;
    c10::InferenceMode guard;
    for (const auto& w : windows.next(1 << 20)) {
      const std::vector<int64_t> ids(w.tokens.begin(), w.tokens.end());
      const at::Tensor v = m->run(model::make_token_batch({ids}, m->info(), false),
                                  {{r.hook}, {}}).hooks.at(r.hook)[0];
      rows.push_back(v.slice(0, bos ? 0 : 1));
    }
    const at::Tensor expected = at::cat(rows, 0);
    const at::Tensor got = cache.activations().to(at::kFloat);
    QCOMPARE(got.size(0), expected.size(0));
    QCOMPARE(got.size(0), cache.header().tokens);
    // Rounding to the storage type: relative 2^-11 (float16), 2^-8 (bfloat16).
    const double rel = dtype == "float16" ? 1.0 / 2048 : 1.0 / 256;
    const double worst = ((got - expected).abs() - expected.abs() * rel * 1.01).max().item<double>();
    QVERIFY2(worst <= 1e-7, std::to_string(worst).c_str());
    // The first stored row is position 1 (or BOS) of window 0.
    QVERIFY(at::allclose(got[0], expected[0], rel, 1e-6));
  }

  void headerNamesModelHookCorpusWindowAndCounts() {
    const std::string path = kOut + "/header.cache";
    fs::remove(path);
    jobs::ProgressSink sink;
    const CacheOutcome out = build_activation_cache(request(path), sink);
    const CacheFileInfo info = read_cache_file_info(path);
    const ActivationCacheHeader& h = info.header;
    auto ws = store::Workspace::open(kOut + "/hashes.saescope");
    QCOMPARE(h.model, fs::absolute(model_dir_).lexically_normal().string());
    QCOMPARE(h.model_hash, ws->content_hash(model_dir_));  // the digest a workspace keys results by
    QCOMPARE(h.corpus_hash, sha256_file(corpus_));
    QCOMPARE(h.corpus_hash, ws->content_hash(corpus_));
    QCOMPARE(h.hook, std::string("blocks.1.hook_resid_pre"));
    QCOMPARE(h.d_in, int64_t(32));
    QCOMPARE(h.dtype, std::string("float16"));
    QCOMPARE(h.context, kContext);
    QCOMPARE(h.include_bos, false);
    QCOMPARE(h.center_writing_weights, false);
    const auto tok = tokenizer::load_tokenizer(model_dir_);
    analysis::CorpusOptions co;
    co.context = kContext;
    analysis::CorpusWindows windows(corpus_, tok, co);
    const analysis::WindowCount count = windows.count();
    QCOMPARE(h.windows, count.windows);
    QCOMPARE(h.corpus_tokens, count.tokens);
    QCOMPARE(h.tokens, count.tokens - count.windows);  // one BOS per window left out
    QCOMPARE(info.progress.windows, h.windows);
    QCOMPARE(info.progress.rows, h.tokens);
    QCOMPARE(info.data_offset % 4096, int64_t(0));
    QCOMPARE(static_cast<int64_t>(fs::file_size(path)), info.data_offset + h.tokens * 32 * 2);
    // The JSON header as written, readable by anything that reads JSON.
    const std::string bytes = read_bytes(path);
    QCOMPARE(bytes.substr(0, 8), std::string("SAEACTS1"));
    uint64_t len = 0;
    std::memcpy(&len, bytes.data() + 32, 8);
    const json j = json::parse(bytes.substr(40, len));
    QCOMPARE(j["hook"].get<std::string>(), h.hook);
    QCOMPARE(j["tokens"].get<int64_t>(), h.tokens);
    QCOMPARE(j["format"].get<std::string>(), std::string("saescope-activation-cache"));
  }

  void tokenLimitAndBosCountRows() {
    const std::string path = kOut + "/limit.cache";
    fs::remove(path);
    CacheRequest r = request(path);
    r.max_tokens = 100;  // 6 full windows of 16 and one of 4, BOS counted
    jobs::ProgressSink sink;
    build_activation_cache(r, sink);
    const ActivationCache c = ActivationCache::open(path);
    QCOMPARE(c.header().corpus_tokens, int64_t(100));
    QCOMPARE(c.header().windows, int64_t(7));
    QCOMPARE(c.rows(), int64_t(93));
    QCOMPARE(c.window_first_row(6), int64_t(90));
  }

  // ---- resume --------------------------------------------------------------
  void rerunOfACompleteCacheDoesNothing() {
    const std::string path = kOut + "/complete.cache";
    fs::remove(path);
    jobs::ProgressSink sink;
    build_activation_cache(request(path), sink);
    const auto before = fs::last_write_time(path);
    const std::string bytes = read_bytes(path);
    const CacheOutcome again = build_activation_cache(request(path), sink);
    QVERIFY(again.already_complete);
    QCOMPARE(again.fill.rows, int64_t(0));
    QCOMPARE(read_bytes(path), bytes);
    QVERIFY(fs::last_write_time(path) == before);
  }

  void otherSettingsRefuseToContinue() {
    const std::string path = kOut + "/other.cache";
    fs::remove(path);
    jobs::ProgressSink sink;
    build_activation_cache(request(path), sink);
    CacheRequest r = request(path);
    r.context = 12;
    try {
      build_activation_cache(r, sink);
      QFAIL("continued a cache made with another context");
    } catch (const InputError& e) {
      QVERIFY2(std::string(e.what()).find("context 16 vs 12") != std::string::npos, e.what());
    }
    r = request(path, "bfloat16");
    QVERIFY_THROWS_EXCEPTION(InputError, build_activation_cache(r, sink));
    std::ofstream(kOut + "/not_a_cache.bin") << "hello";
    QVERIFY_THROWS_EXCEPTION(InputError, build_activation_cache(request(kOut + "/not_a_cache.bin"), sink));
  }

  void uncommittedRowsAreDroppedAndRewritten() {
    const std::string path = kOut + "/uncommitted.cache";
    const std::string ref = kOut + "/uncommitted_ref.cache";
    fs::remove(path);
    fs::remove(ref);
    jobs::ProgressSink sink;
    build_activation_cache(request(ref), sink);
    const ActivationCacheHeader h = read_cache_file_info(ref).header;
    {
      // A writer that appended five windows, committed four (one batch), then died.
      ActivationCacheWriter w(path, h);
      const at::Tensor junk = at::full({15, 32}, 7.0f);
      for (int64_t k = 1; k <= 4; ++k) w.append(junk, k);
      w.commit();
      w.append(junk, 5);
    }
    QCOMPARE(read_cache_file_info(path).progress.windows, int64_t(4));
    QCOMPARE(ActivationCache::open(path).rows(), int64_t(60));  // readers see the committed rows only
    {
      ActivationCacheWriter w(path, h);
      QCOMPARE(w.committed().rows, int64_t(60));
      QCOMPARE(static_cast<int64_t>(fs::file_size(path)), read_cache_file_info(path).data_offset + 60 * 64);
    }
    // Resuming rewrites from window 4: rows 0..59 stay the junk the file held.
    CacheRequest r = request(path);
    const CacheOutcome out = build_activation_cache(r, sink);
    QCOMPARE(out.resumed_from.windows, int64_t(4));
    const at::Tensor a = ActivationCache::open(path).activations();
    const at::Tensor b = ActivationCache::open(ref).activations();
    QVERIFY(at::equal(a.slice(0, 60), b.slice(0, 60)));
    QVERIFY(at::equal(a.slice(0, 0, 60), at::full({60, 32}, 7.0f).to(at::kHalf)));
  }

  void damagedProgressRecordIsRefused() {
    const std::string path = kOut + "/damaged.cache";
    fs::remove(path);
    jobs::ProgressSink sink;
    build_activation_cache(request(path), sink);
    {
      std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(16);
      const uint64_t rows = 5;
      f.write(reinterpret_cast<const char*>(&rows), 8);
    }
    try {
      ActivationCache::open(path);
      QFAIL("opened a cache whose progress record is torn");
    } catch (const InputError& e) {
      QVERIFY2(std::string(e.what()).find("damaged") != std::string::npos, e.what());
    }
    build_activation_cache(request(kOut + "/truncated.cache"), sink);
    fs::resize_file(kOut + "/truncated.cache", fs::file_size(kOut + "/truncated.cache") - 10);
    QVERIFY_THROWS_EXCEPTION(InputError, ActivationCache::open(kOut + "/truncated.cache"));
  }

  void resumeAfterKilledCliIsByteIdentical() {
    const std::string ref = kOut + "/kill_ref.cache";
    const std::string path = kOut + "/killed.cache";
    fs::remove(ref);
    fs::remove(path);
    const Cli r0 = run_cli(cache_args(ref, false) << "--json");
    QVERIFY2(r0.code == 0, r0.err.c_str());
    const CacheFileInfo full = read_cache_file_info(ref);

    QProcess p;
    p.setProcessEnvironment(cli_env());
    p.start(SAESCOPE_CLI_PATH, cache_args(path, true));
    QVERIFY(p.waitForStarted());
    bool killed = false;
    int64_t at_kill = 0;
    for (int i = 0; i < 200000 && !killed && p.state() != QProcess::NotRunning; ++i) {
      try {
        const CacheFileInfo info = read_cache_file_info(path);
        if (info.progress.windows >= 3 && info.progress.windows < full.header.windows - 3) {
          p.kill();
          killed = true;
          at_kill = info.progress.windows;
        }
      } catch (const InputError&) {  // not created yet
      }
      if (!killed) QThread::usleep(200);
    }
    p.waitForFinished();
    QVERIFY2(killed, "the cache finished before it could be killed");
    QCOMPARE(p.exitStatus(), QProcess::CrashExit);
    // What the killed process left: a valid prefix of the uninterrupted file.
    const ActivationCache partial = ActivationCache::open(path);
    QVERIFY(!partial.complete());
    QVERIFY(partial.windows() >= at_kill);
    QVERIFY(at::equal(partial.activations(), ActivationCache::open(ref).activations().slice(0, 0, partial.rows())));

    const Cli r1 = run_cli(cache_args(path, true) << "--json");
    QVERIFY2(r1.code == 0, r1.err.c_str());
    const json j = json::parse(r1.out);
    QVERIFY(j["resumed_from_windows"].get<int64_t>() >= at_kill);
    QVERIFY(j["windows_written"].get<int64_t>() < full.header.windows);
    QVERIFY(read_bytes(path) == read_bytes(ref));
  }

  void cliJsonAndBadInput() {
    const std::string path = kOut + "/cli.cache";
    fs::remove(path);
    const QStringList args = {"cache", "--model", q(model_dir_), "--hook", "blocks.0.attn.hook_z", "--corpus",
                              q(corpus_), "--context", "8", "--dtype", "bfloat16", "--include-bos",
                              "--center-writing-weights", "--out", q(path), "--json"};
    const Cli r = run_cli(args);
    QVERIFY2(r.code == 0, r.err.c_str());
    const json j = json::parse(r.out);
    for (const char* k : {"cache", "header", "already_complete", "resumed_from_windows", "tokens_written",
                          "seconds", "tokens_per_s"})
      QVERIFY2(j.contains(k), k);
    QCOMPARE(j["header"]["d_in"].get<int64_t>(), int64_t(32));  // 4 heads x 8, flattened as SAELens does
    QCOMPARE(j["header"]["include_bos"].get<bool>(), true);
    QCOMPARE(j["header"]["center_writing_weights"].get<bool>(), true);
    QCOMPARE(j["tokens_written"].get<int64_t>(), j["header"]["tokens"].get<int64_t>());
    QCOMPARE(json::parse(run_cli(args).out)["already_complete"].get<bool>(), true);

    const Cli bad = run_cli({"cache", "--model", q(model_dir_), "--hook", "blocks.9.hook_resid_pre", "--corpus",
                             q(corpus_), "--out", q(kOut + "/bad.cache")});
    QCOMPARE(bad.code, 2);
    QVERIFY2(bad.err.find("blocks.9.hook_resid_pre") != std::string::npos, bad.err.c_str());
    const Cli pattern = run_cli({"cache", "--model", q(model_dir_), "--hook", "blocks.0.attn.hook_pattern",
                                 "--corpus", q(corpus_), "--out", q(kOut + "/bad.cache")});
    QCOMPARE(pattern.code, 2);
    QVERIFY(!fs::exists(kOut + "/bad.cache"));
  }

  // ---- streaming -----------------------------------------------------------
  void shuffledStreamVisitsEveryRowOncePerEpoch() {
    const ActivationCache cache = numbered_cache(kOut + "/numbered.cache", 40, 25);  // 1000 rows
    CacheStreamOptions o;
    o.chunk_rows = 16;
    o.buffer_rows = 64;
    o.epochs = 3;
    o.seed = 7;
    CacheActivationSource s(cache, o);
    std::vector<int64_t> seen;
    while (true) {
      const at::Tensor b = s.next_batch(37);
      QCOMPARE(b.scalar_type(), at::kFloat);
      if (b.size(0) == 0) break;
      QVERIFY(b.size(0) == 37 || seen.size() + static_cast<size_t>(b.size(0)) == 3000);
      for (int64_t id : row_ids(b)) seen.push_back(id);
    }
    QCOMPARE(seen.size(), size_t(3000));
    QCOMPARE(s.epoch(), int64_t(3));
    std::vector<std::vector<int64_t>> epochs;
    for (int e = 0; e < 3; ++e) {
      std::vector<int64_t> ep(seen.begin() + e * 1000, seen.begin() + (e + 1) * 1000);
      std::vector<int64_t> sorted = ep;
      std::sort(sorted.begin(), sorted.end());
      for (int64_t i = 0; i < 1000; ++i) QCOMPARE(sorted[static_cast<size_t>(i)], i);
      epochs.push_back(ep);
    }
    QVERIFY(epochs[0] != epochs[1]);  // reshuffled every epoch
    int64_t in_place = 0, adjacent = 0;
    for (int64_t i = 0; i < 1000; ++i) in_place += epochs[0][static_cast<size_t>(i)] == i;
    for (int64_t i = 1; i < 1000; ++i)
      adjacent += epochs[0][static_cast<size_t>(i)] == epochs[0][static_cast<size_t>(i - 1)] + 1;
    QVERIFY2(in_place < 50 && adjacent < 50, "the stream is hardly shuffled");
    // Rows far apart in the cache meet within a buffer: chunk order is shuffled too.
    const auto first_buffer = std::minmax_element(epochs[0].begin(), epochs[0].begin() + 64);
    QVERIFY(*first_buffer.second - *first_buffer.first > 64);

    CacheActivationSource same(cache, o);
    QVERIFY(row_ids(same.next_batch(1000)) == epochs[0]);
    o.seed = 8;
    CacheActivationSource other(cache, o);
    QVERIFY(row_ids(other.next_batch(1000)) != epochs[0]);
  }

  void streamRangesOrderAndEndlessEpochs() {
    const ActivationCache cache = numbered_cache(kOut + "/numbered.cache", 40, 25);
    CacheStreamOptions o;
    o.shuffle = false;
    o.first_row = 100;
    o.rows = 250;
    CacheActivationSource plain(cache, o);
    std::vector<int64_t> want(250);
    for (int64_t i = 0; i < 250; ++i) want[static_cast<size_t>(i)] = 100 + i;
    QVERIFY(row_ids(plain.next_batch(1000)) == want);
    QCOMPARE(plain.next_batch(10).size(0), int64_t(0));

    o.shuffle = true;
    o.epochs = 0;
    o.chunk_rows = 32;
    CacheActivationSource endless(cache, o);
    std::vector<int64_t> ids = row_ids(endless.next_batch(750));
    QCOMPARE(ids.size(), size_t(750));
    std::multiset<int64_t> counts(ids.begin(), ids.end());
    for (int64_t i = 100; i < 350; ++i) QCOMPARE(counts.count(i), size_t(3));

    o.rows = 951;  // past the end
    QVERIFY_THROWS_EXCEPTION(InputError, CacheActivationSource(cache, o));
  }

  void holdoutSplitsAtAWindow() {
    const ActivationCache cache = numbered_cache(kOut + "/numbered.cache", 40, 25);
    QCOMPARE(holdout_first_row(cache, 0.1), int64_t(36 * 25));
    QCOMPARE(holdout_first_row(cache, 0.01), int64_t(39 * 25));  // at least one window
    QCOMPARE(holdout_first_row(cache, 1.0), int64_t(0));
    QCOMPARE(holdout_first_row(cache, 0.0), int64_t(1000));
    QVERIFY_THROWS_EXCEPTION(InputError, holdout_first_row(cache, 1.5));
  }
};

QTEST_GUILESS_MAIN(TestActivationCache)
#include "test_activation_cache.moc"
