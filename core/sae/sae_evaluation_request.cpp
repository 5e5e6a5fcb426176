#include "core/sae/sae_evaluation_request.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>

#include "core/analysis/corpus_windows.h"
#include "core/common/error.h"
#include "core/jobs/input_probe.h"
#include "core/model/gpt2.h"
#include "core/sae/activation_cache_source.h"
#include "core/sae/sae.h"
#include "core/sae/sae_folder.h"
#include "core/store/workspace.h"
#include "core/tokenizer/bpe_tokenizer.h"

namespace fs = std::filesystem;

namespace saescope::sae {
namespace {

bool assumed(const SaeConfig& c) { return c.center_writing_weights_source.rfind("assumed", 0) == 0; }

std::string cww_warning(const SaeConfig& c, const std::string& sae_dir) {
  return "warning: " + sae_dir + "/cfg.json does not say whether the SAE expects "
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

SaeEvalOutcome run_sae_eval(const SaeEvalRequest& r, store::Workspace* ws, jobs::ProgressSink& progress) {
  if (r.context < 2) throw InputError("--context must be at least 2 (BOS and one token)");
  if (r.max_tokens < 0) throw InputError("--tokens must not be negative");
  SaeEvalOutcome out;
  const SaeConfig cfg = read_sae_config((fs::path(r.sae_dir) / "cfg.json").string());
  if (assumed(cfg)) out.warnings.push_back(cww_warning(cfg, r.sae_dir));
  const std::string& hook = cfg.meta.hook_name;
  if (hook.empty()) throw InputError(r.sae_dir + "/cfg.json: no hook_name: where in the model does this SAE read?");

  int64_t model_id = 0, sae_id = 0, corpus_id = 0;
  nlohmann::json params;
  if (ws) {
    model_id = jobs::register_probed(*ws, r.model_dir);
    sae_id = jobs::register_probed(*ws, r.sae_dir);
    corpus_id = register_corpus(*ws, r.corpus);
    const std::string tok_hash = r.tokenizer_dir.empty() ? std::string() : ws->content_hash(r.tokenizer_dir);
    params = sae_eval_params(r, hook, cfg.center_writing_weights, tok_hash);
    out.key = store::Workspace::result_key(
        "reconstruction",
        {ws->input(model_id)->content_hash, ws->input(sae_id)->content_hash, ws->input(corpus_id)->content_hash},
        params);
    if (const auto done = ws->find_result(out.key); done && done->done) {
      out.reused = true;
      out.result_id = done->id;
      out.metrics = done->metrics;
      return out;
    }
  }

  Sae sae = load_sae(r.sae_dir);
  model::ModelOptions mo;
  mo.device = model::parse_device(r.device);
  mo.center_writing_weights = sae.config().center_writing_weights;
  const auto gpt2 = model::Gpt2::load(r.model_dir, mo);
  if (r.context > gpt2->config().n_positions)
    throw InputError("--context " + std::to_string(r.context) + " is longer than the model's " +
                     std::to_string(gpt2->config().n_positions) + " positions (" + r.model_dir +
                     "/config.json n_positions)");
  sae.to_device(mo.device);
  const tokenizer::BpeTokenizer tok =
      tokenizer::load_tokenizer(r.tokenizer_dir.empty() ? r.model_dir : r.tokenizer_dir);
  analysis::CorpusOptions co;
  co.context = r.context;
  co.max_tokens = r.max_tokens;
  co.bos_token = static_cast<int32_t>(gpt2->config().bos_token_id);
  co.eos_token = static_cast<int32_t>(gpt2->config().eos_token_id);
  analysis::CorpusWindows windows(r.corpus, tok, co);
  const analysis::WindowCount count = windows.count();
  if (const std::string bad = windows.problems_summary(); !bad.empty()) out.warnings.push_back("warning: " + bad);

  const int64_t rows = count.tokens - (r.options.include_bos ? 0 : count.windows);
  const SaeEvaluation e = evaluate_sae_on_windows(*gpt2, sae, windows, r.options, &progress, rows);
  out.metrics = evaluation_json(e);
  out.metrics["hook"] = hook;
  out.metrics["context"] = r.context;
  out.metrics["center_writing_weights"] = sae.config().center_writing_weights;
  out.metrics["center_writing_weights_source"] = sae.config().center_writing_weights_source;
  if (ws) {
    out.result_id = ws->begin_result(out.key, "reconstruction", model_id, sae_id, corpus_id, params);
    ws->finish_result(out.result_id, out.metrics);
  }
  return out;
}

SaeEvalOutcome run_sae_eval_on_cache(const std::string& sae_dir, const std::string& cache_path,
                                     double holdout_fraction, int64_t max_tokens,
                                     const SaeEvalOptions& o) {
  SaeEvalOutcome out;
  const Sae sae = load_sae(sae_dir);
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
  ReconstructionMetrics metrics(sae.d_in(), sae.d_sae(), o.dense_threshold, o.histogram_bins);
  at::NoGradGuard no_grad;
  while (true) {
    const at::Tensor x = source.next_batch(4096);
    if (x.size(0) == 0) break;
    const SaeOutput so_out = sae.forward(x);
    metrics.add(x, so_out.features, so_out.reconstruction);
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
  out.metrics["context"] = h.context;
  out.metrics["center_writing_weights"] = h.center_writing_weights;
  out.metrics["cache"] = cache_path;
  out.metrics["holdout_fraction"] = holdout_fraction;
  return out;
}

}  // namespace saescope::sae
