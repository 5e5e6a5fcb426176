#pragma once
// What a PS-Eval run reports, in the shapes the CLI prints, the workspace
// stores (results.metrics) and the per-word CSV holds.
//
// One JSON object per SAE:
//   {"sae", "hook", "baseline": false, "headline": "f1", "positive": ...,
//    "tp", "fp", "tn", "fn", "accuracy", "precision", "recall", "specificity",
//    "f1", "cos_enc": {"same", "different", "same_pairs", "different_pairs"},
//    "cos_dec": {...}, "skipped": {reason: count}, "pairs" (scored),
//    "pairs_total", "not_selected", "mse", "l0", "mse_prompts",
//    ["purity", "inverse_purity", "nmi", "senses": {...}] with occurrences,
//    "reference_compat", "template", "target_rule"
//    [, "all_zero_as_feature_0"] (reference-compat)}
// and one per hook for the baseline: {"baseline": true, "hook", ...} with the
// same pair and sense scores ("argmax_of": "raw activation") and no
// geometry, MSE or L0.
// "positive" says what a positive is; "headline" names the score to rank by.
// "skipped" lists every reason (0 included); under reference-compat it adds
// "reference_lookup" (those are not also counted as not_found).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/polysemy/pair_scoring.h"
#include "core/polysemy/pseval_runner.h"
#include "core/polysemy/pseval_score.h"
#include "core/polysemy/sense_clustering.h"

namespace saescope::polysemy {

nlohmann::ordered_json pseval_score_json(const PsEvalScore& score, const PsEvalOptions& options);

// One row per target word (pairs) and per word with scored occurrences.
struct PerWordRow {
  std::string sae;  // empty for the baseline
  std::string hook;
  std::string word;
  bool has_pairs = false;
  Confusion confusion;
  bool has_senses = false;
  WordClusterScore senses;
};

// The words of `score`, sorted.
std::vector<PerWordRow> per_word_rows(const PsEvalScore& score);

// CSV with a header: sae, hook, word, tp, fp, tn, fn, pairs, accuracy, f1,
// occurrences, senses, features, purity, inverse_purity, nmi (sense columns
// empty when the word has no scored occurrence). Written atomically.
void write_per_word_csv(const std::string& path, const std::vector<PerWordRow>& rows);

}  // namespace saescope::polysemy
