// bench_model_forward: GPT-2-small forward pass speed and loading memory.
//
//  1. float32 matmul FLOP/s of this machine (a big at::matmul): the ceiling.
//  2. tokens/s of a random GPT-2-small (12 x 768, 12 heads, vocab 50257)
//     on 8 x 128 tokens up to blocks.11.hook_resid_post; achieved FLOP/s over
//     the ceiling (goal >= 0.6).
//  3. The same computation in PyTorch eager (bench/model_forward_torch.py
//     with /usr/bin/python3, same threads and shapes): ratio (goal >= 1.0).
//  4. Early exit: time to blocks.3.hook_resid_post / time to blocks.11
//     (goal <= 0.40).
//  5. bfloat16 tokens/s, for information.
//  6. Peak memory of loading a GPT-2-small F32 checkpoint written to /tmp,
//     measured as the VmHWM rise in a fresh child process / weight bytes
//     (goal <= 1.5); also after a first forward pass that touches every weight.
// Times are the best of --rounds x --repeats runs (the machine may be shared).
//
// Usage: bench_model_forward [--threads N] [--rounds 3] [--repeats 3] [--skip-torch] [--skip-load]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "core/common/runtime_info.h"
#include "core/io/safetensors.h"
#include "bench/bench_common.h"
#include "core/common/process_setup.h"
#include "core/model/gpt2/gpt2.h"

using namespace saescope;
using namespace saescope::model;
using Clock = std::chrono::steady_clock;

SAESCOPE_PASSIVE_OPENMP_AT_LOAD

namespace {

using bench::best_seconds;
using bench::matmul_flops;
using bench::run_and_parse;
using bench::vm_hwm_kb;

// Multiply-adds of the blocks (QKV, attention output, MLP in/out, and the
// full T x T score and mixing matmuls that run), counted as 2 FLOPs each.
double forward_flops(const Gpt2Config& c, int64_t batch, int64_t seq, int64_t blocks) {
  const double d = static_cast<double>(c.d_model), tokens = static_cast<double>(batch * seq);
  const double dense = 2.0 * tokens * (3 * d * d + d * d + 2 * d * static_cast<double>(c.d_mlp));
  const double attention = 2.0 * 2.0 * tokens * static_cast<double>(seq) * d;
  return static_cast<double>(blocks) * (dense + attention);
}

// Child mode: load `dir`, report the high-water mark before, after loading
// and after a first forward pass (16 tokens, up to the logits).
int child_load(const std::string& dir) {
  const int64_t before = vm_hwm_kb();
  const auto t0 = Clock::now();
  const auto model = Gpt2::load(dir);
  const double load_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const int64_t loaded = vm_hwm_kb();
  model->run(make_token_batch({std::vector<int64_t>(15, 464)}, model->info()), {{"logits"}, {}});
  std::cout << "hwm_before_kb " << before << "\nhwm_loaded_kb " << loaded << "\nhwm_forward_kb "
            << vm_hwm_kb() << "\nload_s " << load_s << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  saescope::ensure_passive_openmp(argv);  // as the apps run (process_setup.h); the baseline inherits it
  int threads = 0, repeats = 3, rounds = 3;
  bool skip_torch = false, skip_load = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--child-load" && i + 1 < argc) return child_load(argv[++i]);
    if (arg == "--threads" && i + 1 < argc) threads = std::stoi(argv[++i]);
    if (arg == "--repeats" && i + 1 < argc) repeats = std::stoi(argv[++i]);
    if (arg == "--rounds" && i + 1 < argc) rounds = std::stoi(argv[++i]);
    if (arg == "--skip-torch") skip_torch = true;
    if (arg == "--skip-load") skip_load = true;
  }
  set_engine_threads(threads);
  threads = at::get_num_threads();
  const RuntimeInfo info = runtime_info();
  // libgomp's idle workers spin by default and fight OpenBLAS-pthread's own
  // GEMM threads for the cores: with > 1 intra-op thread both slow down a lot.
  if (threads > 1 && !std::getenv("OMP_WAIT_POLICY") && info.blas_library.find("pthread") != std::string::npos)
    std::printf("note: OpenMP threads + OpenBLAS-pthread without OMP_WAIT_POLICY=passive contend "
                "for the cores; compare with OMP_WAIT_POLICY=passive or --threads 1\n");
  std::printf("libtorch %s, BLAS %s, %d threads, best of %d rounds x %d runs\n\n",
              info.torch_version.c_str(), info.blas_library.c_str(), threads, rounds, repeats);

  const Gpt2Config config = gpt2_small_config();
  const int64_t B = 8, T = 128;
  const Gpt2 model(config, random_gpt2_weights(config, 0));
  const TokenBatch batch{at::randint(config.vocab_size, {B, T}, at::kLong), std::vector<int64_t>(B, T)};
  const auto time_to = [&](const std::string& hook) {
    return best_seconds(repeats, [&] { model.run(batch, {{hook}, {}}); });
  };
  const std::string torch_command = "/usr/bin/python3 " + std::string(SAESCOPE_BENCH_DIR) +
                                    "/model_forward_torch.py --threads " + std::to_string(threads) +
                                    " --repeats " + std::to_string(repeats) + " 2>/dev/null";

  // Rounds alternate every measurement, so a busy spell on a shared machine
  // hits both sides of each ratio; each figure is the best over the rounds.
  double peak = 0, full_s = 1e300, early_s = 1e300, torch_tokens_per_s = 0;
  for (int round = 0; round < rounds; ++round) {
    peak = std::max(peak, matmul_flops(repeats));
    full_s = std::min(full_s, time_to("blocks.11.hook_resid_post"));
    early_s = std::min(early_s, time_to("blocks.3.hook_resid_post"));
    if (!skip_torch) {
      const auto torch = run_and_parse(torch_command);
      if (torch.count("best_tokens_per_s"))
        torch_tokens_per_s = std::max(torch_tokens_per_s, torch.at("best_tokens_per_s"));
    }
  }
  const double tokens_per_s = static_cast<double>(B * T) / full_s;
  const double achieved = forward_flops(config, B, T, 12) / full_s;
  std::printf("float32 matmul 2048^3:         %8.1f GFLOP/s\n", peak / 1e9);
  std::printf("SAEScope to blocks.11 (8x128): %8.1f tokens/s  (%.3f s, %.1f GFLOP/s)\n",
              tokens_per_s, full_s, achieved / 1e9);
  std::printf("  achieved / matmul FLOP/s:    %8.3f  (goal >= 0.6)\n", achieved / peak);
  std::printf("early exit blocks.3 / blocks.11: %6.3f  (%.3f s; goal <= 0.40)\n",
              early_s / full_s, early_s);
  if (skip_torch) {
  } else if (torch_tokens_per_s > 0) {
    std::printf("PyTorch eager (same shapes):   %8.1f tokens/s\n", torch_tokens_per_s);
    std::printf("  SAEScope / PyTorch eager:    %8.3f  (goal >= 1.0)\n", tokens_per_s / torch_tokens_per_s);
  } else {
    std::printf("PyTorch eager baseline did not run (/usr/bin/python3 with torch needed)\n");
  }

  {  // bfloat16 for reference (no goal): depends on the CPU's bf16 support
    ModelOptions bf16;
    bf16.dtype = at::kBFloat16;
    const Gpt2 half(config, model.weights(), bf16);
    const double s = best_seconds(repeats, [&] { half.run(batch, {{"blocks.11.hook_resid_post"}, {}}); });
    std::printf("bfloat16 to blocks.11:         %8.1f tokens/s  (%.3f s)\n", static_cast<double>(B * T) / s, s);
  }

  if (skip_load) return 0;
  // Loading: a GPT-2-small F32 checkpoint on disk, loaded by a fresh process.
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "saescope_bench_gpt2_small";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "config.json")
      << R"({"model_type": "gpt2", "n_embd": 768, "n_layer": 12, "n_head": 12, "n_positions": 1024,)"
      << R"( "vocab_size": 50257, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new",)"
      << R"( "n_inner": null, "bos_token_id": 50256, "eos_token_id": 50256})";
  io::write_safetensors((dir / "model.safetensors").string(), hf_named_tensors(model.weights()));
  const double weight_kb = static_cast<double>(std::filesystem::file_size(dir / "model.safetensors")) / 1024.0;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const auto mem = run_and_parse(self + " --child-load " + dir.string());
  std::filesystem::remove_all(dir);
  if (mem.count("hwm_forward_kb")) {
    const double before = mem.at("hwm_before_kb");
    std::printf("load GPT-2-small F32 (%.0f MB): %.3f s\n", weight_kb / 1024, mem.at("load_s"));
    std::printf("  peak RSS rise / weights, load:          %6.3f  (goal <= 1.5)\n",
                (mem.at("hwm_loaded_kb") - before) / weight_kb);
    std::printf("  peak RSS rise / weights, load+forward:  %6.3f\n",
                (mem.at("hwm_forward_kb") - before) / weight_kb);
  } else {
    std::printf("load measurement failed\n");
  }
  return 0;
}
