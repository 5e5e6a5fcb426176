#include "core/demo/demo_workspace.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>

#include "core/workflows/harvest_request.h"
#include "core/common/error.h"
#include "core/workflows/input_probe.h"
#include "core/polysemy/dataset_writers.h"
#include "core/workflows/pseval_job.h"
#include "core/polysemy/sense_pairs.h"
#include "core/polysemy/wordnet_occurrences.h"
#include "core/workflows/sae_evaluation_request.h"
#include "core/workflows/workspace_choices.h"
#include "core/store/feature_store.h"
#include "core/store/workspace.h"

namespace saescope::demo {
namespace fs = std::filesystem;

namespace {
// Seconds each stage took in a first build with the default options on this
// project's 2-core machine, which other work shares: the lesser of two runs
// (the other: harvest 83 s, reconstruction 513 s, PS-Eval's prompts 126 s,
// its scoring and storing 73 s together, each slowed by builds beside it).
constexpr double kWordNetSeconds = 1, kReconstructionSeconds = 243;
// The harvest's passes, a third of its count each: the model and SAEs over
// the corpus, histograms from the spill, then logit effects, examples and
// writing (34 s in all).
constexpr double kHarvestPassSeconds[3] = {18, 1, 15};
// PS-Eval: its prompts (after the corpus scan for unlabelled uses), then
// scoring (a PCA per word) and storing 34k occurrences per SAE, which say
// nothing on the prompt count.
constexpr double kPromptSeconds = 89, kScoringSeconds = 31, kStoringSeconds = 8;
}  // namespace

std::vector<jobs::StagedProgress::Stage> demo_build_stages(const DemoBuildOptions& options) {
  // The measured seconds (above), scaled by the tokens asked for: the bar's
  // fraction and ETA follow this shape; the pace is then this run's own.
  const DemoBuildOptions defaults;
  const double harvest_scale = double(options.harvest_tokens) / double(defaults.harvest_tokens);
  std::vector<jobs::StagedProgress::Part> passes;
  double harvest = 0;
  for (int p = 0; p < 3; ++p) {
    passes.push_back({"harvest pass " + std::to_string(p + 1) + "/3", kHarvestPassSeconds[p] * harvest_scale,
                      p / 3.0, (p + 1) / 3.0});
    harvest += passes.back().expected_seconds;
  }
  const double recon = kReconstructionSeconds * double(options.eval_tokens) / double(defaults.eval_tokens);
  const double pseval = kPromptSeconds + kScoringSeconds + kStoringSeconds;
  return {{"WordNet", kWordNetSeconds},
          {"harvest", harvest, passes},
          {"reconstruction", recon},
          {"PS-Eval", pseval,
           {{"ps-eval", kPromptSeconds}, {"ps-eval scoring", kScoringSeconds}, {"ps-eval storing", kStoringSeconds}}}};
}

DemoBuildResult build_demo_workspace(const DemoAssets& assets, const DemoBuildOptions& options,
                                     jobs::ProgressSink& progress) {
  if (options.workspace_path.empty()) throw InputError("demo: no workspace path given");
  DemoBuildResult result;
  result.workspace_path = options.workspace_path;
  const fs::path ws_dir = fs::absolute(options.workspace_path).parent_path();
  std::error_code ec;
  fs::create_directories(ws_dir, ec);
  if (ec) throw InputError(ws_dir.string() + ": cannot create the folder (" + ec.message() + ")");
  auto ws = store::Workspace::open(options.workspace_path);
  jobs::StagedProgress stages(progress, demo_build_stages(options));
  const auto step_done = [&](bool reused, const std::string& line) {
    (reused ? result.steps_reused : result.steps_run) += 1;
    result.log.push_back((reused ? "reused: " : "computed: ") + line);
  };

  result.model_id = jobs::register_probed(*ws, assets.model_dir);
  for (const std::string& dir : assets.sae_dirs) result.sae_ids.push_back(jobs::register_probed(*ws, dir));
  jobs::register_probed(*ws, assets.corpus);
  const int64_t context = workflows::default_context(assets.model_dir);

  // 1. The WordNet sense set (occurrences + WiC-style pairs), built once.
  const fs::path data_dir =
      options.dataset_dir.empty() ? ws_dir / "wordnet-senses" : fs::path(options.dataset_dir);
  result.occurrences_path = (data_dir / "wordnet_occurrences.jsonl").string();
  result.pairs_path = (data_dir / "wordnet_pairs.jsonl").string();
  const bool have_set = fs::is_regular_file(result.occurrences_path) && fs::is_regular_file(result.pairs_path);
  jobs::ProgressSink& wordnet = stages.begin("WordNet");
  if (!have_set) {
    wordnet.report({"WordNet", 0, 2, "stages", "reading " + options.wordnet_dir});
    const auto built = polysemy::build_wordnet_occurrences(options.wordnet_dir);
    wordnet.report({"WordNet", 1, 2, "stages", "forming pairs"});
    const auto set = polysemy::make_sense_pairs(built.occurrences, {});
    fs::create_directories(data_dir, ec);
    if (ec) throw InputError(data_dir.string() + ": cannot create the folder (" + ec.message() + ")");
    // Pairs last: their presence is what says the set is complete.
    polysemy::write_occurrences_jsonl(result.occurrences_path, built.occurrences);
    polysemy::write_pairs_jsonl(result.pairs_path, set.pairs);
    wordnet.report({"WordNet", 2, 2, "stages", ""});
  }
  jobs::register_probed(*ws, result.occurrences_path);
  jobs::register_probed(*ws, result.pairs_path);
  stages.end();
  step_done(have_set, "WordNet sense set in " + data_dir.string());

  // 2. Feature dashboards: one pass of the model for every SAE.
  analysis::HarvestRequest harvest;
  harvest.model_dir = assets.model_dir;
  harvest.sae_dirs = assets.sae_dirs;
  harvest.corpus = assets.corpus;
  harvest.device = options.device;
  harvest.context = context;
  harvest.max_tokens = options.harvest_tokens;
  const auto harvested = analysis::run_harvest(*ws, harvest, stages.begin("harvest"));
  stages.end();  // the Features view can fill now
  step_done(!harvested.ran, "feature harvest of " + std::to_string(assets.sae_dirs.size()) +
                                " SAEs over " + std::to_string(options.harvest_tokens) + " tokens");

  // 3. Reconstruction: MSE, L0, explained variance, CE loss recovered; the
  // SAEs share the clean and zero-ablated passes.
  std::vector<sae::SaeEvalRequest> evals;
  for (const std::string& dir : assets.sae_dirs) {
    sae::SaeEvalRequest eval;
    eval.model_dir = assets.model_dir;
    eval.sae_dir = dir;
    eval.corpus = assets.corpus;
    eval.device = options.device;
    eval.context = context;
    eval.max_tokens = options.eval_tokens;
    evals.push_back(std::move(eval));
  }
  const auto evaluated_recon = sae::run_sae_evals(evals, ws.get(), stages.begin("reconstruction"));
  stages.end();
  const bool all_reused = std::all_of(evaluated_recon.begin(), evaluated_recon.end(),
                                      [](const sae::SaeEvalOutcome& o) { return o.reused; });
  step_done(all_reused, "reconstruction metrics over " + std::to_string(options.eval_tokens) + " tokens");

  // 4. PS-Eval of every SAE in one pass of the model over the prompts.
  polysemy::PsEvalJob pseval;
  pseval.model_dir = assets.model_dir;
  pseval.sae_dirs = assets.sae_dirs;
  pseval.dataset_path = result.pairs_path;
  pseval.occurrences_path = result.occurrences_path;
  pseval.split = options.pseval_split;
  pseval.device = options.device;
  pseval.options.reconstruction = false;  // step 3 measured it on running text
  pseval.corpus_path = assets.corpus;     // unlabelled uses, coloured by predicted sense
  pseval.corpus_per_word = options.corpus_per_word;
  pseval.workspace = ws.get();
  pseval.per_word = false;
  const auto evaluated = polysemy::run_pseval_job(pseval, &stages.begin("PS-Eval"));
  stages.end();
  const bool pseval_reused = std::all_of(evaluated.saes.begin(), evaluated.saes.end(),
                                         [](const auto& s) { return s.cached; });
  step_done(pseval_reused, "PS-Eval on " + std::to_string(evaluated.pairs) + " WordNet pairs (" +
                               options.pseval_split + " split) and " +
                               std::to_string(evaluated.occurrences) + " occurrences");
  return result;
}

}  // namespace saescope::demo
