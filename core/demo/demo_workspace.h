#pragma once
// Builds the demo workspace from the embedded demo: registers the model, its
// SAEs and the corpus; builds the WordNet sense set (from $WNSEARCHDIR or /usr/share/wordnet)
// beside the workspace; harvests every SAE's features; evaluates each SAE's
// reconstruction on the corpus and PS-Eval on the WordNet set. Every step is a
// workspace result keyed by content hashes, so a second run reuses all of it
// and a cancelled or killed run resumes where it stopped.
#include <cstdint>
#include <string>
#include <vector>

#include "core/demo/demo_assets.h"
#include "core/common/progress.h"
#include "core/polysemy/wordnet_occurrences.h"

namespace saescope::demo {

struct DemoBuildOptions {
  std::string workspace_path;               // the .saescope file (created when missing)
  std::string dataset_dir;                  // "": <workspace folder>/wordnet-senses
  std::string wordnet_dir = polysemy::default_wordnet_dir();
  std::string device = "cpu";
  int64_t harvest_tokens = 32768;           // corpus tokens read by the harvest
  int64_t eval_tokens = 16384;              // corpus tokens for MSE / L0 / CE
  std::string pseval_split = "test";        // WordNet pairs of this split
  std::size_t corpus_per_word = 4;          // unlabelled corpus uses of each WordNet word
};

struct DemoBuildResult {
  std::string workspace_path;
  std::string pairs_path, occurrences_path;  // the WordNet sense set
  int64_t model_id = 0;
  std::vector<int64_t> sae_ids;               // in DemoAssets::sae_dirs order
  int steps_run = 0, steps_reused = 0;        // of the five steps (WordNet, harvest, recon, PS-Eval)
  std::vector<std::string> log;               // one line per step, for people
};

// Stages reported: "WordNet", "harvest", "reconstruction", "PS-Eval", each
// with its engine's own progress and the whole build's fraction and ETA by
// the stages' expected times (demo_build_stages); each stage's results are
// in the workspace when it ends (Progress::job_stages_ended), so a viewer can
// show them before the build is over. Throws Cancelled when asked to stop.
// The build's stages with the seconds each is expected to take for `options`.
std::vector<jobs::StagedProgress::Stage> demo_build_stages(const DemoBuildOptions& options);

DemoBuildResult build_demo_workspace(const DemoAssets& assets, const DemoBuildOptions& options,
                                     jobs::ProgressSink& progress);

}  // namespace saescope::demo

namespace saescope::store {
class Workspace;
}

namespace saescope::demo {

// What the app opens on: analysis::opening_selection (core/analysis/opening_feature.h).

}  // namespace saescope::demo
