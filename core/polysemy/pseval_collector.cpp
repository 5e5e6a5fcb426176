#include "core/polysemy/pseval_collector.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <limits>
#include <numeric>

#include "core/common/error.h"
#include "core/distributed/process_group.h"
#include "core/model/hook_point.h"

namespace saescope::polysemy {
namespace {

at::Tensor long_tensor(const std::vector<int64_t>& v, const c10::Device& device) {
  return at::tensor(v, at::TensorOptions().dtype(at::kLong)).to(device);
}

// The rows one batch reads, as flat indices into its [batch·pos, width] view.
struct BatchRows {
  std::vector<int64_t> prompts;  // plan index per batch row
  std::vector<int64_t> target;   // row·T + target position
  std::vector<int64_t> all;      // row·T + t for every real t of first_of_pair rows
  std::vector<int64_t> segment;  // per entry of `all`: which first_of_pair prompt (0..)
  std::vector<int64_t> first;    // plan index of each first_of_pair prompt
  std::vector<int64_t> first_len;
  std::vector<int64_t> occ_local;  // batch rows read by occurrences
  std::vector<int64_t> occ_slot;   // their rows in occurrence_rows
};

}  // namespace

std::vector<FeaturePick> argmax_picks(const at::Tensor& codes_in) {
  const int64_t n = codes_in.size(0), d = codes_in.size(1);
  std::vector<FeaturePick> out(static_cast<std::size_t>(n));
  if (n == 0) return out;
  const at::Tensor codes = codes_in.to(at::kFloat);
  const at::Tensor max_value = std::get<0>(codes.max(1));
  // Lowest index among the maxima, stated rather than left to argmax's ties.
  const at::Tensor index = at::arange(d, codes.options().dtype(at::kLong)).expand({n, d});
  const at::Tensor lowest =
      at::where(codes.eq(max_value.unsqueeze(1)), index, at::full_like(index, d)).amin(1);
  const at::Tensor any_nonzero = codes.ne(0).any(1);
  const at::Tensor v = max_value.cpu(), f = lowest.cpu(), nz = any_nonzero.cpu();
  const auto va = v.accessor<float, 1>();
  const auto fa = f.accessor<int64_t, 1>();
  const auto nza = nz.accessor<bool, 1>();
  for (int64_t i = 0; i < n; ++i) {
    auto& p = out[static_cast<std::size_t>(i)];
    p.all_zero = !nza[i];
    p.feature = fa[i] < d ? fa[i] : 0;  // NaN rows have no maximum: report feature 0
    p.activation = va[i];
  }
  return out;
}

int64_t hook_width(const model::HookSchema& schema, const std::string& hook) {
  const model::HookInfo h = schema.resolve(hook);
  if (h.width <= 0)
    throw InputError(hook + ": an attention pattern is not a per-position vector; PS-Eval reads "
                            "one activation vector at the target position");
  return h.width;
}

at::Tensor position_major(const at::Tensor& value) {
  if (value.dim() == 3) return value;
  return value.reshape({value.size(0), value.size(1), -1});  // [B, T, H, Dh] -> [B, T, H·Dh]
}

namespace {

// Every rank's prompts into every rank's Collected: each value packed as a
// double where this rank owns the prompt, 0 elsewhere, and summed (x + 0 is
// x exactly, NaN included), so the merge is exact.
void merge_ranks(Collected& c, const std::vector<bool>& mine, dist::ProcessGroup& group) {
  const std::size_t P = mine.size();
  std::vector<double> packed;
  const auto put_picks = [&](const std::vector<FeaturePick>& picks) {
    for (std::size_t p = 0; p < P; ++p) packed.push_back(mine[p] ? static_cast<double>(picks[p].feature + 1) : 0.0);
    for (std::size_t p = 0; p < P; ++p) packed.push_back(mine[p] ? static_cast<double>(picks[p].activation) : 0.0);
    for (std::size_t p = 0; p < P; ++p) packed.push_back(mine[p] && picks[p].all_zero ? 1.0 : 0.0);
  };
  const auto put_values = [&](const std::vector<double>& v) {
    for (std::size_t p = 0; p < P; ++p) packed.push_back(mine[p] ? v[p] : 0.0);
  };
  for (std::size_t s = 0; s < c.sae_picks.size(); ++s) {
    put_picks(c.sae_picks[s]);
    put_values(c.mse[s]);
    put_values(c.l0[s]);
  }
  for (const auto& b : c.baseline_picks) put_picks(b);
  packed.insert(packed.end(), {static_cast<double>(c.batches), static_cast<double>(c.tokens),
                               static_cast<double>(c.padded_tokens)});
  at::Tensor t = at::tensor(packed, at::kDouble);
  group.allreduce_sum(t, "merging PS-Eval's picks");
  const double* v = t.data_ptr<double>();
  const auto take_picks = [&](std::vector<FeaturePick>& picks) {
    for (std::size_t p = 0; p < P; ++p) picks[p].feature = std::llround(v[p]) - 1;
    for (std::size_t p = 0; p < P; ++p) picks[p].activation = static_cast<float>(v[P + p]);
    for (std::size_t p = 0; p < P; ++p) picks[p].all_zero = v[2 * P + p] != 0.0;
    v += 3 * P;
  };
  const auto take_values = [&](std::vector<double>& out) {
    out.assign(v, v + P);
    v += P;
  };
  for (std::size_t s = 0; s < c.sae_picks.size(); ++s) {
    take_picks(c.sae_picks[s]);
    take_values(c.mse[s]);
    take_values(c.l0[s]);
  }
  for (auto& b : c.baseline_picks) take_picks(b);
  c.batches = std::llround(v[0]);
  c.tokens = std::llround(v[1]);
  c.padded_tokens = std::llround(v[2]);
  for (at::Tensor& rows : c.occurrence_rows) group.allreduce_sum(rows, "merging PS-Eval's occurrence rows");
}

}  // namespace

Collected collect_picks(const model::LanguageModel& model, const PromptPlan& plan,
                        const std::vector<SaeAtHook>& saes, const CollectOptions& options,
                        jobs::ProgressSink* progress) {
  if (options.batch_size <= 0) throw InputError("batch size must be positive, got " + std::to_string(options.batch_size));
  const model::ModelInfo& config = model.info();
  const std::size_t P = plan.prompts.size();
  Collected c;

  // Hooks in forward order; SAEs grouped by hook.
  std::vector<std::pair<int, std::string>> ordered;
  for (const SaeAtHook& s : saes) {
    if (s.hook.empty()) throw InputError(s.sae->source() + ": the SAE names no hook (hook_name in cfg.json)");
    s.sae->expect_d_in(hook_width(model.hook_schema(), s.hook), s.hook);
    ordered.emplace_back(model.hook_schema().resolve(s.hook).point.order(config.n_layer), s.hook);
  }
  std::sort(ordered.begin(), ordered.end());
  for (const auto& [order, hook] : ordered)
    if (c.hooks.empty() || c.hooks.back() != hook) c.hooks.push_back(hook);
  std::vector<std::vector<std::size_t>> by_hook(c.hooks.size());
  for (std::size_t i = 0; i < saes.size(); ++i) {
    const auto h = static_cast<std::size_t>(std::find(c.hooks.begin(), c.hooks.end(), saes[i].hook) - c.hooks.begin());
    c.sae_hook.push_back(h);
    by_hook[h].push_back(i);
  }

  const double nan = std::numeric_limits<double>::quiet_NaN();
  c.sae_picks.assign(saes.size(), std::vector<FeaturePick>(P));
  c.mse.assign(saes.size(), std::vector<double>(P, nan));
  c.l0.assign(saes.size(), std::vector<double>(P, nan));
  if (options.baseline) c.baseline_picks.assign(c.hooks.size(), std::vector<FeaturePick>(P));
  c.occurrence_row.assign(P, -1);
  int64_t occurrence_rows = 0;
  for (std::size_t p = 0; p < P; ++p)
    if (plan.prompts[p].for_occurrence) c.occurrence_row[p] = occurrence_rows++;
  for (const std::string& hook : c.hooks)
    c.occurrence_rows.push_back(at::zeros({occurrence_rows, hook_width(model.hook_schema(), hook)}, at::kFloat));

  // Shortest first, so each batch pads little.
  std::vector<int64_t> order(P);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return plan.prompts[static_cast<std::size_t>(a)].ids.size() < plan.prompts[static_cast<std::size_t>(b)].ids.size();
  });

  const c10::Device device = model.options().device;
  // Distributed (dist::world()): batch k is rank k mod W's; the batches are
  // the same as one process's, so every prompt's values are computed exactly
  // as it would, and merge_ranks sums them in (each prompt has one owner).
  dist::ProcessGroup* group = dist::world();
  std::vector<bool> mine(P, group == nullptr);
  for (std::size_t start = 0; start < P && !c.hooks.empty(); start += static_cast<std::size_t>(options.batch_size)) {
    const std::size_t end = std::min(P, start + static_cast<std::size_t>(options.batch_size));
    const auto k = static_cast<int64_t>(start / static_cast<std::size_t>(options.batch_size));
    if (group && k % group->size() != group->rank()) continue;
    for (std::size_t i = start; i < end; ++i) mine[static_cast<std::size_t>(order[i])] = true;
    std::vector<std::vector<int64_t>> seqs;
    BatchRows rows;
    int64_t T = 0;
    for (std::size_t i = start; i < end; ++i) {
      const PlannedPrompt& p = plan.prompts[static_cast<std::size_t>(order[i])];
      seqs.push_back(p.ids);
      rows.prompts.push_back(order[i]);
      T = std::max<int64_t>(T, static_cast<int64_t>(p.ids.size()));
    }
    for (std::size_t r = 0; r < rows.prompts.size(); ++r) {
      const auto prompt = static_cast<std::size_t>(rows.prompts[r]);
      const PlannedPrompt& p = plan.prompts[prompt];
      const int64_t base = static_cast<int64_t>(r) * T;
      rows.target.push_back(base + p.target);
      if (options.reconstruction && p.first_of_pair) {
        for (int64_t t = 0; t < static_cast<int64_t>(p.ids.size()); ++t) {
          rows.all.push_back(base + t);
          rows.segment.push_back(static_cast<int64_t>(rows.first.size()));
        }
        rows.first.push_back(rows.prompts[r]);
        rows.first_len.push_back(static_cast<int64_t>(p.ids.size()));
      }
      if (p.for_occurrence) {
        rows.occ_local.push_back(static_cast<int64_t>(r));
        rows.occ_slot.push_back(c.occurrence_row[prompt]);
      }
    }
    const model::TokenBatch batch = model::make_token_batch(seqs, config, /*prepend_bos=*/false);
    const model::RunResult run = model.run(batch, {c.hooks, {}});
    const int64_t B = batch.batch_size();
    ++c.batches;
    c.padded_tokens += B * T;
    for (int64_t len : batch.lengths) c.tokens += len;

    const at::Tensor target_idx = long_tensor(rows.target, device);
    const at::Tensor all_idx = rows.all.empty() ? at::Tensor() : long_tensor(rows.all, device);
    const at::Tensor segment = rows.all.empty() ? at::Tensor() : long_tensor(rows.segment, device);
    const at::Tensor first_len = at::tensor(rows.first_len, at::kLong).to(at::kDouble);
    for (std::size_t h = 0; h < c.hooks.size(); ++h) {
      const at::Tensor value = position_major(run.hooks.at(c.hooks[h]));
      const at::Tensor flat = value.reshape({B * T, value.size(2)});
      const at::Tensor target = flat.index_select(0, target_idx).to(at::kFloat);
      if (options.baseline) {
        const auto picks = argmax_picks(target);
        for (std::size_t r = 0; r < picks.size(); ++r)
          c.baseline_picks[h][static_cast<std::size_t>(rows.prompts[r])] = picks[r];
      }
      if (!rows.occ_local.empty())
        c.occurrence_rows[h].index_copy_(0, at::tensor(rows.occ_slot, at::kLong),
                                         target.index_select(0, long_tensor(rows.occ_local, device)).cpu());
      at::Tensor all;
      if (all_idx.defined()) all = flat.index_select(0, all_idx).to(at::kFloat);
      for (std::size_t s : by_hook[h]) {
        const sae::Sae& sae = *saes[s].sae;
        const auto picks = argmax_picks(sae.encode(target));
        for (std::size_t r = 0; r < picks.size(); ++r)
          c.sae_picks[s][static_cast<std::size_t>(rows.prompts[r])] = picks[r];
        if (!all.defined()) continue;
        // As the reference: squared error summed over d_in, averaged over the
        // prompt's tokens (BOS included); L0 = features > 0, averaged likewise.
        const sae::SaeOutput out = sae.forward(all);
        const at::Tensor err = (out.reconstruction - all.to(out.reconstruction.device())).pow(2).sum(1).to(at::kDouble);
        const at::Tensor active = out.features.gt(0).sum(1).to(at::kDouble);
        const auto n_first = static_cast<int64_t>(rows.first.size());
        const at::Tensor seg = segment.to(err.device());
        const at::Tensor mse = at::zeros({n_first}, err.options()).index_add_(0, seg, err).cpu() / first_len;
        const at::Tensor l0 = at::zeros({n_first}, err.options()).index_add_(0, seg, active).cpu() / first_len;
        const auto ma = mse.accessor<double, 1>(), la = l0.accessor<double, 1>();
        for (int64_t k = 0; k < n_first; ++k) {
          c.mse[s][static_cast<std::size_t>(rows.first[static_cast<std::size_t>(k)])] = ma[k];
          c.l0[s][static_cast<std::size_t>(rows.first[static_cast<std::size_t>(k)])] = la[k];
        }
      }
    }
    if (progress) progress->report({"ps-eval", static_cast<double>(end), static_cast<double>(P), "prompts", ""});
  }
  if (group) merge_ranks(c, mine, *group);
  return c;
}

}  // namespace saescope::polysemy
