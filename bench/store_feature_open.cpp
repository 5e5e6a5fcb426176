// Feature-page latency of the workspace store at GPT-2-small scale: an SAE of
// 24,576 features, 20 top + 50 interval examples each over 128-token windows.
// Prints the median time to open one feature's page and to list/sort all
// features, against the baseline of reading the same rows with a full scan
// (no index) so the ratio shows what the schema buys.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>

#include "core/store/feature_store.h"
#include "core/store/workspace.h"

using namespace saescope::store;
using Clock = std::chrono::steady_clock;

static double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

int main(int argc, char** argv) {
  const int n_features = argc > 1 ? std::atoi(argv[1]) : 24576;
  const int top = 20, samples = 50, ctx = 128;
  const std::string path = "/tmp/saescope-bench-store.saescope";
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  auto ws = Workspace::open(path);
  ws->db().exec("INSERT INTO inputs (id, kind, path, content_hash) VALUES (1, 'model', '/m', 'h')");
  ws->db().exec("INSERT INTO results (id, key, kind, status) VALUES (1, 'k', 'harvest', 'done')");
  FeatureStore store(ws->db());
  std::mt19937 rng(1);
  std::uniform_int_distribution<int> tok(0, 50256);
  std::uniform_real_distribution<float> act(0.0f, 10.0f);
  const auto t_write = Clock::now();
  {
    Transaction tx(ws->db());
    std::vector<std::string> vocab(50257);
    for (size_t i = 0; i < vocab.size(); ++i) vocab[i] = "t" + std::to_string(i);
    store.put_vocab(1, vocab);
    // Windows are shared between features; a harvest keeps each once.
    const int n_windows = n_features * 8;
    std::vector<int32_t> tokens(ctx);
    for (int w = 0; w < n_windows; ++w) {
      for (auto& t : tokens) t = tok(rng);
      store.put_window(1, w, tokens);
    }
    for (int f = 0; f < n_features; ++f) {
      store.put_feature(1, {f, 100, act(rng) / 1000, act(rng), 1.0, "t1 t2 t3"},
                        {std::vector<float>(51, 1.0f), std::vector<int64_t>(50, 3)});
      for (int e = 0; e < top + samples; ++e) {
        FeatureExample ex;
        ex.kind = e < top ? ExampleKind::Top : ExampleKind::Interval;
        ex.rank = e < top ? e : (e - top) % 5;
        ex.interval = e < top ? -1 : (e - top) / 5;
        ex.window = (f * 7 + e * 13) % n_windows;
        ex.activations.assign(ctx, 0.0f);
        for (int k = 0; k < 12; ++k) ex.activations[static_cast<size_t>(rng() % ctx)] = act(rng);
        store.put_example(1, f, ex);
      }
      for (int i = 0; i < 10; ++i) store.put_interval(1, f, {i, i * 1.0f, i + 1.0f, 0.1f});
      for (int r = 0; r < 10; ++r) {
        store.put_logit_effect(1, f, {1, r, tok(rng), act(rng), {}});
        store.put_logit_effect(1, f, {-1, r, tok(rng), -act(rng), {}});
      }
    }
    tx.commit();
  }
  ws->db().exec("PRAGMA wal_checkpoint(TRUNCATE)");
  std::printf("wrote %d features in %.1f s, file %.1f MB\n", n_features, ms_since(t_write) / 1000,
              std::filesystem::file_size(path) / 1e6);
  ws.reset();

  auto fresh = Workspace::open(path);  // cold-ish: new connection, statements unprepared
  FeatureStore reader(fresh->db());
  std::vector<double> open_ms;
  for (int i = 0; i < 50; ++i) {
    const int f = static_cast<int>(rng() % n_features);
    const auto t = Clock::now();
    auto page = reader.page(1, f, int64_t(1));
    open_ms.push_back(ms_since(t));
    if (!page || page->top.size() != size_t(top) || page->interval_samples.size() != size_t(samples))
      return std::fprintf(stderr, "bad page for feature %d\n", f), 1;
  }
  std::sort(open_ms.begin(), open_ms.end());
  std::vector<double> list_ms;
  for (auto sort : {FeatureSort::Density, FeatureSort::MaxActivation, FeatureSort::Density}) {
    const auto t = Clock::now();
    auto all = reader.list(1, sort, true);
    list_ms.push_back(ms_since(t));
    if (all.size() != size_t(n_features)) return 1;
  }
  std::sort(list_ms.begin(), list_ms.end());
  // Baseline: the same page's examples found without the primary-key index.
  const auto t_scan = Clock::now();
  {
    Statement s = fresh->db().prepare(
        "SELECT count(*) FROM examples NOT INDEXED WHERE +result_id = 1 AND +feature = ?");
    s.bind(1, int64_t(n_features / 2));
    s.step();
  }
  const double scan_ms = ms_since(t_scan);
  std::printf("open feature page (20 top + 50 interval examples): median %.2f ms, max %.2f ms"
              " (target <= 20 ms)\n", open_ms[open_ms.size() / 2], open_ms.back());
  std::printf("list + sort all %d features: median %.1f ms (target <= 50 ms)\n", n_features,
              list_ms[1]);
  std::printf("baseline full-scan lookup of one feature's examples: %.1f ms; ratio scan/open %.0fx\n",
              scan_ms, scan_ms / open_ms[open_ms.size() / 2]);
  return 0;
}
