#include "core/polysemy/pseval_runner.h"

#include <chrono>

#include "core/polysemy/pseval_collector.h"
#include "core/polysemy/pseval_plan.h"

namespace saescope::polysemy {

PsEvalRun run_pseval(const model::LanguageModel& model, const tokenizer::BpeTokenizer& tok,
                     const std::vector<PsEvalSae>& saes, const std::vector<WordPair>& pairs,
                     const std::vector<SenseOccurrence>& occurrences, const PsEvalOptions& options,
                     jobs::ProgressSink* progress) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::pair<std::string, const sae::SaeConfig*>> configs;
  for (const PsEvalSae& s : saes) configs.emplace_back(s.sae->source(), &s.sae->config());
  model::ModelInfo run_info = model.info();
  run_info.prepend_bos = sae::run_prepends_bos(run_info, configs);
  PromptPlan plan = plan_prompts(tok, run_info, pairs, occurrences,
                                 PlanOptions{options.prompt_template, options.target, options.reference_compat});
  trim_after_targets(plan, options.reconstruction);

  std::vector<SaeAtHook> at_hooks;
  for (const PsEvalSae& s : saes)
    at_hooks.push_back({s.sae, s.hook.empty() ? s.sae->config().meta.hook_name : s.hook});
  const Collected c = collect_picks(
      model, plan, at_hooks, CollectOptions{options.batch_size, options.baseline, options.reconstruction},
      progress);

  PsEvalRun run;
  const ScoreContext ctx{plan, pairs, occurrences, options.reference_compat};
  // Scoring (sense clustering, a PCA per word) takes a while after the last
  // prompt on a large set: said, so a bar does not sit at its end.
  const double scorings = static_cast<double>(saes.size() + (options.baseline ? c.hooks.size() : 0));
  double scored = 0;
  const auto scored_one = [&] {
    if (progress) progress->report({"ps-eval scoring", ++scored, scorings, "scores", ""});
  };
  for (std::size_t i = 0; i < saes.size(); ++i) {
    const std::size_t h = c.sae_hook[i];
    PsEvalScore s = score_picks(ctx, c.sae_picks[i], saes[i].sae,
                                options.reconstruction ? &c.mse[i] : nullptr,
                                options.reconstruction ? &c.l0[i] : nullptr, c.occurrence_rows[h],
                                c.occurrence_row);
    s.name = saes[i].name;
    s.hook = c.hooks[h];
    run.saes.push_back(std::move(s));
    scored_one();
  }
  if (options.baseline)
    for (std::size_t h = 0; h < c.hooks.size(); ++h) {
      PsEvalScore s = score_picks(ctx, c.baseline_picks[h], nullptr, nullptr, nullptr,
                                  c.occurrence_rows[h], c.occurrence_row);
      s.hook = c.hooks[h];
      run.baselines.push_back(std::move(s));
      scored_one();
    }
  run.stats.pairs = pairs.size();
  run.stats.occurrences = occurrences.size();
  run.stats.prompt_uses = plan.prompt_uses;
  run.stats.prompts = plan.prompts.size();
  run.stats.batches = c.batches;
  run.stats.tokens = c.tokens;
  run.stats.padded_tokens = c.padded_tokens;
  run.stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

}  // namespace saescope::polysemy
