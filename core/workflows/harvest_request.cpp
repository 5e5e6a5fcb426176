#include "core/workflows/harvest_request.h"

#include "core/workflows/run_inputs.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <filesystem>

#include "core/corpus/corpus_windows.h"
#include "core/common/error.h"
#include "core/workflows/input_probe.h"
#include "core/model/model_registry.h"
#include "core/sae/formats/sae_formats.h"
#include "core/store/workspace.h"
#include "core/tokenizer/bpe_tokenizer.h"

namespace saescope::analysis {

nlohmann::json harvest_params(const HarvestRequest& r, const std::string& hook,
                              bool center_writing_weights, int64_t tokens, int64_t windows) {
  const HarvestOptions& o = r.options;
  return {{"version", 1},
          {"hook", hook},
          {"context", r.context},
          {"tokens", tokens},
          {"windows", windows},
          {"top_k", o.top_k},
          {"intervals", o.intervals},
          {"interval_samples", o.interval_samples},
          {"histogram_bins", o.histogram_bins},
          {"histogram_decades", o.histogram_decades},
          {"logit_effects", o.logit_effects},
          {"seed", o.seed},
          {"center_writing_weights", center_writing_weights},
          {"bos_counted", false}};
}

HarvestOutcome run_harvest(store::Workspace& ws, const HarvestRequest& r,
                           jobs::ProgressSink& progress) {
  namespace fs = std::filesystem;
  if (r.sae_dirs.empty()) throw InputError("harvest: give at least one SAE folder");
  HarvestOutcome out;

  std::vector<sae::Sae> saes;
  for (const std::string& dir : r.sae_dirs) {
    saes.push_back(sae::open_sae(dir));
    const auto& meta = saes.back().config().meta;
    if (meta.hook_name.empty()) throw InputError(dir + ": the SAE names no hook (hook_name): where in the model does it read? (--hook)");
    if (meta.hook_head_index)
      throw InputError(dir + ": SAEs of a single attention head (hook_head_index) are not harvested yet");
  }
  std::vector<workflows::SaeRef> refs;
  for (size_t i = 0; i < saes.size(); ++i) refs.push_back({r.sae_dirs[i], &saes[i].config()});
  const model::ModelOptions mo = workflows::model_options_for(refs, r.device);
  const bool center = mo.center_writing_weights;
  const auto gpt2 = model::load_language_model(r.model_dir, mo);
  const std::string tok_dir = r.tokenizer_dir.empty() ? r.model_dir : r.tokenizer_dir;
  const tokenizer::BpeTokenizer tok = tokenizer::load_tokenizer(tok_dir);

  // Each SAE's hook must exist in this model and be as wide as the SAE reads.
  std::vector<std::string> hooks;
  for (const auto& s : saes) hooks.push_back(s.config().meta.hook_name);
  {
    for (size_t i = 0; i < saes.size(); ++i)
      saes[i].expect_d_in(gpt2->hook_schema().per_token_width(hooks[i]), hooks[i]);
  }
  for (auto& s : saes) s.to_device(mo.device);

  std::vector<std::pair<std::string, const sae::SaeConfig*>> configs;
  for (size_t i = 0; i < saes.size(); ++i) configs.emplace_back(r.sae_dirs[i], &saes[i].config());
  model::ModelInfo run_info = gpt2->info();
  run_info.prepend_bos = sae::run_prepends_bos(run_info, configs);
  CorpusWindows windows(r.corpus, tok, corpus_options_for(run_info, r.model_dir, r.context, r.max_tokens));
  const WindowCount count = windows.count();
  out.corpus_problems = windows.problems_summary();

  out.model_id = ws.register_input(store::InputKind::Model, r.model_dir, jobs::probe_input(r.model_dir).config);
  out.corpus_id = ws.register_input(store::InputKind::Corpus, r.corpus,
                                    {{"bytes", static_cast<int64_t>(fs::file_size(r.corpus))}});
  const std::string model_hash = ws.input(out.model_id)->content_hash;
  const std::string corpus_hash = ws.input(out.corpus_id)->content_hash;
  const std::string tok_hash = r.tokenizer_dir.empty() ? std::string() : ws.content_hash(r.tokenizer_dir);

  std::vector<HarvestTarget> targets;
  for (size_t i = 0; i < saes.size(); ++i) {
    HarvestedSae h;
    h.sae_dir = r.sae_dirs[i];
    h.hook = hooks[i];
    h.sae_id = ws.register_input(store::InputKind::Sae, h.sae_dir, jobs::probe_input(h.sae_dir).config);
    nlohmann::json params = harvest_params(r, h.hook, center, count.tokens, count.windows);
    if (mo.fold_value_biases) params["fold_value_biases"] = true;  // absent when false: older keys hold
    if (!tok_hash.empty()) params["tokenizer"] = tok_hash;
    h.key = store::Workspace::result_key(
        "harvest", {model_hash, ws.input(h.sae_id)->content_hash, corpus_hash}, params);
    const auto twice = std::find_if(out.saes.begin(), out.saes.end(),
                                    [&](const HarvestedSae& o) { return o.key == h.key; });
    if (twice != out.saes.end()) {  // the same SAE given twice: one harvest
      h.result_id = twice->result_id;
      h.reused = twice->reused;
      out.saes.push_back(h);
      continue;
    }
    const auto existing = ws.find_result(h.key);
    h.reused = existing && existing->done;
    h.result_id = h.reused ? existing->id
                           : ws.begin_result(h.key, "harvest", out.model_id, h.sae_id, out.corpus_id, params);
    if (!h.reused) targets.push_back({&saes[i], h.hook, h.result_id, h.key});
    out.saes.push_back(h);
  }
  if (targets.empty()) return out;

  HarvestInputs in;
  in.model = gpt2.get();
  in.windows = &windows;
  in.context = r.context;
  in.tokenizer = &tok;
  in.model_id = out.model_id;
  out.report = harvest_features(ws, in, targets, r.options, progress);
  out.ran = true;
  return out;
}

}  // namespace saescope::analysis
