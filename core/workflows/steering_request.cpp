#include "core/workflows/steering_request.h"

#include <cmath>

#include "core/common/error.h"
#include "core/common/progress.h"
#include "core/model/language_model.h"
#include "core/model/model_registry.h"
#include "core/sae/sae.h"
#include "core/store/feature_store.h"
#include "core/store/workspace.h"
#include "core/tokenizer/bpe_tokenizer.h"
#include "core/workflows/engine_cache.h"
#include "core/workflows/input_probe.h"
#include "core/workflows/run_inputs.h"

namespace saescope::jobs {
namespace {

using nlohmann::json;

struct Engines {
  std::shared_ptr<const sae::Sae> sae;
  std::shared_ptr<const model::LanguageModel> model;
  std::shared_ptr<const tokenizer::BpeTokenizer> tokenizer;
};

Engines load(const std::string& model_dir, const std::string& sae_path, const std::string& device,
             EngineCache& engines) {
  Engines e;
  e.sae = engines.sae(sae_path);
  e.model = engines.model(model_dir, workflows::model_options_for({{sae_path, &e.sae->config()}}, device));
  e.tokenizer = engines.tokenizer(model_dir);
  return e;
}

// The text's ids with BOS as the SAE's harvest windows have it.
std::vector<int64_t> prompt_ids(const Engines& e, const std::string& text, const char* what) {
  const std::vector<tokenizer::TokenId> ids = e.tokenizer->encode_ids(text);
  if (ids.empty()) throw InputError("the " + std::string(what) + " holds no token");
  std::vector<int64_t> out;
  if (sae::run_prepends_bos(e.model->info(), {{e.sae->source(), &e.sae->config()}}))
    out.push_back(e.model->info().bos_token_id);
  out.insert(out.end(), ids.begin(), ids.end());
  return out;
}

std::string text_of(const tokenizer::BpeTokenizer& tok, const std::vector<int64_t>& ids) {
  std::vector<tokenizer::TokenId> t;
  for (int64_t id : ids)
    if (id >= 0 && id < tok.vocab_size()) t.push_back(static_cast<tokenizer::TokenId>(id));
  return tok.decode(t);
}

json generation_json(const tokenizer::BpeTokenizer& tok, const model::Generation& g) {
  return {{"ids", g.ids}, {"text", text_of(tok, g.ids)}, {"stopped_at_eos", g.stopped_at_eos}};
}

json changes_json(const tokenizer::BpeTokenizer& tok, const std::vector<analysis::TokenChange>& changes) {
  json out = json::array();
  for (const auto& c : changes)
    out.push_back({{"id", c.id},
                   {"token", text_of(tok, {c.id})},
                   {"log_prob_before", c.log_prob_before},
                   {"log_prob_after", c.log_prob_after}});
  return out;
}

json edits_json(const std::vector<analysis::FeatureEdit>& edits) {
  json out = json::array();
  for (const auto& e : edits) {
    json j = {{"feature", e.feature}, {"kind", analysis::to_string(e.kind)}};
    if (e.kind != analysis::FeatureEditKind::Ablate) j["value"] = e.value;
    out.push_back(j);
  }
  return out;
}

// The largest activation of `feature` in a finished harvest of this SAE on this model.
double harvested_max(store::Workspace& ws, int64_t model_id, int64_t sae_id, int64_t feature, const std::string& sae_path) {
  const std::string model_hash = ws.input(model_id)->content_hash, sae_hash = ws.input(sae_id)->content_hash;
  for (const store::ResultRecord& r : ws.results("harvest")) {
    if (!r.done || !r.model_id || !r.sae_id) continue;
    if (ws.input(*r.model_id)->content_hash != model_hash || ws.input(*r.sae_id)->content_hash != sae_hash) continue;
    store::FeatureStore fs(ws.db());
    if (const auto page = fs.page(r.id, feature, r.model_id); page && page->summary.max_act > 0)
      return page->summary.max_act;
  }
  throw InputError(ws.path() + ": no harvest of " + sae_path + " on this model records feature " +
                   std::to_string(feature) + " firing, so a strength in units of its largest activation is "
                   "undefined: harvest first, or give the strength in raw units");
}

// Returns the stored result for `key`, or runs `compute` and stores it.
SteeringOutcome stored_or_computed(store::Workspace* ws, const std::string& kind, int64_t model_id, int64_t sae_id,
                                   const json& params, const std::function<json()>& compute) {
  SteeringOutcome out;
  std::string key;
  if (ws) {
    key = store::Workspace::result_key(
        kind, {ws->input(model_id)->content_hash, ws->input(sae_id)->content_hash}, params);
    if (const auto done = ws->find_result(key); done && done->done) {
      out.reused = true;
      out.result_id = done->id;
      out.result = done->metrics;
      return out;
    }
  }
  out.result = compute();
  if (ws) {
    out.result_id = ws->begin_result(key, kind, model_id, sae_id, std::nullopt, params);
    ws->finish_result(out.result_id, out.result);
  }
  return out;
}

}  // namespace

SteeringOutcome run_steer(const SteerRequest& request, store::Workspace* ws, EngineCache& engines,
                          ProgressSink& progress) {
  SteerRequest r = request;
  int64_t model_id = 0, sae_id = 0;
  if (ws) {
    model_id = register_probed(*ws, r.model_dir);
    sae_id = register_probed(*ws, r.sae_path);
  }
  if (r.strength_in_max_units) {
    if (!ws) throw InputError("a strength in units of the feature's largest activation needs --workspace (its harvest)");
    for (auto& e : r.edits)
      if (e.kind == analysis::FeatureEditKind::Add) e.value *= harvested_max(*ws, model_id, sae_id, e.feature, r.sae_path);
  }
  const model::Sampling& s = r.options.sampling;
  const json params = {{"version", 1},         {"prompt", r.prompt},
                       {"edits", edits_json(r.edits)},
                       {"tokens", r.options.max_new_tokens}, {"temperature", s.temperature},
                       {"top_k", s.top_k},     {"top_p", s.top_p},
                       {"seed", s.seed},       {"from_position", r.options.from_position},
                       {"top_n", r.options.top_n}, {"device", r.device}};
  return stored_or_computed(ws, "steer", model_id, sae_id, params, [&] {
    const Engines e = load(r.model_dir, r.sae_path, r.device, engines);
    const std::vector<int64_t> prompt = prompt_ids(e, r.prompt, "prompt");
    const auto cancelled = [&] { return progress.cancelled(); };
    const analysis::SteerResult sr =
        analysis::steer(*e.model, *e.sae, prompt, r.edits, r.options, cancelled, [&](int64_t done, int64_t total) {
          progress.report({"steer", static_cast<double>(done), static_cast<double>(total), "tokens", ""});
        });
    progress.check_cancelled();  // a stopped continuation is not a result
    json j = {{"prompt", {{"ids", prompt}, {"text", r.prompt}}},
              {"hook", e.sae->config().output_hook()},
              {"edits", edits_json(r.edits)},
              {"baseline", generation_json(*e.tokenizer, sr.baseline)},
              {"steered", generation_json(*e.tokenizer, sr.steered)},
              {"next_token",
               {{"promoted", changes_json(*e.tokenizer, sr.next_token.promoted)},
                {"suppressed", changes_json(*e.tokenizer, sr.next_token.suppressed)},
                {"kl", sr.next_token.kl}}}};
    return j;
  });
}

SteeringOutcome run_ablate(const AblateRequest& r, store::Workspace* ws, EngineCache& engines) {
  int64_t model_id = 0, sae_id = 0;
  if (ws) {
    model_id = register_probed(*ws, r.model_dir);
    sae_id = register_probed(*ws, r.sae_path);
  }
  const json params = {{"version", 1}, {"text", r.text}, {"features", r.features}, {"device", r.device}};
  return stored_or_computed(ws, "ablate", model_id, sae_id, params, [&] {
    const Engines e = load(r.model_dir, r.sae_path, r.device, engines);
    const std::vector<int64_t> ids = prompt_ids(e, r.text, "text");
    const auto rows = analysis::ablation_attribution(*e.model, *e.sae, ids, r.features);
    json tokens = json::array();
    double total = 0;
    for (const auto& a : rows) {
      total += a.log_prob_without - a.log_prob_with;
      tokens.push_back({{"position", a.position},
                        {"token", text_of(*e.tokenizer, {ids[static_cast<size_t>(a.position)]})},
                        {"next_id", a.next_id},
                        {"next_token", text_of(*e.tokenizer, {a.next_id})},
                        {"log_prob_with", a.log_prob_with},
                        {"log_prob_without", a.log_prob_without}});
    }
    return json{{"hook", e.sae->config().output_hook()},
                {"features", r.features},
                {"ids", ids},
                {"tokens", tokens},
                {"total_change", total}};
  });
}

}  // namespace saescope::jobs
