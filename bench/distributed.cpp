// bench_distributed: what data-parallel training costs on this machine.
//
//   1. Allreduce bandwidth between 2 processes on loopback (64 MB of float32,
//      best of 3): bytes of the buffer / time.
//   2. SAE training (standard, batch 4096, d_in 768, d_sae 6144, the
//      sae_train bench's shape): 2 ranks × 1 thread against 1 process × 2
//      threads on the same batches (goal ≥ 0.9), with the bytes each rank
//      sends per step.
//   3. Feature harvest (bench_harvest's: a GPT-2-small-shaped random model,
//      a 24,576-feature SAE at blocks.8.hook_resid_pre, windows of 128,
//      batches of 8, logit effects left out as there): 2 ranks x 1 thread
//      against 1 process x 2 threads over the same windows (goal >= 0.9),
//      whole harvest_features calls (3 passes, merges, rows written by rank
//      0), with the bytes rank 0 sends in each pass.
// Ranks are this program started again with torchrun's variables (as
// `saescope-cli launch` does); each prints a line the parent reads.
//
// Usage: bench_distributed [--steps 6] [--warmup 2] [--harvest-tokens 8192]
#include <ATen/ATen.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <thread>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "bench/harvest_fixture.h"
#include "core/analysis/feature_harvest.h"
#include "core/common/progress.h"
#include "core/model/gpt2/gpt2.h"
#include "core/store/workspace.h"
#include "core/common/process_setup.h"
#include "bench/constant_source.h"
#include "core/common/runtime_info.h"
#include "core/distributed/process_group.h"
#include "core/sae/activation_source.h"
#include "core/sae/sae_trainer.h"

using namespace saescope;

SAESCOPE_PASSIVE_OPENMP_AT_LOAD

namespace {

constexpr int64_t kBatch = 4096, kDIn = 768, kDSae = 6144;

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

using bench::ConstantSource;

// Tokens/s of the timed steps (after `warmup`), and bytes sent per step.
std::pair<double, double> train(int warmup, int steps) {
  at::manual_seed(0);
  ConstantSource src(at::randn({kBatch, kDIn}));
  sae::TrainOptions o;
  o.architecture = sae::Architecture::Standard;
  o.d_sae = kDSae;
  o.batch_size = kBatch;
  o.total_tokens = static_cast<int64_t>(warmup + steps) * kBatch;
  o.l1_coefficient = 5.0;
  o.b_dec_init = sae::BDecInit::Mean;
  o.progress_every_steps = 1;
  std::vector<double> at_step;
  double bytes_at_warmup = 0;
  sae::train_sae(src, o, [&](const sae::TrainProgress&) {
    at_step.push_back(now_s());
    if (static_cast<int>(at_step.size()) == warmup && dist::world()) bytes_at_warmup = dist::world()->bytes_sent();
  });
  const double elapsed = at_step.back() - at_step[static_cast<size_t>(warmup) - 1];
  const double bytes = dist::world() ? (dist::world()->bytes_sent() - bytes_at_warmup) / steps : 0;
  return {static_cast<double>(steps) * kBatch / elapsed, bytes};
}

// Tokens/s of a whole harvest of `tokens` (as one process, or this rank of
// the world), and the bytes this process sent in each pass.
std::map<std::string, double> harvest(int64_t tokens) {
  const model::Gpt2Config config = model::gpt2_small_config();
  const model::Gpt2 m(config, model::random_gpt2_weights(config, 0));
  const sae::Sae s = bench::sparse_random_sae(m, bench::random_windows(8, 99));
  dist::ProcessGroup* g = dist::world();
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("saescope_bench_dist_harvest_" + std::to_string(g ? g->size() : 1))).string();
  std::unique_ptr<store::Workspace> ws;
  if (!g || g->is_root()) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    ws = store::Workspace::open(dir + "/bench.saescope");
  }
  const std::string key = store::Workspace::result_key("harvest", {"bench"}, {{"tokens", tokens}});
  const int64_t id =
      ws ? ws->begin_result(key, "harvest", std::nullopt, std::nullopt, std::nullopt, {{"tokens", tokens}}) : 0;
  analysis::VectorWindowSource source(bench::random_windows(tokens / bench::kContext, 7));
  analysis::HarvestInputs in;
  in.model = &m;
  in.windows = &source;
  in.context = bench::kContext;
  in.group = g;
  analysis::HarvestOptions options;
  options.logit_effects = 0;
  jobs::ProgressSink quiet;
  if (g) g->barrier("lining up");
  const double t0 = now_s();
  const analysis::HarvestReport r = analysis::harvest_features(ws.get(), dir + "/bench.saescope", in,
                                                               {{&s, s.config().meta.hook_name, id, key}}, options, quiet);
  const double seconds = now_s() - t0;
  if (ws) std::filesystem::remove_all(dir);
  return {{"tokens_per_s", static_cast<double>(r.tokens) / seconds},
          {"sent_pass1", r.sent_bytes[0]},
          {"sent_pass2", r.sent_bytes[1]},
          {"sent_pass3", r.sent_bytes[2]},
          {"pass1_s", r.pass_seconds[0]},
          {"pass2_s", r.pass_seconds[1]},
          {"pass3_s", r.pass_seconds[2]},
          {"write_s", r.write_seconds}};
}

int64_t g_harvest_tokens = 8192;

int rank_main(const std::string& what, int warmup, int steps) {
  dist::ProcessGroup* g = dist::join_from_environment(std::chrono::minutes(5));
  if (what == "allreduce") {
    at::Tensor t = at::ones({16 << 20}, at::kFloat);  // 64 MB
    g->allreduce_sum(t, "warm-up");
    double best = 1e300;
    for (int i = 0; i < 3; ++i) {
      g->barrier("lining up");
      const double t0 = now_s();
      g->allreduce_sum(t, "timed allreduce");
      best = std::min(best, now_s() - t0);
    }
    if (g->is_root()) std::printf("allreduce_gb_per_s %.4f\n", static_cast<double>(t.nbytes()) / best / 1e9);
  } else if (what == "harvest") {
    const auto r = harvest(g_harvest_tokens);
    if (g->is_root())
      for (const auto& [name, value] : r) std::printf("%s %.3f\n", name.c_str(), value);
  } else {
    const auto [tokens_per_s, bytes] = train(warmup, steps);
    if (g->is_root()) std::printf("tokens_per_s %.3f\nbytes_per_step %.0f\n", tokens_per_s, bytes);
  }
  return 0;
}

// Runs this program as `ranks` ranks of `what` with `threads` each; rank 0's lines.
std::map<std::string, double> run_ranks(const std::string& self, const std::string& what, int ranks, int threads,
                                        int warmup, int steps, int port) {
  const std::string cmd = "env WORLD_SIZE=" + std::to_string(ranks) + " MASTER_ADDR=127.0.0.1 MASTER_PORT=" +
                          std::to_string(port) + " OMP_WAIT_POLICY=passive bash -c 'for r in $(seq 0 " +
                          std::to_string(ranks - 1) + "); do RANK=$r LOCAL_RANK=$r " + self + " --rank-of " + what +
                          " --threads " + std::to_string(threads) + " --warmup " + std::to_string(warmup) +
                          " --steps " + std::to_string(steps) + " --harvest-tokens " +
                          std::to_string(g_harvest_tokens) + " & done; wait' 2>/dev/null";
  return bench::run_and_parse(cmd);
}

}  // namespace

int main(int argc, char** argv) {
  saescope::ensure_passive_openmp(argv);
  int warmup = 2, steps = 6, threads = 0;
  std::string rank_of;
  for (int i = 1; i + 1 < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--steps") steps = std::stoi(argv[++i]);
    else if (a == "--warmup") warmup = std::stoi(argv[++i]);
    else if (a == "--threads") threads = std::stoi(argv[++i]);
    else if (a == "--rank-of") rank_of = argv[++i];
    else if (a == "--harvest-tokens") g_harvest_tokens = std::stoll(argv[++i]);
  }
  set_engine_threads(threads);
  if (!rank_of.empty()) return rank_main(rank_of, warmup, steps);
  if (!dist::available()) {
    std::printf("this build has no c10d Gloo (libgloo-dev): nothing to measure\n");
    return 0;
  }
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const int port = 29700 + static_cast<int>(::getpid() % 200);
  std::printf("bench_distributed: libtorch %s, %d hardware threads\n\n", runtime_info().torch_version.c_str(),
              static_cast<int>(std::thread::hardware_concurrency()));
  const auto ar = run_ranks(self, "allreduce", 2, 1, warmup, steps, port);
  if (ar.count("allreduce_gb_per_s"))
    std::printf("allreduce, 2 processes, 64 MB float32 on loopback: %.2f GB/s (buffer bytes / time)\n",
                ar.at("allreduce_gb_per_s"));
  set_engine_threads(2);
  const auto [single, _] = train(warmup, steps);
  const auto two = run_ranks(self, "train", 2, 1, warmup, steps, port + 1);
  std::printf("SAE training (standard, batch %lld, d_in %lld, d_sae %lld), %d timed steps:\n",
              static_cast<long long>(kBatch), static_cast<long long>(kDIn), static_cast<long long>(kDSae), steps);
  std::printf("  1 process x 2 threads:  %9.1f tokens/s\n", single);
  if (!two.count("tokens_per_s")) {
    std::printf("  2 ranks did not run\n");
    return 1;
  }
  std::printf("  2 ranks x 1 thread:     %9.1f tokens/s  (%.3f of one process; goal >= 0.9)\n", two.at("tokens_per_s"),
              two.at("tokens_per_s") / single);
  std::printf("  sent per step by each rank: %.1f MB (the gradients' %.1f MB, ring allreduce)\n",
              two.at("bytes_per_step") / 1e6, (2.0 * kDIn * kDSae + kDSae + kDIn) * 4 / 1e6);

  set_engine_threads(2);
  const auto one = harvest(g_harvest_tokens);
  const auto ranks = run_ranks(self, "harvest", 2, 1, warmup, steps, port + 2);
  std::printf("\nFeature harvest (GPT-2-small shape, %lld features at blocks.%lld, %lld tokens, logit effects aside):\n",
              static_cast<long long>(bench::kDSae), static_cast<long long>(bench::kLayer),
              static_cast<long long>(g_harvest_tokens));
  const auto passes = [](const std::map<std::string, double>& r) {
    std::printf("  (passes %.1f s, %.1f s, %.1f s, of which writing rows %.1f s)\n", r.at("pass1_s"), r.at("pass2_s"),
                r.at("pass3_s"), r.at("write_s"));
  };
  std::printf("  1 process x 2 threads:  %9.1f tokens/s\n", one.at("tokens_per_s"));
  passes(one);
  if (!ranks.count("tokens_per_s")) {
    std::printf("  2 ranks did not run\n");
    return 1;
  }
  std::printf("  2 ranks x 1 thread:     %9.1f tokens/s  (%.3f of one process; goal >= 0.9)\n",
              ranks.at("tokens_per_s"), ranks.at("tokens_per_s") / one.at("tokens_per_s"));
  passes(ranks);
  std::printf("  sent by rank 0: pass 1 %.1f MB, pass 2 %.1f MB, pass 3 %.1f MB (merges and examples)\n",
              ranks.at("sent_pass1") / 1e6, ranks.at("sent_pass2") / 1e6, ranks.at("sent_pass3") / 1e6);
  return 0;
}
