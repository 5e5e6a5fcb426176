#include "core/sae/sae_evaluation.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <vector>

#include "core/corpus/window_source.h"
#include "core/common/error.h"
#include "core/distributed/process_group.h"
#include "core/common/progress.h"
#include "core/model/model_registry.h"
#include "core/sae/activation_cache.h"
#include "core/sae/sae.h"

namespace saescope::sae {
namespace {

// The hook the CE losses are computed from: the final norm's output, which
// the unembedding turns into logits.
constexpr const char* kFinalHook = "ln_final.hook_out";
// At most this many logits at once (256 MB in float32): a batch of 8
// windows of 128 tokens on GPT-2's 50k vocabulary in one product, but on a
// 256k vocabulary 262 rows at a time instead of the batch's 1 GB. (Smaller
// slices, a running log-sum-exp over the vocabulary, measured 25 % slower on
// 2 cores: many small operations.)
constexpr int64_t kChunkLogits = int64_t(1) << 26;

// Σ −log p(next token) over the predictions `scored` [B, T−1] marks, from
// the final norm's output `final_out` [B, T, d]: only the scored rows'
// logits, a chunk of rows at a time.
double summed_nll(const at::Tensor& final_out, const model::Unembedding& u, const at::Tensor& ids,
                  const at::Tensor& scored) {
  const int64_t T = final_out.size(1), d = final_out.size(2);
  const at::Tensor rows = scored.to(final_out.device()).flatten().nonzero().squeeze(1);
  const at::Tensor x = final_out.slice(1, 0, T - 1).reshape({-1, d}).index_select(0, rows);
  const at::Tensor target = ids.slice(1, 1, T).to(final_out.device()).reshape({-1}).index_select(0, rows);
  const int64_t chunk = std::max<int64_t>(1, kChunkLogits / u.unembed.size(0));
  double sum = 0;
  for (int64_t i = 0; i < x.size(0); i += chunk) {
    const int64_t n = std::min(chunk, x.size(0) - i);
    // The model's arithmetic: logits in its dtype, soft-capped, then float32.
    at::Tensor logits = at::linear(x.narrow(0, i, n), u.unembed);
    if (u.final_softcap > 0) logits = at::tanh(logits / u.final_softcap) * u.final_softcap;
    logits = logits.to(at::kFloat);
    const at::Tensor nll = at::logsumexp(logits, {-1}) - logits.gather(1, target.narrow(0, i, n).unsqueeze(1)).squeeze(1);
    sum += nll.sum(at::kDouble).item<double>();
  }
  return sum;
}

}  // namespace

std::string evaluated_positions(bool include_bos, bool with_ce) {
  std::string s = include_bos
                      ? "every position of each window, BOS (position 0) included"
                      : "positions 1.. of each window: the BOS at position 0 is excluded and keeps its "
                        "clean activation in every pass";
  if (with_ce)
    s += include_bos ? "; CE over the next-token predictions of positions 0..T-2"
                     : "; CE over the next-token predictions of positions 1..T-2";
  return s;
}

std::vector<SaeEvaluation> evaluate_saes_on_windows(const model::LanguageModel& model,
                                                    const std::vector<const Sae*>& saes,
                                                    analysis::WindowSource& windows, const SaeEvalOptions& o,
                                                    jobs::ProgressSink* progress, int64_t total_tokens) {
  if (saes.empty()) return {};
  c10::InferenceMode guard;
  // Reconstructions are spliced in, and compared, at each SAE's output hook
  // (its own hook, or a transcoder's hook_name_out); a transcoder reads its
  // input at hook_name earlier in the same pass.
  std::vector<std::string> hooks;         // distinct output hooks, in first-use order
  std::vector<std::size_t> hook_of;       // per SAE: its output hook's index in hooks
  std::vector<int64_t> hook_width;        // per hook: the hook's per-token width
  for (const Sae* sae : saes) {
    const std::string& hook = sae->config().output_hook();
    if (sae->config().meta.hook_name.empty()) throw InputError(sae->source() + ": the SAE names no hook (hook_name)");
    if (sae->config().meta.hook_head_index)
      throw InputError(sae->source() + ": SAEs of a single attention head (hook_head_index) are not evaluated yet");
    const auto at = std::find(hooks.begin(), hooks.end(), hook);
    hook_of.push_back(static_cast<std::size_t>(at - hooks.begin()));
    if (at == hooks.end()) hooks.push_back(hook);
  }
  {  // every hook must exist and be as wide as its SAEs read and write
    // A hook the model lacks is the SAE's to answer for: name it.
    const auto width_for = [&](const Sae& sae, const std::string& hook) {
      try {
        return model.hook_schema().per_token_width(hook);
      } catch (const InputError& e) {
        throw InputError(sae.source() + ": " + e.what());
      }
    };
    for (std::size_t h = 0; h < hooks.size(); ++h)
      for (std::size_t s = 0; s < saes.size(); ++s)
        if (hook_of[s] == h) {
          hook_width.push_back(width_for(*saes[s], hooks[h]));
          break;
        }
    for (std::size_t s = 0; s < saes.size(); ++s) {
      const Sae& sae = *saes[s];
      const std::string& in = sae.config().meta.hook_name;
      sae.expect_d_in(sae.is_transcoder() ? width_for(sae, in) : hook_width[hook_of[s]], in);
      if (sae.d_out() != hook_width[hook_of[s]])
        throw InputError(sae.source() + ": this transcoder writes " + std::to_string(sae.d_out()) +
                         "-dimensional activations at " + hooks[hook_of[s]] + ", which has " +
                         std::to_string(hook_width[hook_of[s]]));
    }
  }
  std::vector<ReconstructionMetrics> metrics;
  std::vector<SaeEvaluation> out(saes.size());
  for (std::size_t s = 0; s < saes.size(); ++s) {
    metrics.emplace_back(saes[s]->d_out(), saes[s]->d_sae(), o.dense_threshold, o.histogram_bins);
    out[s].include_bos = o.include_bos;
    out[s].has_ce = o.ce_loss;
  }
  const int64_t first = o.include_bos ? 0 : 1;
  const model::Unembedding unembedding = model.unembedding();
  double nll_clean = 0;
  std::vector<double> nll_sae(saes.size(), 0.0), nll_zero(hooks.size(), 0.0);
  int64_t ce_tokens = 0, n_windows = 0, rows_done = 0;
  const double total = static_cast<double>(total_tokens) * static_cast<double>(saes.size());
  if (progress) progress->report({"evaluate", 0, total, "tokens", ""});

  // Distributed (dist::world()): batch i is rank i mod W's; the sums merge at the end.
  dist::ProcessGroup* group = dist::world();
  for (int64_t batch_index = 0;; ++batch_index) {
    const auto batch = windows.next(std::max<int64_t>(1, o.batch_windows));
    if (batch.empty()) break;
    if (group && batch_index % group->size() != group->rank()) continue;
    std::vector<std::vector<int64_t>> seqs;
    for (const auto& w : batch) seqs.emplace_back(w.tokens.begin(), w.tokens.end());
    const model::TokenBatch tb = model::make_token_batch(seqs, model.info(), /*prepend_bos=*/false);
    const at::Tensor mask = tb.mask();  // [B, T]
    at::Tensor evaluated = mask.clone();
    if (first > 0) evaluated.select(1, 0).fill_(false);
    const at::Tensor rows_cpu = evaluated.flatten().nonzero().squeeze(1);
    const int64_t T = tb.ids.size(1);
    at::Tensor scored = mask.slice(1, 1, T).clone();  // position p predicts token p+1
    if (first > 0) scored.select(1, 0).fill_(false);
    if (o.ce_loss) {
      ce_tokens += scored.sum().item<int64_t>();
      // Clean and zero-ablated losses do not depend on the SAE: once per batch, once per hook.
      nll_clean += summed_nll(model.run(tb, {{kFinalHook}, {}}).hooks.at(kFinalHook), unembedding, tb.ids, scored);
      for (std::size_t h = 0; h < hooks.size(); ++h) {
        const int64_t width = hook_width[h];
        const std::string& hook = hooks[h];
        const model::HookFn zero = [&](const at::Tensor& value, const model::HookPoint&) {
          at::Tensor flat = per_token_rows(value, hook).reshape({-1, width}).clone();
          flat.index_fill_(0, rows_cpu.to(flat.device()), 0);
          return flat.view(value.sizes());
        };
        nll_zero[h] +=
            summed_nll(model.run(tb, {{kFinalHook}, {{hook, zero}}}).hooks.at(kFinalHook), unembedding, tb.ids, scored);
      }
    }
    for (std::size_t s = 0; s < saes.size(); ++s) {
      const Sae& sae = *saes[s];
      const std::string& hook = hooks[hook_of[s]];
      const std::string& in_hook = sae.config().meta.hook_name;
      at::Tensor x_in;  // a transcoder's input rows, read at in_hook
      const model::HookFn read_input = [&](const at::Tensor& value, const model::HookPoint&) {
        const at::Tensor flat = per_token_rows(value, in_hook).reshape({-1, sae.d_in()});
        x_in = flat.index_select(0, rows_cpu.to(flat.device()));
        return value;
      };
      // Runs the SAE on the evaluated rows and splices its reconstruction in
      // at the output hook; the metrics see exactly what the model continues with.
      const model::HookFn splice_sae = [&](const at::Tensor& value, const model::HookPoint&) {
        const at::Tensor flat = per_token_rows(value, hook).reshape({-1, sae.d_out()});
        const at::Tensor idx = rows_cpu.to(flat.device());
        const at::Tensor target = flat.index_select(0, idx);
        if (sae.is_transcoder() && !x_in.defined())
          throw InternalError(hook + " ran before " + in_hook + ": a transcoder must read before it writes");
        const SaeOutput so = sae.forward(sae.is_transcoder() ? x_in : target);
        metrics[s].add(target, so.features, so.reconstruction);
        at::Tensor spliced = flat.clone();
        spliced.index_copy_(0, idx, so.reconstruction.to(spliced.device(), spliced.scalar_type()));
        return spliced.view(value.sizes());
      };
      std::vector<std::pair<std::string, model::HookFn>> replace = {{hook, splice_sae}};
      if (sae.is_transcoder()) replace.insert(replace.begin(), {in_hook, read_input});
      if (!o.ce_loss)  // up to the hook only: the splice records the metrics; nothing after it runs
        model.run(tb, {{hook}, replace});
      else
        nll_sae[s] += summed_nll(model.run(tb, {{kFinalHook}, replace}).hooks.at(kFinalHook), unembedding, tb.ids, scored);
      rows_done += rows_cpu.size(0) * (group ? group->size() : 1);  // distributed: this rank's share, scaled
      if (progress)
        progress->report({"evaluate", std::min(static_cast<double>(rows_done), total), total, "tokens",
                          saes.size() > 1 ? std::to_string(saes.size()) + " SAEs"
                                          : "L0 " + std::to_string(metrics[s].report().l0)});
    }
    n_windows += static_cast<int64_t>(batch.size());
  }
  if (group) {
    for (auto& m : metrics) m.reduce(*group);
    std::vector<double> sums = {nll_clean, static_cast<double>(ce_tokens), static_cast<double>(n_windows)};
    sums.insert(sums.end(), nll_sae.begin(), nll_sae.end());
    sums.insert(sums.end(), nll_zero.begin(), nll_zero.end());
    at::Tensor t = at::tensor(sums, at::kDouble);
    group->allreduce_sum(t, "merging the CE losses");
    const double* v = t.data_ptr<double>();
    nll_clean = v[0];
    ce_tokens = std::llround(v[1]);
    n_windows = std::llround(v[2]);
    for (std::size_t s = 0; s < saes.size(); ++s) nll_sae[s] = v[3 + s];
    for (std::size_t h = 0; h < hooks.size(); ++h) nll_zero[h] = v[3 + saes.size() + h];
  }
  for (std::size_t s = 0; s < saes.size(); ++s) {
    out[s].reconstruction = metrics[s].report();
    out[s].windows = n_windows;
    if (ce_tokens > 0) {
      const auto n = static_cast<double>(ce_tokens);
      out[s].ce.tokens = ce_tokens;
      out[s].ce.clean = nll_clean / n;
      out[s].ce.sae = nll_sae[s] / n;
      out[s].ce.zero = nll_zero[hook_of[s]] / n;
    }
  }
  return out;
}

SaeEvaluation evaluate_sae_on_windows(const model::LanguageModel& model, const Sae& sae,
                                      analysis::WindowSource& windows, const SaeEvalOptions& o,
                                      jobs::ProgressSink* progress, int64_t total_tokens) {
  return evaluate_saes_on_windows(model, {&sae}, windows, o, progress, total_tokens).front();
}

nlohmann::json evaluation_json(const SaeEvaluation& e) {
  const ReconstructionReport& r = e.reconstruction;
  const nlohmann::json null;
  nlohmann::json j = {
      {"mse", r.mse},
      {"l0", r.l0},
      {"l1", r.l1},
      {"explained_variance", r.explained_variance},
      {"explained_variance_formula", kExplainedVarianceFormula},
      {"ce_loss_clean", e.has_ce ? nlohmann::json(e.ce.clean) : null},
      {"ce_loss_sae", e.has_ce ? nlohmann::json(e.ce.sae) : null},
      {"ce_loss_zero", e.has_ce ? nlohmann::json(e.ce.zero) : null},
      {"ce_loss_recovered", e.has_ce ? nlohmann::json(ce_loss_recovered(e.ce)) : null},
      {"ce_loss_recovered_formula", "(ce_loss_zero - ce_loss_sae) / (ce_loss_zero - ce_loss_clean)"},
      {"ce_tokens", e.has_ce ? nlohmann::json(e.ce.tokens) : null},
      {"dead_fraction", r.dead_fraction},
      {"dense_fraction", r.dense_fraction},
      {"dense_threshold", r.dense_threshold},
      {"feature_density_histogram",
       {{"log10_min", r.histogram.log10_min},
        {"log10_max", r.histogram.log10_max},
        {"counts", r.histogram.counts},
        {"dead", r.histogram.dead}}},
      {"tokens", r.tokens},
      {"windows", e.windows},
      {"bos_included", e.include_bos},
      {"positions", evaluated_positions(e.include_bos, e.has_ce)}};
  return j;
}

WindowCeLossEvaluator::WindowCeLossEvaluator(const model::LanguageModel& model, analysis::WindowSource& windows,
                                             SaeEvalOptions options)
    : model_(model), windows_(windows), options_(options), start_(windows.position()) {
  options_.ce_loss = true;
}

CeLosses WindowCeLossEvaluator::evaluate(const Sae& sae) {
  windows_.seek(start_);
  return evaluate_sae_on_windows(model_, sae, windows_, options_).ce;
}

}  // namespace saescope::sae
