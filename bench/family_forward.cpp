// bench_family_forward: forward-pass speed of the Llama and Gemma families,
// and the memory of loading a BF16 checkpoint for float32 compute.
//
//  1. float32 matmul FLOP/s of this machine (a 2048^3 at::matmul): the ceiling.
//  2. A Llama-shaped model (d 2048, 32 heads with 8 kv heads, SwiGLU 8192;
//     --layers of them, default 4) and a Gemma-2-2B-shaped one (d 2304, 8
//     heads with 4 kv heads, head_dim 256, GeGLU 9216, soft-capping 50) on
//     8 x 128 tokens up to the last block's hook_resid_post: achieved FLOP/s
//     over the ceiling (goal >= 0.8) and tokens/s over the same math in
//     PyTorch eager (bench/family_forward_torch.py with /usr/bin/python3;
//     goal >= 1.0). Rounds alternate both sides; each figure is the best.
//  3. Loading the Llama-shaped checkpoint written in BF16, for float32: the
//     VmHWM rise of a fresh child process over the float32 weight bytes
//     (goal <= 1.1).
// Checkpoints are random, written to the temp folder and removed after.
//
// Usage: bench_family_forward [--threads N] [--layers 4] [--rounds 3] [--repeats 2] [--skip-torch] [--skip-load]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "core/common/process_setup.h"
#include "core/common/runtime_info.h"
#include "core/io/safetensors.h"
#include "core/model/model_registry.h"

using namespace saescope;
using namespace saescope::model;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

SAESCOPE_PASSIVE_OPENMP_AT_LOAD

namespace {

using bench::best_seconds;
using bench::matmul_flops;
using bench::run_and_parse;
using bench::vm_hwm_kb;

struct Shape {
  std::string family;  // "llama" or "gemma2"
  int64_t layers, d, heads, kv_heads, head_dim, d_mlp, vocab;
};

// The blocks' multiply-adds (projections, MLP, the T x T scores and mixing), 2 FLOPs each.
double forward_flops(const Shape& s, int64_t batch, int64_t seq) {
  const double tokens = static_cast<double>(batch * seq), d = static_cast<double>(s.d);
  const double q = static_cast<double>(s.heads * s.head_dim), kv = static_cast<double>(s.kv_heads * s.head_dim);
  const double dense = 2.0 * tokens * (d * q + 2 * d * kv + q * d + 3 * d * static_cast<double>(s.d_mlp));
  const double attention = 2.0 * 2.0 * tokens * static_cast<double>(seq) * q;
  return static_cast<double>(s.layers) * (dense + attention);
}

// A random checkpoint of `s` in the Hugging Face layout.
std::string write_checkpoint(const Shape& s, const fs::path& dir, at::ScalarType dtype) {
  fs::create_directories(dir);
  nlohmann::json c = {{"model_type", s.family}, {"hidden_size", s.d}, {"num_hidden_layers", s.layers},
                      {"num_attention_heads", s.heads}, {"num_key_value_heads", s.kv_heads},
                      {"head_dim", s.head_dim}, {"intermediate_size", s.d_mlp}, {"vocab_size", s.vocab},
                      {"max_position_embeddings", 8192}, {"rms_norm_eps", 1e-6}, {"rope_theta", 500000.0},
                      {"tie_word_embeddings", true}, {"bos_token_id", 1}, {"eos_token_id", 2}};
  if (s.family == "gemma2") {
    c["query_pre_attn_scalar"] = 256;
    c["sliding_window"] = 4096;
    c["attn_logit_softcapping"] = 50.0;
    c["final_logit_softcapping"] = 30.0;
    c["hidden_activation"] = "gelu_pytorch_tanh";
  }
  std::ofstream(dir / "config.json") << c.dump(2);
  const int64_t q = s.heads * s.head_dim, kv = s.kv_heads * s.head_dim;
  const auto normal = [&](std::vector<int64_t> shape, double std) { return (at::randn(shape) * std).to(dtype); };
  std::vector<std::pair<std::string, at::Tensor>> t = {{"model.embed_tokens.weight", normal({s.vocab, s.d}, 0.02)},
                                                       {"model.norm.weight", normal({s.d}, 0.1)}};
  std::vector<std::string> norms = {"input_layernorm", "post_attention_layernorm"};
  if (s.family == "gemma2") norms = {"input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                                     "post_feedforward_layernorm"};
  for (int64_t l = 0; l < s.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    for (const auto& n : norms) t.emplace_back(p + n + ".weight", normal({s.d}, 0.1));
    t.emplace_back(p + "self_attn.q_proj.weight", normal({q, s.d}, 0.02));
    t.emplace_back(p + "self_attn.k_proj.weight", normal({kv, s.d}, 0.02));
    t.emplace_back(p + "self_attn.v_proj.weight", normal({kv, s.d}, 0.02));
    t.emplace_back(p + "self_attn.o_proj.weight", normal({s.d, q}, 0.02));
    t.emplace_back(p + "mlp.gate_proj.weight", normal({s.d_mlp, s.d}, 0.02));
    t.emplace_back(p + "mlp.up_proj.weight", normal({s.d_mlp, s.d}, 0.02));
    t.emplace_back(p + "mlp.down_proj.weight", normal({s.d, s.d_mlp}, 0.02));
  }
  io::write_safetensors((dir / "model.safetensors").string(), t);
  return dir.string();
}

int child_load(const std::string& dir) {
  const int64_t before = vm_hwm_kb();
  const auto t0 = Clock::now();
  const auto model = load_language_model(dir);
  const double load_s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::cout << "hwm_before_kb " << before << "\nhwm_loaded_kb " << vm_hwm_kb() << "\nload_s " << load_s << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  saescope::ensure_passive_openmp(argv);
  int threads = 0, repeats = 2, rounds = 3;
  int64_t layers = 4;
  bool skip_torch = false, skip_load = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--child-load" && i + 1 < argc) return child_load(argv[++i]);
    if (arg == "--threads" && i + 1 < argc) threads = std::stoi(argv[++i]);
    if (arg == "--layers" && i + 1 < argc) layers = std::stoll(argv[++i]);
    if (arg == "--repeats" && i + 1 < argc) repeats = std::stoi(argv[++i]);
    if (arg == "--rounds" && i + 1 < argc) rounds = std::stoi(argv[++i]);
    if (arg == "--skip-torch") skip_torch = true;
    if (arg == "--skip-load") skip_load = true;
  }
  set_engine_threads(threads);
  threads = at::get_num_threads();
  const RuntimeInfo info = runtime_info();
  std::printf("libtorch %s, BLAS %s, %d threads, best of %d rounds x %d runs\n\n", info.torch_version.c_str(),
              info.blas_library.c_str(), threads, rounds, repeats);

  const int64_t B = 8, T = 128;
  const std::vector<Shape> shapes = {{"llama", layers, 2048, 32, 8, 64, 8192, 2048},
                                     {"gemma2", layers, 2304, 8, 4, 256, 9216, 2048}};
  const fs::path tmp = fs::temp_directory_path() / "saescope_bench_family_forward";
  at::manual_seed(0);
  double peak = 0;
  for (const Shape& s : shapes) {
    const std::string dir = write_checkpoint(s, tmp / s.family, at::kFloat);
    const auto model = load_language_model(dir);
    const TokenBatch batch{at::randint(s.vocab, {B, T}, at::kLong), std::vector<int64_t>(B, T)};
    const std::string last = "blocks." + std::to_string(s.layers - 1) + ".hook_resid_post";
    const std::string torch_command =
        "/usr/bin/python3 " + std::string(SAESCOPE_BENCH_DIR) + "/family_forward_torch.py --family " + s.family +
        " --threads " + std::to_string(threads) + " --layers " + std::to_string(s.layers) + " --d " +
        std::to_string(s.d) + " --heads " + std::to_string(s.heads) + " --kv-heads " + std::to_string(s.kv_heads) +
        " --head-dim " + std::to_string(s.head_dim) + " --d-mlp " + std::to_string(s.d_mlp) + " --vocab " +
        std::to_string(s.vocab) + " --repeats " + std::to_string(repeats) + " 2>/dev/null";
    double ours_s = 1e300, torch_tokens_per_s = 0;
    for (int round = 0; round < rounds; ++round) {
      peak = std::max(peak, matmul_flops(repeats));
      ours_s = std::min(ours_s, best_seconds(repeats, [&] { model->run(batch, {{last}, {}}); }));
      if (!skip_torch) {
        const auto torch = run_and_parse(torch_command);
        if (torch.count("best_tokens_per_s"))
          torch_tokens_per_s = std::max(torch_tokens_per_s, torch.at("best_tokens_per_s"));
      }
    }
    const double tokens_per_s = static_cast<double>(B * T) / ours_s;
    const double achieved = forward_flops(s, B, T) / ours_s;
    std::printf("%s-shaped, %lld layers (8x128): %8.1f tokens/s (%.3f s, %.1f GFLOP/s)\n", s.family.c_str(),
                static_cast<long long>(s.layers), tokens_per_s, ours_s, achieved / 1e9);
    std::printf("  achieved / matmul FLOP/s (%.1f GFLOP/s): %6.3f  (goal >= 0.8)\n", peak / 1e9, achieved / peak);
    if (torch_tokens_per_s > 0)
      std::printf("  PyTorch eager %.1f tokens/s; SAEScope / PyTorch: %6.3f  (goal >= 1.0)\n", torch_tokens_per_s,
                  tokens_per_s / torch_tokens_per_s);
    else if (!skip_torch)
      std::printf("  PyTorch eager baseline did not run (/usr/bin/python3 with torch needed)\n");
    fs::remove_all(tmp / s.family);
  }

  if (!skip_load) {
    const std::string dir = write_checkpoint(shapes[0], tmp / "bf16", at::kBFloat16);
    const double f32_kb = 2.0 * static_cast<double>(fs::file_size(fs::path(dir) / "model.safetensors")) / 1024.0;
    const std::string self = fs::read_symlink("/proc/self/exe").string();
    const auto mem = run_and_parse(self + " --child-load " + dir);
    if (mem.count("hwm_loaded_kb"))
      std::printf("\nload llama-shaped BF16 for float32 (%.0f MB as float32): %.2f s; peak RSS rise / float32 "
                  "bytes %.3f  (goal <= 1.1)\n",
                  f32_kb / 1024, mem.at("load_s"), (mem.at("hwm_loaded_kb") - mem.at("hwm_before_kb")) / f32_kb);
    else
      std::printf("\nload measurement failed\n");
  }
  fs::remove_all(tmp);
  return 0;
}
