#pragma once
// An SAE evaluated against the model it reads, over corpus windows: the
// activation-side metrics (reconstruction_metrics.h: MSE, L0, explained
// variance, feature density) and the CE losses (ce_loss.h) from the same
// forward passes. Three passes per batch: clean; with the SAE's
// reconstruction spliced in at its hook (the SAE runs once, inside that
// pass, and its output feeds the metrics too); with the hook zero-ablated.
// Several SAEs of one model share the clean pass and, per hook, the
// zero-ablated one: n SAEs at h hooks cost 1 + h + n passes, not 3n.
//
// Positions: with BOS excluded (the default, as SAEBench's
// exclude_special_tokens_from_reconstruction) the SAE sees and replaces
// positions 1.. of each window; the BOS position keeps its clean activation
// in every pass (zero ablation included) and its next-token prediction is
// not scored, since no replacement touched it. With BOS included every
// position is replaced and every prediction scored. A window's last position
// has no next token: its activation is evaluated, it has no CE term.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/sae/ce_loss.h"
#include "core/sae/reconstruction_metrics.h"

namespace saescope::analysis {
class WindowSource;
}
namespace saescope::jobs {
class ProgressSink;
}
namespace saescope::model {
class LanguageModel;
}

namespace saescope::sae {

class Sae;

struct SaeEvalOptions {
  int64_t batch_windows = 8;
  bool include_bos = false;
  bool ce_loss = true;  // false: one pass up to the hook, activation metrics only
  double dense_threshold = 0.1;
  int histogram_bins = 32;
};

struct SaeEvaluation {
  ReconstructionReport reconstruction;
  bool has_ce = false;
  CeLosses ce;  // ce.tokens: the next-token predictions scored
  int64_t windows = 0;
  bool include_bos = false;
};

// For people, in the output: which positions the numbers cover.
std::string evaluated_positions(bool include_bos, bool with_ce);

// Runs the model over the windows left in `windows` (from its current
// position to its end). The SAE must be on the model's device; its hook
// (config().meta.hook_name) must be a per-token hook of the model as wide as
// its d_in: InputError otherwise. `total_tokens` (activation rows expected)
// only scales the progress reports.
SaeEvaluation evaluate_sae_on_windows(const model::LanguageModel& model, const Sae& sae,
                                      analysis::WindowSource& windows, const SaeEvalOptions& options,
                                      jobs::ProgressSink* progress = nullptr, int64_t total_tokens = 0);

// The same for several SAEs over the same windows, one result per SAE in
// order, each equal to what evaluate_sae_on_windows gives it alone.
// `total_tokens` is per SAE.
std::vector<SaeEvaluation> evaluate_saes_on_windows(const model::LanguageModel& model,
                                                    const std::vector<const Sae*>& saes,
                                                    analysis::WindowSource& windows,
                                                    const SaeEvalOptions& options,
                                                    jobs::ProgressSink* progress = nullptr,
                                                    int64_t total_tokens = 0);

// The metrics as `saescope-cli sae-eval --json` prints them: mse, l0, l1,
// explained_variance (+ _formula), ce_loss_clean/sae/zero/recovered (null
// without CE), ce_tokens, dead/dense fractions, the density histogram,
// tokens, windows, positions, bos_included.
nlohmann::json evaluation_json(const SaeEvaluation& e);

// The GPT-2 engine's CeLossEvaluator: every evaluate() runs the windows of
// `windows` from the position it had when this object was made.
class WindowCeLossEvaluator : public CeLossEvaluator {
 public:
  WindowCeLossEvaluator(const model::LanguageModel& model, analysis::WindowSource& windows,
                        SaeEvalOptions options = {});
  CeLosses evaluate(const Sae& sae) override;

 private:
  const model::LanguageModel& model_;
  analysis::WindowSource& windows_;
  SaeEvalOptions options_;
  int64_t start_ = 0;
};

}  // namespace saescope::sae
