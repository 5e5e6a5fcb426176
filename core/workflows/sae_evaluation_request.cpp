#include "core/workflows/sae_evaluation_request.h"

#include "core/workflows/run_inputs.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>
#include <optional>

#include "core/corpus/corpus_windows.h"
#include "core/common/error.h"
#include "core/common/sha256.h"
#include "core/distributed/process_group.h"
#include "core/workflows/input_probe.h"
#include "core/model/model_registry.h"
#include "core/sae/activation_cache_source.h"
#include "core/sae/sae.h"
#include "core/sae/formats/sae_formats.h"
#include "core/store/workspace.h"
#include "core/tokenizer/bpe_tokenizer.h"

namespace fs = std::filesystem;

namespace saescope::sae {
namespace {

bool assumed(const SaeConfig& c) { return c.center_writing_weights_source.rfind("assumed", 0) == 0; }

std::string cww_warning(const SaeConfig& c, const std::string& sae_dir) {
  return "warning: " + sae_dir + " does not say whether the SAE expects "
         "center_writing_weights; assumed " + std::string(c.center_writing_weights ? "true" : "false") +
         " (" + c.center_writing_weights_source + "), so the model is loaded " +
         (c.center_writing_weights ? "with" : "without") + " centred writing weights";
}

// The corpus as the probe registers it; a corpus the probe does not
// recognise by its extension is still registered as a corpus.
int64_t register_corpus(store::Workspace& ws, const std::string& path) {
  try {
    jobs::ProbedInput p;
    const int64_t id = jobs::register_probed(ws, path, &p);
    if (p.kind == store::InputKind::Corpus) return id;
  } catch (const InputError&) {
    if (!fs::is_regular_file(path)) throw;
  }
  return ws.register_input(store::InputKind::Corpus, path,
                           {{"bytes", static_cast<int64_t>(fs::file_size(path))}});
}

}  // namespace

nlohmann::json sae_eval_params(const SaeEvalRequest& r, const std::string& hook,
                               bool center_writing_weights, const std::string& tokenizer_hash) {
  nlohmann::json p = {{"version", 1},
                      {"hook", hook},
                      {"context", r.context},
                      {"max_tokens", r.max_tokens},
                      {"include_bos", r.options.include_bos},
                      {"ce_loss", r.options.ce_loss},
                      {"dense_threshold", r.options.dense_threshold},
                      {"histogram_bins", r.options.histogram_bins},
                      {"center_writing_weights", center_writing_weights}};
  if (!tokenizer_hash.empty()) p["tokenizer"] = tokenizer_hash;
  return p;
}

namespace {

// What a request needs once its stored result was not found.
struct PendingEval {
  std::size_t index = 0;  // in the requests
  int64_t model_id = 0, sae_id = 0, corpus_id = 0;
  nlohmann::json params;
  bool center_writing_weights = false;
  bool fold_value_biases = false;
  bool prepend_bos = true;  // the windows' BOS rule (run_prepends_bos)
};

// Requests that can share one model and one pass over the windows.
std::string group_key(const SaeEvalRequest& r, bool center_writing_weights, bool fold_value_biases, bool prepend_bos) {
  return nlohmann::json{{"m", r.model_dir},          {"c", r.corpus},
                        {"t", r.tokenizer_dir},      {"d", r.device},
                        {"x", r.context},            {"n", r.max_tokens},
                        {"b", r.options.batch_windows}, {"bos", r.options.include_bos},
                        {"ce", r.options.ce_loss},   {"dt", r.options.dense_threshold},
                        {"hb", r.options.histogram_bins}, {"cww", center_writing_weights},
                        {"pb", prepend_bos}, {"fvb", fold_value_biases}}
      .dump();
}

// Distributed: rank 0 alone holds the workspace, so it decides which
// requests run (the others drop what it found stored); then every rank must
// have been given the same files, compared by content hash before any work.
void agree_across_ranks(dist::ProcessGroup& group, const std::vector<SaeEvalRequest>& requests,
                        store::Workspace* ws, std::vector<PendingEval>& pending) {
  at::Tensor runs = at::zeros({static_cast<int64_t>(requests.size())}, at::kLong);
  for (const PendingEval& p : pending) runs[static_cast<int64_t>(p.index)] = 1;
  group.broadcast(runs, 0, "agreeing on what to evaluate");
  std::vector<PendingEval> kept;
  std::string fingerprint;
  for (PendingEval& p : pending) {
    if (runs[static_cast<int64_t>(p.index)].item<int64_t>() == 0) continue;
    const SaeEvalRequest& r = requests[p.index];
    const auto hash = [&](const std::string& path) { return ws ? ws->content_hash(path) : sha256_tree(path); };
    fingerprint += hash(r.model_dir) + " " + hash(r.sae_dir) + " " + hash(r.corpus) + "\n";
    kept.push_back(std::move(p));
  }
  group.check_same(fingerprint, "the model, SAE and corpus files");
  pending = std::move(kept);
}

}  // namespace

std::vector<SaeEvalOutcome> run_sae_evals(const std::vector<SaeEvalRequest>& requests, store::Workspace* ws,
                                          jobs::ProgressSink& progress) {
  std::vector<SaeEvalOutcome> outs(requests.size());
  std::vector<PendingEval> pending;
  std::vector<std::optional<Sae>> loaded(requests.size());  // read once, run in its group
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const SaeEvalRequest& r = requests[i];
    SaeEvalOutcome& out = outs[i];
    if (r.context < 2) throw InputError("--context must be at least 2 (BOS and one token)");
    if (r.max_tokens < 0) throw InputError("--tokens must not be negative");
    loaded[i] = open_sae(r.sae_dir);
    const SaeConfig& cfg = loaded[i]->config();
    if (assumed(cfg)) out.warnings.push_back(cww_warning(cfg, r.sae_dir));
    const std::string& hook = cfg.meta.hook_name;
    if (hook.empty()) throw InputError(r.sae_dir + ": the SAE names no hook (hook_name): where in the model does it read?");
    PendingEval p;
    p.index = i;
    const model::ModelOptions run = workflows::model_options_for({{r.sae_dir, &cfg}}, r.device);
    p.center_writing_weights = run.center_writing_weights;
    p.fold_value_biases = run.fold_value_biases;
    p.prepend_bos = run_prepends_bos(model::read_model_info(r.model_dir), {{r.sae_dir, &cfg}});
    if (ws) {
      p.model_id = jobs::register_probed(*ws, r.model_dir);
      p.sae_id = jobs::register_probed(*ws, r.sae_dir);
      p.corpus_id = register_corpus(*ws, r.corpus);
      const std::string tok_hash = r.tokenizer_dir.empty() ? std::string() : ws->content_hash(r.tokenizer_dir);
      p.params = sae_eval_params(r, hook, cfg.center_writing_weights, tok_hash);
      if (p.fold_value_biases) p.params["fold_value_biases"] = true;
      out.key = store::Workspace::result_key("reconstruction",
                                             {ws->input(p.model_id)->content_hash, ws->input(p.sae_id)->content_hash,
                                              ws->input(p.corpus_id)->content_hash},
                                             p.params);
      if (const auto done = ws->find_result(out.key); done && done->done) {
        out.reused = true;
        out.result_id = done->id;
        out.metrics = done->metrics;
        continue;
      }
    }
    pending.push_back(std::move(p));
  }

  if (dist::ProcessGroup* group = dist::world()) agree_across_ranks(*group, requests, ws, pending);

  // One model load, one tokenisation and one pass over the windows per group.
  std::vector<bool> grouped(pending.size(), false);
  for (std::size_t g = 0; g < pending.size(); ++g) {
    if (grouped[g]) continue;
    const SaeEvalRequest& r = requests[pending[g].index];
    const std::string key =
        group_key(r, pending[g].center_writing_weights, pending[g].fold_value_biases, pending[g].prepend_bos);
    std::vector<const PendingEval*> members;
    for (std::size_t j = g; j < pending.size(); ++j)
      if (!grouped[j] && group_key(requests[pending[j].index], pending[j].center_writing_weights, pending[j].fold_value_biases,
                                       pending[j].prepend_bos) == key) {
        grouped[j] = true;
        members.push_back(&pending[j]);
      }

    model::ModelOptions mo;
    mo.device = model::parse_device(r.device);
    mo.center_writing_weights = pending[g].center_writing_weights;
    mo.fold_value_biases = pending[g].fold_value_biases;
    std::vector<Sae> saes;
    for (const PendingEval* m : members) {
      saes.push_back(std::move(*loaded[m->index]));
      saes.back().to_device(mo.device);
    }
    const auto gpt2 = model::load_language_model(r.model_dir, mo);
    model::ModelInfo run_info = gpt2->info();
    run_info.prepend_bos = pending[g].prepend_bos;
    const analysis::CorpusOptions co = analysis::corpus_options_for(run_info, r.model_dir, r.context, r.max_tokens);
    const tokenizer::BpeTokenizer tok =
        tokenizer::load_tokenizer(r.tokenizer_dir.empty() ? r.model_dir : r.tokenizer_dir);
    analysis::CorpusWindows windows(r.corpus, tok, co);
    const analysis::WindowCount count = windows.count();
    const std::string bad = windows.problems_summary();

    std::vector<const Sae*> sae_ptrs;
    for (const Sae& sae : saes) sae_ptrs.push_back(&sae);
    const int64_t rows = count.tokens - (r.options.include_bos ? 0 : count.windows);
    const std::vector<SaeEvaluation> evals = evaluate_saes_on_windows(*gpt2, sae_ptrs, windows, r.options, &progress, rows);
    for (std::size_t k = 0; k < members.size(); ++k) {
      const PendingEval& m = *members[k];
      SaeEvalOutcome& out = outs[m.index];
      const Sae& sae = saes[k];
      if (!bad.empty()) out.warnings.push_back("warning: " + bad);
      out.metrics = evaluation_json(evals[k]);
      out.metrics["hook"] = sae.config().meta.hook_name;
      // A transcoder is measured (and its CE spliced) where it writes.
      if (sae.is_transcoder()) out.metrics["hook_out"] = sae.config().output_hook();
      out.metrics["context"] = r.context;
      out.metrics["center_writing_weights"] = sae.config().center_writing_weights;
      out.metrics["center_writing_weights_source"] = sae.config().center_writing_weights_source;
      if (ws) {
        out.result_id = ws->begin_result(out.key, "reconstruction", m.model_id, m.sae_id, m.corpus_id, m.params);
        ws->finish_result(out.result_id, out.metrics);
      }
    }
  }
  return outs;
}

SaeEvalOutcome run_sae_eval(const SaeEvalRequest& r, store::Workspace* ws, jobs::ProgressSink& progress) {
  return run_sae_evals({r}, ws, progress).front();
}

SaeEvalOutcome run_sae_eval_on_cache(const std::string& sae_dir, const std::string& cache_path,
                                     double holdout_fraction, int64_t max_tokens,
                                     const SaeEvalOptions& o, const std::string& target_cache_path) {
  SaeEvalOutcome out;
  const Sae sae = open_sae(sae_dir);
  const ActivationCache cache = ActivationCache::open(cache_path);
  const ActivationCacheHeader& h = cache.header();
  if (sae.config().meta.hook_name != h.hook)
    throw InputError(sae_dir + " reads " + sae.config().meta.hook_name + " but " + cache_path +
                     " holds " + h.hook);
  if (sae.config().center_writing_weights != h.center_writing_weights) {
    const std::string what = cache_path + " was taken with center_writing_weights=" +
                             (h.center_writing_weights ? "true" : "false") + " but " + sae_dir +
                             " expects " + (sae.config().center_writing_weights ? "true" : "false");
    if (!assumed(sae.config())) throw InputError(what);
    out.warnings.push_back("warning: " + what + " (" + sae.config().center_writing_weights_source +
                           "): the metrics are those of the cache's activations");
  }
  sae.expect_d_in(cache.d_in(), cache_path + " (" + h.hook + ")");
  const int64_t first = holdout_first_row(cache, holdout_fraction);
  int64_t rows = cache.rows() - first;
  if (max_tokens > 0) rows = std::min(rows, max_tokens);
  CacheStreamOptions so;
  so.first_row = first;
  so.rows = rows;
  so.shuffle = false;  // metrics do not depend on the order
  CacheActivationSource source(cache, so);
  // A transcoder's targets: its output hook's activations of the same rows.
  if (sae.is_transcoder() == target_cache_path.empty())
    throw InputError(sae_dir + (sae.is_transcoder() ? ": a transcoder is measured against activations at " +
                                                          sae.config().output_hook() + "; give their cache"
                                                    : ": an SAE is measured against its own input, not a target cache"));
  std::optional<ActivationCache> target_cache;
  std::optional<CacheActivationSource> targets;
  if (sae.is_transcoder()) {
    target_cache = ActivationCache::open(target_cache_path);
    if (target_cache->header().hook != sae.config().output_hook() || target_cache->rows() != cache.rows() ||
        target_cache->d_in() != sae.d_out())
      throw InputError(target_cache_path + " does not hold " + sae.config().output_hook() + " for the tokens of " +
                       cache_path);
    targets.emplace(*target_cache, so);
  }
  ReconstructionMetrics metrics(sae.d_out(), sae.d_sae(), o.dense_threshold, o.histogram_bins);
  at::NoGradGuard no_grad;
  while (true) {
    const at::Tensor x = source.next_batch(4096);
    if (x.size(0) == 0) break;
    const SaeOutput so_out = sae.forward(x);
    metrics.add(targets ? targets->next_batch(x.size(0)) : x, so_out.features, so_out.reconstruction);
  }
  SaeEvaluation e;
  e.reconstruction = metrics.report();
  e.include_bos = h.include_bos;
  const int64_t per_window = h.rows_per_window();
  e.windows = std::min(cache.windows() - first / per_window, (rows + per_window - 1) / per_window);
  out.metrics = evaluation_json(e);
  out.metrics["positions"] = evaluated_positions(h.include_bos, false) +
                             " (as cached), held-out windows from row " + std::to_string(first);
  out.metrics["hook"] = h.hook;
  if (sae.is_transcoder()) out.metrics["hook_out"] = sae.config().output_hook();
  out.metrics["context"] = h.context;
  out.metrics["center_writing_weights"] = h.center_writing_weights;
  out.metrics["cache"] = cache_path;
  out.metrics["holdout_fraction"] = holdout_fraction;
  return out;
}

}  // namespace saescope::sae
