// bench_activation_cache: activation-cache write speed and SAE evaluation
// speed on a GPT-2-small-shaped random model (12 x 768, vocab 50257), hook
// blocks.8.hook_resid_pre, windows of 128 random tokens, 8 windows a batch.
//
//  1. Cache write (fill_activation_cache: forward to the hook, BOS dropped,
//     float16 rows appended, committed with fdatasync at the end) in
//     tokens/s, against the bare forward pass to the same hook over the same
//     windows (the baseline: what the cache cannot avoid). Ratio = overhead.
//  2. SAE evaluation (evaluate_sae_on_windows: clean, SAE-spliced and
//     zero-ablated passes to the logits, CE of each, a 24,576-feature random
//     SAE) in tokens/s, against three bare forward passes to the logits.
//  3. Activation metrics of the same SAE read back from the cache
//     (run_sae_eval_on_cache): the model-free path a sweep uses.
// Rounds alternate (best of each) because the machine is shared.
//
// Usage: bench_activation_cache [--tokens N] [--eval-tokens N] [--threads N]
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include "bench/harvest_fixture.h"
#include "core/corpus/window_source.h"
#include "core/common/runtime_info.h"
#include "core/common/progress.h"
#include "core/model/gpt2/gpt2.h"
#include "core/sae/activation_cache_writer.h"
#include "core/sae/sae.h"
#include "core/sae/sae_evaluation.h"
#include "core/workflows/sae_evaluation_request.h"
#include "core/sae/sae_folder.h"

using namespace saescope;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int64_t kContext = bench::kContext, kBatch = 8, kDSae = bench::kDSae;
const std::string kHook = "blocks.8.hook_resid_pre";

using bench::random_windows;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double bare_forward(const model::LanguageModel& m, const std::vector<std::vector<int32_t>>& windows,
                    const std::string& until, int passes) {
  c10::InferenceMode guard;
  const auto t0 = Clock::now();
  for (size_t i = 0; i < windows.size(); i += kBatch) {
    std::vector<std::vector<int64_t>> seqs;
    for (size_t j = i; j < std::min(windows.size(), i + kBatch); ++j)
      seqs.emplace_back(windows[j].begin(), windows[j].end());
    const auto tb = model::make_token_batch(seqs, m.info(), false);
    for (int p = 0; p < passes; ++p) {
      const at::Tensor v = m.run(tb, {{until}, {}}).hooks.at(until);
      (void)v.sum().item<float>();  // the work is done, not deferred
    }
  }
  return seconds_since(t0);
}

// Random, but about as sparse as a trained SAE: each feature's threshold is
// 2.5 standard deviations of its pre-activation over calibration tokens.
sae::Sae random_sae(const model::LanguageModel& m, const std::vector<int32_t>& calib) {
  const int64_t d = m.info().d_model;
  at::manual_seed(3);
  sae::SaeConfig cfg;
  cfg.architecture = sae::Architecture::Standard;
  cfg.d_in = d;
  cfg.d_sae = kDSae;
  cfg.meta.hook_name = kHook;
  cfg.center_writing_weights = false;
  cfg.center_writing_weights_source = "model_from_pretrained_kwargs";
  sae::SaeWeights w;
  w.W_enc = at::randn({d, kDSae}) / std::sqrt(static_cast<double>(d));
  w.W_dec = at::randn({kDSae, d}) * 0.01;
  w.b_dec = at::zeros({d});
  c10::InferenceMode guard;
  const std::vector<int64_t> ids(calib.begin(), calib.end());
  const at::Tensor x = m.run(model::make_token_batch({ids}, m.info(), false), {{kHook}, {}}).hooks.at(kHook)[0];
  w.b_enc = (-2.5 * at::matmul(x.slice(0, 1), w.W_enc).std(0)).contiguous();
  return sae::Sae(cfg, w, "bench");
}

}  // namespace

int main(int argc, char** argv) {
  int64_t tokens = 4096, eval_tokens = 1024;
  int threads = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--tokens")) tokens = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--eval-tokens")) eval_tokens = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
  }
  set_engine_threads(threads);
  const RuntimeInfo info = runtime_info();
  std::printf("threads %d blas %s\n", info.intra_op_threads, info.blas_library.c_str());

  const model::Gpt2Config cfg = model::gpt2_small_config();
  const model::Gpt2 m(cfg, model::random_gpt2_weights(cfg, 1));
  const auto windows = random_windows(tokens / kContext, 7);
  const auto eval_windows = random_windows(eval_tokens / kContext, 8);
  const std::string dir = (std::filesystem::temp_directory_path() / "bench_activation_cache").string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string cache_path = dir + "/bench.cache";

  // 1. Cache write vs the bare forward to the hook.
  double best_cache = 1e30, best_bare = 1e30;
  int64_t rows = 0;
  for (int round = 0; round < 2; ++round) {
    best_bare = std::min(best_bare, bare_forward(m, windows, kHook, 1));
    std::filesystem::remove(cache_path);
    sae::ActivationCacheHeader h;
    h.hook = kHook;
    h.d_in = cfg.d_model;
    h.context = kContext;
    h.windows = static_cast<int64_t>(windows.size());
    h.tokens = h.windows * (kContext - 1);
    analysis::VectorWindowSource source(windows);
    jobs::ProgressSink quiet;
    const auto t0 = Clock::now();
    sae::ActivationCacheWriter writer(cache_path, h);
    const sae::CacheFillReport r = sae::fill_activation_cache(m, source, writer, {kBatch, 0, 30}, quiet);
    best_cache = std::min(best_cache, seconds_since(t0));
    rows = r.rows;
  }
  std::printf("cache_tokens %lld\n", static_cast<long long>(rows));
  std::printf("cache_write_tokens_per_s %.1f\n", static_cast<double>(rows) / best_cache);
  std::printf("bare_forward_to_hook_tokens_per_s %.1f\n", static_cast<double>(rows) / best_bare);
  std::printf("cache_vs_bare_forward_ratio %.3f\n", best_bare / best_cache);
  std::printf("cache_file_bytes %lld\n", static_cast<long long>(std::filesystem::file_size(cache_path)));

  // 2. SAE evaluation (3 passes + CE + SAE) vs three bare forwards to the logits.
  const sae::Sae s = random_sae(m, windows[0]);
  double best_eval = 1e30, best_three = 1e30;
  sae::SaeEvaluation e;
  for (int round = 0; round < 2; ++round) {
    best_three = std::min(best_three, bare_forward(m, eval_windows, "logits", 3));
    analysis::VectorWindowSource source(eval_windows);
    sae::SaeEvalOptions o;
    o.batch_windows = kBatch;
    const auto t0 = Clock::now();
    e = sae::evaluate_sae_on_windows(m, s, source, o);
    best_eval = std::min(best_eval, seconds_since(t0));
  }
  const double eval_rows = static_cast<double>(e.reconstruction.tokens);
  std::printf("eval_tokens %lld l0 %.1f ce_clean %.4f ce_sae %.4f ce_zero %.4f recovered %.4f\n",
              static_cast<long long>(e.reconstruction.tokens), e.reconstruction.l0, e.ce.clean, e.ce.sae,
              e.ce.zero, sae::ce_loss_recovered(e.ce));
  std::printf("sae_eval_tokens_per_s %.1f\n", eval_rows / best_eval);
  std::printf("three_bare_forwards_to_logits_tokens_per_s %.1f\n", eval_rows / best_three);
  std::printf("sae_eval_vs_three_forwards_ratio %.3f\n", best_three / best_eval);

  // 3. The model-free path: activation metrics from the cache.
  sae::save_sae(s, dir + "/sae");
  const auto t0 = Clock::now();
  const sae::SaeEvalOutcome c = sae::run_sae_eval_on_cache(dir + "/sae", cache_path, 1.0, 0, {});
  const double cache_eval_s = seconds_since(t0);
  std::printf("cache_eval_tokens_per_s %.1f (activation metrics only, %lld tokens, l0 %.1f)\n",
              static_cast<double>(c.metrics["tokens"].get<int64_t>()) / cache_eval_s,
              static_cast<long long>(c.metrics["tokens"].get<int64_t>()), c.metrics["l0"].get<double>());
  std::filesystem::remove_all(dir);
  return 0;
}
