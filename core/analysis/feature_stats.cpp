#include "core/analysis/feature_stats.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "core/common/error.h"

namespace saescope::analysis {
namespace {

uint64_t splitmix64(uint64_t x) {
  uint64_t z = x + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t token_hash(int64_t token, uint64_t seed) {
  return splitmix64(static_cast<uint64_t>(token) ^ splitmix64(seed));
}

uint64_t feature_salt(int64_t feature, uint64_t seed) {
  return splitmix64(static_cast<uint64_t>(feature) * 0xD1B54A32D192ED03ull ^ ~seed);
}

uint64_t combine(uint64_t token_h, uint64_t salt) {
  const uint64_t p = token_h ^ salt;
  return p == kEmptySlot ? kEmptySlot - 1 : p;  // kEmptySlot marks a free slot
}

const auto kI64 = at::TensorOptions().dtype(at::kLong);
const auto kF32 = at::TensorOptions().dtype(at::kFloat);

}  // namespace

std::vector<float> histogram_edges(float max, int bins, double decades) {
  std::vector<float> e(static_cast<size_t>(bins) + 1, 0.0f);
  if (!(max > 0)) return e;
  for (int i = 0; i <= bins; ++i)
    e[static_cast<size_t>(i)] =
        static_cast<float>(double(max) * std::pow(10.0, -decades + decades * i / bins));
  e[static_cast<size_t>(bins)] = max;
  return e;
}

int histogram_bin(float a, const float* edges, int bins) {
  const float* inner = edges + 1;  // edges[1 .. bins-1] separate the bins
  return static_cast<int>(std::upper_bound(inner, inner + (bins - 1), a) - inner);
}

int interval_of(float a, float max, int n) {
  if (!(max > 0)) return 0;
  const int j = static_cast<int>(std::floor(double(a) * n / double(max)));
  return std::clamp(j, 0, n - 1);
}

uint64_t sample_priority(int64_t token, int64_t feature, uint64_t seed) {
  return combine(token_hash(token, seed), feature_salt(feature, seed));
}

FeatureStats::FeatureStats(const StatsShape& s) : shape_(s) {
  const int64_t d = s.d_sae;
  fire_count = at::zeros({d}, kI64);
  act_sum = at::zeros({d}, at::TensorOptions().dtype(at::kDouble));
  act_max = at::zeros({d}, kF32);
  top_value = at::zeros({d, s.top_k}, kF32);
  top_window = at::full({d, s.top_k}, -1, kI64);
  top_pos = at::zeros({d, s.top_k}, kI64);
  hist_edges = at::zeros({d, s.histogram_bins + 1}, kF32);
  hist_counts = at::zeros({d, s.histogram_bins}, kI64);
  interval_counts = at::zeros({d, s.intervals}, kI64);
  sample_priority_ = at::full({d, s.intervals, s.interval_samples}, -1, kI64);  // all bits set
  sample_window = at::full({d, s.intervals, s.interval_samples}, -1, kI64);
  sample_pos = at::zeros({d, s.intervals, s.interval_samples}, kI64);
  sample_value = at::zeros({d, s.intervals, s.interval_samples}, kF32);
}

void FeatureStats::add_pass1(const SparseCodes& codes, const std::vector<int64_t>& windows) {
  const int64_t B = codes.windows, T = codes.positions, d = shape_.d_sae;
  // Each feature's activations in token order: fire count, sum, max and each
  // window's best activation and position.
  at::Tensor win_max = at::zeros({d, B}, kF32);
  at::Tensor win_pos = at::zeros({d, B}, kI64);
  int64_t* fire = fire_count.data_ptr<int64_t>();
  double* sum = act_sum.data_ptr<double>();
  float* mx = act_max.data_ptr<float>();
  float* wm = win_max.data_ptr<float>();
  int64_t* wp = win_pos.data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      const size_t r = static_cast<size_t>(b * T + t);
      for (int64_t i = codes.row_start[r]; i < codes.row_start[r + 1]; ++i) {
        const int64_t f = codes.feature[static_cast<size_t>(i)];
        const float a = codes.value[static_cast<size_t>(i)];
        ++fire[f];
        sum[f] += a;
        if (a > mx[f]) mx[f] = a;
        if (a > wm[f * B + b]) {
          wm[f * B + b] = a;
          wp[f * B + b] = t;
        }
      }
    }
  // The running top-k merged with this batch's windows: [d_sae, k + B] -> [d_sae, k].
  // Windows arrive in order, so a stable sort keeps the earlier window of a tie.
  const at::Tensor window_ids = at::tensor(windows, kI64).unsqueeze(0).expand({d, B});
  keep_top(at::cat({top_value, win_max}, 1), at::cat({top_window, window_ids}, 1),
           at::cat({top_pos, win_pos}, 1), /*windows_sorted=*/true);
}

void FeatureStats::keep_top(const at::Tensor& values, const at::Tensor& windows, const at::Tensor& pos,
                            bool windows_sorted) {
  at::Tensor order = at::arange(values.size(1), kI64).unsqueeze(0).expand_as(values);
  if (!windows_sorted) order = std::get<1>(at::sort(windows, /*stable=*/true, 1, /*descending=*/false));
  const at::Tensor by_value =
      std::get<1>(at::sort(values.gather(1, order), /*stable=*/true, 1, /*descending=*/true));
  const at::Tensor kept = order.gather(1, by_value).narrow(1, 0, shape_.top_k);
  top_value = values.gather(1, kept).contiguous();
  top_window = windows.gather(1, kept).contiguous();
  top_pos = pos.gather(1, kept).contiguous();
}

void FeatureStats::merge_pass1(const std::vector<FeatureStats>& ranks) {
  std::vector<at::Tensor> values, windows, pos, maxima;
  at::Tensor fire = at::zeros_like(fire_count), sum = at::zeros_like(act_sum);
  for (const FeatureStats& r : ranks) {
    fire += r.fire_count;
    sum += r.act_sum;
    maxima.push_back(r.act_max);
    values.push_back(r.top_value);
    windows.push_back(r.top_window);
    pos.push_back(r.top_pos);
  }
  fire_count = fire;
  act_sum = sum;
  act_max = std::get<0>(at::stack(maxima).max(0)).contiguous();
  keep_top(at::cat(values, 1), at::cat(windows, 1), at::cat(pos, 1), /*windows_sorted=*/false);
}

void FeatureStats::merge_pass2(const std::vector<FeatureStats>& ranks) {
  at::Tensor hist = at::zeros_like(hist_counts), intervals = at::zeros_like(interval_counts);
  for (const FeatureStats& r : ranks) {
    hist += r.hist_counts;
    intervals += r.interval_counts;
  }
  hist_counts = hist;
  interval_counts = intervals;
  // Each (feature, interval)'s S smallest priorities of the ranks' sorted lists.
  const int64_t S = shape_.interval_samples, groups = shape_.d_sae * shape_.intervals;
  FeatureStats out(shape_);
  auto* prio = reinterpret_cast<uint64_t*>(out.sample_priority_.data_ptr<int64_t>());
  int64_t* win = out.sample_window.data_ptr<int64_t>();
  int64_t* pos = out.sample_pos.data_ptr<int64_t>();
  float* val = out.sample_value.data_ptr<float>();
  for (const FeatureStats& r : ranks) {
    const auto* rp = reinterpret_cast<const uint64_t*>(r.sample_priority_.data_ptr<int64_t>());
    const int64_t* rw = r.sample_window.data_ptr<int64_t>();
    const int64_t* rpos = r.sample_pos.data_ptr<int64_t>();
    const float* rv = r.sample_value.data_ptr<float>();
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t i = g * S; i < (g + 1) * S && rp[i] != kEmptySlot; ++i) {
        const int64_t slot0 = g * S;
        if (rp[i] >= prio[slot0 + S - 1]) break;  // the rank's list ascends
        int64_t s = S - 1;
        for (; s > 0 && prio[slot0 + s - 1] > rp[i]; --s) {
          prio[slot0 + s] = prio[slot0 + s - 1];
          win[slot0 + s] = win[slot0 + s - 1];
          pos[slot0 + s] = pos[slot0 + s - 1];
          val[slot0 + s] = val[slot0 + s - 1];
        }
        prio[slot0 + s] = rp[i];
        win[slot0 + s] = rw[i];
        pos[slot0 + s] = rpos[i];
        val[slot0 + s] = rv[i];
      }
  }
  sample_priority_ = out.sample_priority_;
  sample_window = out.sample_window;
  sample_pos = out.sample_pos;
  sample_value = out.sample_value;
}

void FeatureStats::begin_pass2() {
  const int bins = shape_.histogram_bins;
  const float* mx = act_max.data_ptr<float>();
  float* edges = hist_edges.data_ptr<float>();
  for (int64_t f = 0; f < shape_.d_sae; ++f) {
    const auto e = histogram_edges(mx[f], bins, shape_.histogram_decades);
    std::copy(e.begin(), e.end(), edges + f * (bins + 1));
  }
}

void FeatureStats::add_pass2(const SparseCodes& codes, const std::vector<int64_t>& windows) {
  const int64_t B = codes.windows, T = codes.positions;
  const int I = shape_.intervals, S = shape_.interval_samples, bins = shape_.histogram_bins;
  if (salt_.empty())
    for (int64_t f = 0; f < shape_.d_sae; ++f) salt_.push_back(feature_salt(f, shape_.seed));
  const float* mx = act_max.data_ptr<float>();
  const float* edges = hist_edges.data_ptr<float>();
  int64_t* hc = hist_counts.data_ptr<int64_t>();
  int64_t* ic = interval_counts.data_ptr<int64_t>();
  auto* prio = reinterpret_cast<uint64_t*>(sample_priority_.data_ptr<int64_t>());
  int64_t* sw = sample_window.data_ptr<int64_t>();
  int64_t* sp = sample_pos.data_ptr<int64_t>();
  float* sv = sample_value.data_ptr<float>();
  // Rows in token order, so each feature sees its tokens in order (the
  // samples do not depend on it, but ties in the lists stay reproducible).
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      const size_t r = static_cast<size_t>(b * T + t);
      const int64_t token = windows[static_cast<size_t>(b)] * shape_.context + t;
      const uint64_t token_h = token_hash(token, shape_.seed);
      for (int64_t i = codes.row_start[r]; i < codes.row_start[r + 1]; ++i) {
        const int64_t f = codes.feature[static_cast<size_t>(i)];
        const float a = codes.value[static_cast<size_t>(i)];
        const int j = interval_of(a, mx[f], I);
        ++ic[f * I + j];
        ++hc[f * bins + histogram_bin(a, edges + f * (bins + 1), bins)];
        const uint64_t p = combine(token_h, salt_[static_cast<size_t>(f)]);
        const int64_t slot0 = (f * I + j) * S;
        if (p >= prio[slot0 + S - 1]) continue;
        int s = S - 1;  // insertion into the ascending list of S priorities
        while (s > 0 && prio[slot0 + s - 1] > p) {
          prio[slot0 + s] = prio[slot0 + s - 1];
          sw[slot0 + s] = sw[slot0 + s - 1];
          sp[slot0 + s] = sp[slot0 + s - 1];
          sv[slot0 + s] = sv[slot0 + s - 1];
          --s;
        }
        prio[slot0 + s] = p;
        sw[slot0 + s] = token / shape_.context;
        sp[slot0 + s] = token % shape_.context;
        sv[slot0 + s] = a;
      }
    }
}

std::map<std::string, at::Tensor> FeatureStats::state() const {
  return {{"fire_count", fire_count},           {"act_sum", act_sum},
          {"act_max", act_max},                 {"top_value", top_value},
          {"top_window", top_window},           {"top_pos", top_pos},
          {"hist_edges", hist_edges},           {"hist_counts", hist_counts},
          {"interval_counts", interval_counts}, {"sample_priority", sample_priority_},
          {"sample_window", sample_window},     {"sample_pos", sample_pos},
          {"sample_value", sample_value}};
}

void FeatureStats::load_state(const std::map<std::string, at::Tensor>& tensors) {
  const FeatureStats fresh(shape_);
  const auto mine = fresh.state();
  std::map<std::string, at::Tensor*> slots = {
      {"fire_count", &fire_count},           {"act_sum", &act_sum},
      {"act_max", &act_max},                 {"top_value", &top_value},
      {"top_window", &top_window},           {"top_pos", &top_pos},
      {"hist_edges", &hist_edges},           {"hist_counts", &hist_counts},
      {"interval_counts", &interval_counts}, {"sample_priority", &sample_priority_},
      {"sample_window", &sample_window},     {"sample_pos", &sample_pos},
      {"sample_value", &sample_value}};
  for (const auto& [name, like] : mine) {
    auto it = tensors.find(name);
    if (it == tensors.end())
      throw InternalError("harvest resume state lacks tensor `" + name + "`");
    if (it->second.sizes() != like.sizes() || it->second.scalar_type() != like.scalar_type())
      throw InternalError("harvest resume state: tensor `" + name + "` has the wrong shape or dtype");
  }
  for (const auto& [name, slot] : slots) *slot = tensors.at(name).clone().contiguous();
}

}  // namespace saescope::analysis
