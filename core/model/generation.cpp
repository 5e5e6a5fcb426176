#include "core/model/generation.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/common/error.h"
#include "core/model/kv_cache.h"
#include "core/model/language_model.h"

namespace saescope::model {
namespace {

void check_request(const LanguageModel& model, const GenerationRequest& r) {
  const ModelInfo& info = model.info();
  if (r.prompt.empty()) throw InputError("the prompt is empty: generation needs at least one token");
  for (int64_t id : r.prompt)
    if (id < 0 || id >= info.vocab_size)
      throw InputError("prompt token id " + std::to_string(id) + " is outside the model's vocabulary of " +
                       std::to_string(info.vocab_size));
  if (r.max_new_tokens < 0) throw InputError("the number of tokens to generate must not be negative");
  const int64_t total = static_cast<int64_t>(r.prompt.size()) + r.max_new_tokens;
  if (total > info.n_positions)
    throw InputError("the prompt's " + std::to_string(r.prompt.size()) + " tokens and " +
                     std::to_string(r.max_new_tokens) + " new ones exceed the model's context of " +
                     std::to_string(info.n_positions) + " positions");
  const Sampling& s = r.sampling;
  if (!std::isfinite(s.temperature) || s.temperature < 0)
    throw InputError("temperature must be a finite number ≥ 0 (0: greedy)");
  if (s.top_k < 0) throw InputError("top-k must not be negative (0: every token)");
  if (!(s.top_p > 0 && s.top_p <= 1)) throw InputError("top-p must be in (0, 1]");
}

// The last position's logits of a [1, T] run, float32 on the CPU.
at::Tensor last_logits(const LanguageModel& model, const std::vector<int64_t>& ids, int64_t first,
                       const GenerationRequest& r, KvCache* cache) {
  const at::Tensor t = at::tensor(ids, at::TensorOptions().dtype(at::kLong)).view({1, -1});
  const RunResult out = model.forward(t, RunRequest{{"logits"}, replacements_for(r.edits, first), cache});
  return out.hooks.at("logits").select(0, 0).select(0, -1).to(at::kCPU, at::kFloat);
}

}  // namespace

std::vector<std::pair<std::string, HookFn>> replacements_for(const std::vector<PositionedEdit>& edits, int64_t first) {
  std::vector<std::pair<std::string, HookFn>> out;
  for (const PositionedEdit& e : edits) {
    const auto* edit = &e.edit;  // `edits` outlives the pass
    out.emplace_back(e.hook, [edit, first](const at::Tensor& value, const HookPoint&) { return (*edit)(value, first); });
  }
  return out;
}

int64_t choose_token(const at::Tensor& logits_in, const Sampling& s, std::mt19937_64& rng) {
  const at::Tensor logits = logits_in.to(at::kCPU, at::kDouble).contiguous();
  const double* l = logits.data_ptr<double>();
  const int64_t n = logits.numel();
  if (s.temperature <= 0) return static_cast<int64_t>(std::max_element(l, l + n) - l);
  // Hugging Face's order: temperature, then top-k (ties with the k-th kept),
  // then top-p (the smallest most-likely set whose mass reaches p).
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return l[a] > l[b]; });
  size_t keep = order.size();
  if (s.top_k > 0 && s.top_k < n) {
    const double kth = l[order[static_cast<size_t>(s.top_k - 1)]];
    keep = static_cast<size_t>(s.top_k);
    while (keep < order.size() && l[order[keep]] == kth) ++keep;
  }
  std::vector<double> p(keep);
  const double top = l[order[0]] / s.temperature;
  double sum = 0;
  for (size_t i = 0; i < keep; ++i) sum += p[i] = std::exp(l[order[i]] / s.temperature - top);
  if (s.top_p < 1) {
    double mass = 0;
    size_t i = 0;
    while (i < keep && mass < s.top_p * sum) mass += p[i++];
    keep = std::max<size_t>(i, 1);
    sum = mass > 0 ? mass : p[0];
  }
  const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53 * sum;  // [0, sum)
  double acc = 0;
  for (size_t i = 0; i < keep; ++i) {
    acc += p[i];
    if (u < acc) return order[i];
  }
  return order[keep - 1];
}

Generation generate(const LanguageModel& model, const GenerationRequest& r, const std::function<bool()>& cancelled,
                    const std::function<void(int64_t)>& on_token) {
  check_request(model, r);
  c10::InferenceMode inference;
  std::mt19937_64 rng(r.sampling.seed);
  KvCache cache;
  std::vector<int64_t> seq = r.prompt;
  Generation g;
  const int64_t eos = r.stop_at_eos ? model.info().eos_token_id : -1;
  // The prompt in one pass; then one position per step with the cache, or
  // the whole sequence again without it.
  at::Tensor logits = last_logits(model, seq, 0, r, r.use_cache ? &cache : nullptr);
  g.first_log_probs = at::log_softmax(logits.to(at::kDouble), -1).to(at::kFloat);
  while (static_cast<int64_t>(g.ids.size()) < r.max_new_tokens) {
    if (cancelled && cancelled()) break;
    const int64_t next = choose_token(logits, r.sampling, rng);
    g.ids.push_back(next);
    seq.push_back(next);
    if (on_token) on_token(static_cast<int64_t>(g.ids.size()));
    if (next == eos) {
      g.stopped_at_eos = true;
      break;
    }
    if (static_cast<int64_t>(g.ids.size()) == r.max_new_tokens) break;
    const int64_t pos = static_cast<int64_t>(seq.size()) - 1;
    logits = r.use_cache ? last_logits(model, {next}, pos, r, &cache) : last_logits(model, seq, 0, r, nullptr);
  }
  return g;
}

}  // namespace saescope::model
