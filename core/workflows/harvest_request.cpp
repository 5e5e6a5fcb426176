#include "core/workflows/harvest_request.h"

#include "core/workflows/run_inputs.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <filesystem>

#include "core/corpus/corpus_windows.h"
#include "core/common/error.h"
#include "core/common/sha256.h"
#include "core/distributed/process_group.h"
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
  return run_harvest(&ws, ws.path(), r, progress, nullptr);
}

HarvestOutcome run_harvest(store::Workspace* ws_ptr, const std::string& workspace_path, const HarvestRequest& r,
                           jobs::ProgressSink& progress, dist::ProcessGroup* group) {
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

  // Rank 0 (or the one process) registers the inputs and finds what is done;
  // other ranks hash the same files, so every rank names the same results.
  std::string model_hash, corpus_hash;
  if (ws_ptr) {
    store::Workspace& ws = *ws_ptr;
    out.model_id = ws.register_input(store::InputKind::Model, r.model_dir, jobs::probe_input(r.model_dir).config);
    out.corpus_id = ws.register_input(store::InputKind::Corpus, r.corpus,
                                      {{"bytes", static_cast<int64_t>(fs::file_size(r.corpus))}});
    model_hash = ws.input(out.model_id)->content_hash;
    corpus_hash = ws.input(out.corpus_id)->content_hash;
  } else {
    model_hash = sha256_tree(r.model_dir);
    corpus_hash = sha256_tree(r.corpus);
  }
  const auto hash = [&](const std::string& path) { return ws_ptr ? ws_ptr->content_hash(path) : sha256_tree(path); };
  const std::string tok_hash = r.tokenizer_dir.empty() ? std::string() : hash(r.tokenizer_dir);

  std::vector<HarvestTarget> targets;
  for (size_t i = 0; i < saes.size(); ++i) {
    HarvestedSae h;
    h.sae_dir = r.sae_dirs[i];
    h.hook = hooks[i];
    if (ws_ptr) h.sae_id = ws_ptr->register_input(store::InputKind::Sae, h.sae_dir, jobs::probe_input(h.sae_dir).config);
    nlohmann::json params = harvest_params(r, h.hook, center, count.tokens, count.windows);
    if (mo.fold_value_biases) params["fold_value_biases"] = true;  // absent when false: older keys hold
    if (!tok_hash.empty()) params["tokenizer"] = tok_hash;
    h.key = store::Workspace::result_key(
        "harvest", {model_hash, ws_ptr ? ws_ptr->input(h.sae_id)->content_hash : hash(h.sae_dir), corpus_hash}, params);
    const auto twice = std::find_if(out.saes.begin(), out.saes.end(),
                                    [&](const HarvestedSae& o) { return o.key == h.key; });
    if (twice != out.saes.end()) {  // the same SAE given twice: one harvest
      h.result_id = twice->result_id;
      h.reused = twice->reused;
      out.saes.push_back(h);
      continue;
    }
    if (ws_ptr) {
      const auto existing = ws_ptr->find_result(h.key);
      h.reused = existing && existing->done;
      h.result_id = h.reused ? existing->id
                             : ws_ptr->begin_result(h.key, "harvest", out.model_id, h.sae_id, out.corpus_id, params);
    }
    out.saes.push_back(h);
    targets.push_back({&saes[i], h.hook, h.result_id, h.key});
  }
  if (group) {
    std::string keys;
    for (const HarvestTarget& t : targets) keys += t.key + "\n";
    group->check_same(keys, "the model, SAE, corpus and tokenizer files (or harvest options)");
    // What rank 0 found done is done for all.
    at::Tensor reused = at::zeros({static_cast<int64_t>(out.saes.size())}, at::kLong);
    for (size_t i = 0; i < out.saes.size(); ++i) reused[static_cast<int64_t>(i)] = out.saes[i].reused ? 1 : 0;
    group->broadcast(reused, 0, "agreeing on what to harvest");
    for (size_t i = 0; i < out.saes.size(); ++i) out.saes[i].reused = reused[static_cast<int64_t>(i)].item<int64_t>() != 0;
  }
  targets.erase(std::remove_if(targets.begin(), targets.end(),
                               [&](const HarvestTarget& t) {
                                 return std::any_of(out.saes.begin(), out.saes.end(), [&](const HarvestedSae& h) {
                                   return h.key == t.key && h.reused;
                                 });
                               }),
                targets.end());
  if (targets.empty()) return out;

  HarvestInputs in;
  in.model = gpt2.get();
  in.windows = &windows;
  in.context = r.context;
  in.tokenizer = &tok;
  if (ws_ptr) in.model_id = out.model_id;
  in.group = group;
  out.report = harvest_features(ws_ptr, workspace_path, in, targets, r.options, progress);
  out.ran = true;
  return out;
}

}  // namespace saescope::analysis
