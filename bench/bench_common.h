#pragma once
// What the benchmarks share: best-of-N timing, the machine's float32 matmul
// ceiling, the peak resident memory, and running a baseline process whose
// "key value" lines are read back.
#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "bench/bench_text.h"

namespace bench {

// Best of `repeats` runs after one warm-up (the machine may be shared).
template <typename F>
double best_seconds(int repeats, F&& f) {
  f();
  double best = 1e300;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

// FLOP/s of a 2048^3 float32 matmul: the ceiling achieved FLOP/s are compared with.
inline double matmul_flops(int repeats) {
  const int64_t n = 2048;
  const at::Tensor a = at::randn({n, n}), b = at::randn({n, n});
  return 2.0 * n * n * n / best_seconds(repeats, [&] { at::matmul(a, b); });
}

inline int64_t vm_hwm_kb() {  // this process's peak resident memory
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  return -1;
}

// Runs `command`; every stdout line "key value" becomes an entry.
inline std::map<std::string, double> run_and_parse(const std::string& command) {
  std::map<std::string, double> out;
  std::istringstream lines(run_command(command));
  for (std::string line; std::getline(lines, line);) {
    char key[128];
    double value = 0;
    if (std::sscanf(line.c_str(), "%127s %lf", key, &value) == 2) out[key] = value;
  }
  return out;
}

}  // namespace bench
