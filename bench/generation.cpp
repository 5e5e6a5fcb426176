// bench_generation: greedy generation on a random GPT-2 small, 64 new tokens
// after a 16-token prompt (the steering issue's §5).
//
//  1. With the KV cache against PyTorch eager doing the same math with a
//     cache (bench/generation_torch.py, /usr/bin/python3): goal ≥ 1.0.
//  2. With the KV cache against recomputing the whole sequence at each step
//     (the same generate(), use_cache false): goal ≥ 5.
// Rounds alternate the three, so a busy spell hits all of them; each figure
// is the best over the rounds.
//
// Usage: bench_generation [--threads N] [--rounds 3] [--new 64] [--skip-torch]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "bench/bench_common.h"
#include "core/common/process_setup.h"
#include "core/common/runtime_info.h"
#include "core/model/generation.h"
#include "core/model/gpt2/gpt2.h"

using namespace saescope;
using namespace saescope::model;

SAESCOPE_PASSIVE_OPENMP_AT_LOAD

int main(int argc, char** argv) {
  saescope::ensure_passive_openmp(argv);
  int threads = 0, rounds = 3;
  int64_t new_tokens = 64;
  bool skip_torch = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--threads" && i + 1 < argc) threads = std::stoi(argv[++i]);
    if (arg == "--rounds" && i + 1 < argc) rounds = std::stoi(argv[++i]);
    if (arg == "--new" && i + 1 < argc) new_tokens = std::stoll(argv[++i]);
    if (arg == "--skip-torch") skip_torch = true;
  }
  set_engine_threads(threads);
  threads = at::get_num_threads();
  const RuntimeInfo info = runtime_info();
  std::printf("libtorch %s, BLAS %s, %d threads, best of %d rounds\n\n", info.torch_version.c_str(),
              info.blas_library.c_str(), threads, rounds);

  const Gpt2Config config = gpt2_small_config();
  const Gpt2 model(config, random_gpt2_weights(config, 0));
  GenerationRequest request;
  at::manual_seed(0);
  const at::Tensor prompt = at::randint(config.vocab_size, {16}, at::kLong);
  request.prompt = std::vector<int64_t>(prompt.data_ptr<int64_t>(), prompt.data_ptr<int64_t>() + 16);
  request.max_new_tokens = new_tokens;
  request.stop_at_eos = false;
  const auto time_generation = [&](bool cache) {
    request.use_cache = cache;
    return bench::best_seconds(1, [&] { generate(model, request); });
  };
  const std::string torch_command = "/usr/bin/python3 " + std::string(SAESCOPE_BENCH_DIR) +
                                    "/generation_torch.py --threads " + std::to_string(threads) +
                                    " --new " + std::to_string(new_tokens) + " --repeats 1 2>/dev/null";
  double cached_s = 1e300, recomputed_s = 1e300, torch_tokens_per_s = 0;
  for (int round = 0; round < rounds; ++round) {
    cached_s = std::min(cached_s, time_generation(true));
    recomputed_s = std::min(recomputed_s, time_generation(false));
    if (!skip_torch) {
      const auto torch = bench::run_and_parse(torch_command);
      if (torch.count("best_tokens_per_s"))
        torch_tokens_per_s = std::max(torch_tokens_per_s, torch.at("best_tokens_per_s"));
    }
  }
  const double n = static_cast<double>(new_tokens);
  std::printf("SAEScope, KV cache:            %8.2f new tokens/s  (%.3f s for %lld)\n", n / cached_s, cached_s,
              static_cast<long long>(new_tokens));
  std::printf("SAEScope, recomputing:         %8.2f new tokens/s  (%.3f s)\n", n / recomputed_s, recomputed_s);
  std::printf("  cache / recompute:           %8.2f  (goal >= 5)\n", recomputed_s / cached_s);
  if (skip_torch) return 0;
  if (torch_tokens_per_s <= 0) {
    std::printf("PyTorch eager baseline did not run (/usr/bin/python3 with torch needed)\n");
    return 0;
  }
  std::printf("PyTorch eager, KV cache:       %8.2f new tokens/s\n", torch_tokens_per_s);
  std::printf("  SAEScope / PyTorch eager:    %8.3f  (goal >= 1.0)\n", (n / cached_s) / torch_tokens_per_s);
  return 0;
}
