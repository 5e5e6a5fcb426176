#pragma once
// PS-Eval's scoring of word pairs from their argmax SAE features, no model
// involved. "Positive" = the two prompts share the argmax feature:
//   label 1 (same meaning)      & same feature -> TP,  different feature -> FN
//   label 0 (different meaning) & same feature -> FP,  different feature -> TN
// Metrics: accuracy (TP+TN)/N, precision TP/(TP+FP), recall TP/(TP+FN),
// specificity TN/(TN+FP), F1 2TP/(2TP+FP+FN). A ratio whose denominator is 0
// is reported as 0 (e.g. precision when no pair shares a feature) — never
// NaN, so tables and JSON stay numeric; check the confusion counts to tell a
// true 0 from an empty denominator.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/polysemy/skip_reason.h"

namespace saescope::polysemy {

struct PairOutcome {
  std::string target_word;
  bool same_sense = false;             // the pair's label
  std::optional<SkipReason> skipped;   // set: no features, not scored
  std::int64_t feature_1 = -1;         // argmax feature of prompt 1
  std::int64_t feature_2 = -1;

  static PairOutcome scored(std::string word, bool same_sense, std::int64_t f1, std::int64_t f2);
  static PairOutcome skip(std::string word, bool same_sense, SkipReason reason);
};

struct Confusion {
  std::size_t tp = 0, fn = 0, fp = 0, tn = 0;
  std::size_t total() const { return tp + fn + fp + tn; }
  void add(bool same_sense, bool same_feature);
  bool operator==(const Confusion& o) const { return tp == o.tp && fn == o.fn && fp == o.fp && tn == o.tn; }
};

struct ClassificationMetrics {
  double accuracy = 0, precision = 0, recall = 0, specificity = 0, f1 = 0;
};

ClassificationMetrics classification_metrics(const Confusion& c);

// Which pairs count.
enum class PairSelection {
  all,  // every pair that was not skipped
  // The reference code's balancing (gouki510/PS-Eval wic_eval.py): every
  // surviving label-0 pair (N0 of them), then the FIRST N0 label-1 pairs in
  // file order — counted before skipping, as its loop slices the label-1 rows
  // before dropping the ones it cannot score — of which the survivors count.
  // So at most N0 label-1 pairs are scored, possibly fewer.
  reference_truncation,
};

// selected[i]: pair i (in file order) is scored under `selection`.
std::vector<bool> select_pairs(const std::vector<PairOutcome>& outcomes, PairSelection selection);

struct PairScore {
  Confusion confusion;
  ClassificationMetrics metrics;
  SkipCounts skipped{};          // by reason, over all input pairs
  std::size_t skipped_total = 0;
  std::size_t not_selected = 0;  // surviving pairs left out by the selection
  std::map<std::string, Confusion> per_word;  // scored pairs by target word
};

PairScore score_pairs(const std::vector<PairOutcome>& outcomes,
                      PairSelection selection = PairSelection::all);

}  // namespace saescope::polysemy
