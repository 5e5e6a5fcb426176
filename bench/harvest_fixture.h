#pragma once
// bench_harvest's and bench_distributed's harvest: random token windows and a
// random SAE as sparse as a trained one, on a GPT-2-small-shaped model.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/model/language_model.h"
#include "core/model/token_batch.h"
#include "core/sae/sae.h"

namespace bench {

constexpr int64_t kContext = 128, kDSae = 24576, kLayer = 8;

inline std::vector<std::vector<int32_t>> random_windows(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::vector<int32_t>> w(static_cast<size_t>(n));
  for (auto& win : w) {
    win.push_back(50256);
    for (int64_t t = 1; t < kContext; ++t) win.push_back(static_cast<int32_t>(rng() % 50256));
  }
  return w;
}

// A random SAE as sparse as a trained one: each feature's encoder bias is
// minus its 3rd-largest pre-activation over the calibration windows.
inline saescope::sae::Sae sparse_random_sae(const saescope::model::LanguageModel& m, const std::vector<std::vector<int32_t>>& calib) {
  c10::InferenceMode guard;
  at::manual_seed(3);
  const int64_t d = m.info().d_model;
  saescope::sae::SaeConfig cfg;
  cfg.architecture = saescope::sae::Architecture::Standard;
  cfg.d_in = d;
  cfg.d_sae = kDSae;
  cfg.meta.hook_name = "blocks." + std::to_string(kLayer) + ".hook_resid_pre";
  saescope::sae::SaeWeights w;
  w.W_enc = at::randn({d, kDSae}) / std::sqrt(double(d));
  w.W_dec = at::randn({kDSae, d});
  w.W_dec = w.W_dec / w.W_dec.norm(2, {1}, true);
  w.b_dec = at::zeros({d});
  std::vector<std::vector<int64_t>> seqs;
  for (const auto& c : calib) seqs.emplace_back(c.begin(), c.end());
  const auto batch = saescope::model::make_token_batch(seqs, m.info(), false);
  const at::Tensor x = m.run(batch, {{cfg.meta.hook_name}, {}})
                           .hooks.at(cfg.meta.hook_name)
                           .narrow(1, 1, kContext - 1)  // BOS aside
                           .reshape({-1, d});
  // Each feature fires on its 3 strongest of these ~1,000 tokens: L0 ~ 72.
  w.b_enc = (-std::get<0>(at::matmul(x, w.W_enc).topk(3, 0)).select(0, 2)).contiguous();
  return saescope::sae::Sae(cfg, w, "bench");
}

}  // namespace bench
