#include "core/analysis/steering.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cmath>
#include <memory>

#include "core/common/error.h"
#include "core/model/language_model.h"
#include "core/sae/sae.h"

namespace saescope::analysis {
namespace {

// value [B, T, ...] -> [B, T, d] (attention heads flattened), and -> [B·T, d] for the SAE.
at::Tensor by_position(const at::Tensor& value) { return value.reshape({value.size(0), value.size(1), -1}); }
at::Tensor rows(const at::Tensor& value) { return value.reshape({-1, value.size(-1)}); }

// Zeroes the rows of `delta` [B, T, d] before `from` (positions first..first+T-1).
void keep_from(at::Tensor& delta, int64_t first, int64_t from) {
  const int64_t before = std::min<int64_t>(delta.size(1), from - first);
  if (before > 0) delta.narrow(1, 0, before).zero_();
}

// What the edits add to the written hook's value, given the SAE's input at
// those positions (the same value for an SAE; a transcoder's in hook).
at::Tensor edit_delta(const sae::Sae& sae, const std::vector<FeatureEdit>& edits, const at::Tensor& input,
                      const at::Tensor& output) {
  const at::Tensor W_dec = sae.weights().W_dec;  // [d_sae, d_out]
  at::Tensor delta = at::zeros({output.size(0) * output.size(1), output.size(-1)},
                               output.options().dtype(at::kFloat).device(W_dec.device()));
  std::vector<const FeatureEdit*> clamps;
  for (const FeatureEdit& e : edits) {
    if (e.kind == FeatureEditKind::Add) delta.add_(W_dec[e.feature], e.value);
    else clamps.push_back(&e);
  }
  if (!clamps.empty()) {
    sae::InputNormState state;
    const at::Tensor codes = sae.encode(rows(input), &state);
    at::Tensor edited = codes.clone();
    for (const FeatureEdit* e : clamps)
      edited.select(1, e->feature).fill_(e->kind == FeatureEditKind::Ablate ? 0.0 : e->value);
    delta.add_(sae.decode(edited, &state) - sae.decode(codes, &state));
  }
  return delta.view({output.size(0), output.size(1), output.size(-1)});
}

}  // namespace

const char* to_string(FeatureEditKind kind) {
  switch (kind) {
    case FeatureEditKind::Add: return "add";
    case FeatureEditKind::Clamp: return "clamp";
    case FeatureEditKind::Ablate: return "ablate";
  }
  return "add";
}

void check_feature_edits(const model::LanguageModel& model, const sae::Sae& sae, const std::vector<FeatureEdit>& edits) {
  if (edits.empty()) throw InputError("no feature edit given (add, clamp or ablate a feature)");
  for (const FeatureEdit& e : edits) {
    if (e.feature < 0 || e.feature >= sae.d_sae())
      throw InputError(sae.source() + ": feature " + std::to_string(e.feature) + " is outside the SAE's " +
                       std::to_string(sae.d_sae()) + " features (0.." + std::to_string(sae.d_sae() - 1) + ")");
    if (!std::isfinite(e.value))
      throw InputError("the " + std::string(to_string(e.kind)) + " value for feature " + std::to_string(e.feature) +
                       " is not a finite number");
  }
  const auto check_hook = [&](const std::string& hook, int64_t width) {
    if (hook.empty()) throw InputError(sae.source() + ": the SAE names no hook: where in the model does it act?");
    const int64_t have = model.hook_schema().resolve(hook).width;  // InputError for a hook the model lacks
    if (have != width)
      throw InputError(sae.source() + ": the SAE is " + std::to_string(width) + " wide at " + hook +
                       ", where this model's values are " + std::to_string(have) + " wide: an SAE for another model");
  };
  check_hook(sae.config().meta.hook_name, sae.d_in());
  check_hook(sae.config().output_hook(), sae.d_out());
}

std::vector<model::PositionedEdit> sae_feature_edits(const sae::Sae& sae, const std::vector<FeatureEdit>& edits,
                                                     int64_t from) {
  const std::string in_hook = sae.config().meta.hook_name, out_hook = sae.config().output_hook();
  std::vector<model::PositionedEdit> out;
  // A transcoder's input fires earlier on the same pass; kept for the out hook.
  auto input = std::make_shared<at::Tensor>();
  if (in_hook != out_hook)
    out.push_back({in_hook, [input](const at::Tensor& value, int64_t) {
                     *input = value;
                     return value;
                   }});
  out.push_back({out_hook, [&sae, edits, from, input, same = in_hook == out_hook](const at::Tensor& value, int64_t first) {
                   if (first + value.size(1) <= from) return value;
                   const at::Tensor flat = by_position(value);  // hook_z: heads flattened, as the SAE reads them
                   at::Tensor delta = edit_delta(sae, edits, same ? flat : by_position(*input), flat);
                   keep_from(delta, first, from);
                   return (flat + delta.to(value.device(), value.scalar_type())).view(value.sizes());
                 }});
  return out;
}

NextTokenEffect next_token_effect(const at::Tensor& before_in, const at::Tensor& after_in, int64_t top_n) {
  const at::Tensor before = before_in.to(at::kCPU, at::kDouble), after = after_in.to(at::kCPU, at::kDouble);
  NextTokenEffect e;
  e.kl = (before.exp() * (before - after)).sum().item<double>();
  const at::Tensor change = after - before;
  const int64_t n = std::min<int64_t>(std::max<int64_t>(top_n, 0), change.numel());
  const auto list = [&](bool largest) {
    std::vector<TokenChange> out;
    const at::Tensor idx = std::get<1>(change.topk(n, 0, largest, /*sorted=*/true));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t id = idx[i].item<int64_t>();
      out.push_back({id, before[id].item<double>(), after[id].item<double>()});
    }
    return out;
  };
  e.promoted = list(true);
  e.suppressed = list(false);
  return e;
}

SteerResult steer(const model::LanguageModel& model, const sae::Sae& sae, const std::vector<int64_t>& prompt,
                  const std::vector<FeatureEdit>& edits, const SteerOptions& o, const std::function<bool()>& cancelled,
                  const std::function<void(int64_t, int64_t)>& progress) {
  check_feature_edits(model, sae, edits);
  if (o.from_position < 0) throw InputError("the position edits start from must not be negative");
  model::GenerationRequest r;
  r.prompt = prompt;
  r.max_new_tokens = o.max_new_tokens;
  r.sampling = o.sampling;
  const int64_t total = 2 * o.max_new_tokens;
  SteerResult out;
  out.baseline = model::generate(model, r, cancelled, [&](int64_t n) {
    if (progress) progress(n, total);
  });
  if (cancelled && cancelled()) return out;
  r.edits = sae_feature_edits(sae, edits, o.from_position);
  out.steered = model::generate(model, r, cancelled, [&](int64_t n) {
    if (progress) progress(o.max_new_tokens + n, total);
  });
  out.next_token = next_token_effect(out.baseline.first_log_probs, out.steered.first_log_probs, o.top_n);
  if (progress) progress(total, total);  // done, also when both stopped early at EOS
  return out;
}

std::vector<TokenAttribution> ablation_attribution(const model::LanguageModel& model, const sae::Sae& sae,
                                                   const std::vector<int64_t>& ids,
                                                   const std::vector<int64_t>& features) {
  std::vector<FeatureEdit> edits;
  for (int64_t f : features) edits.push_back({f, FeatureEditKind::Ablate, 0.0});
  check_feature_edits(model, sae, edits);
  if (ids.size() < 2) throw InputError("the text holds fewer than 2 tokens: there is no next token to score");
  c10::InferenceMode inference;
  const at::Tensor t = at::tensor(ids, at::TensorOptions().dtype(at::kLong)).view({1, -1});
  const auto log_probs = [&](const std::vector<model::PositionedEdit>& pe) {
    const model::RunRequest req{{"logits"}, model::replacements_for(pe, 0)};
    return at::log_softmax(model.forward(t, req).hooks.at("logits")[0].to(at::kCPU, at::kDouble), -1);
  };
  const at::Tensor with = log_probs({}), without = log_probs(sae_feature_edits(sae, edits));
  std::vector<TokenAttribution> out;
  for (size_t i = 0; i + 1 < ids.size(); ++i) {
    const int64_t pos = static_cast<int64_t>(i), next = ids[i + 1];
    out.push_back({pos, next, with[pos][next].item<double>(), without[pos][next].item<double>()});
  }
  return out;
}

}  // namespace saescope::analysis
