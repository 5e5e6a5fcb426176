#include "core/polysemy/pair_scoring.h"

namespace saescope::polysemy {
namespace {

double ratio(std::size_t num, std::size_t den) {
  return den == 0 ? 0.0 : static_cast<double>(num) / static_cast<double>(den);
}

}  // namespace

PairOutcome PairOutcome::scored(std::string word, bool same_sense, std::int64_t f1, std::int64_t f2) {
  PairOutcome o;
  o.target_word = std::move(word);
  o.same_sense = same_sense;
  o.feature_1 = f1;
  o.feature_2 = f2;
  return o;
}

PairOutcome PairOutcome::skip(std::string word, bool same_sense, SkipReason reason) {
  PairOutcome o;
  o.target_word = std::move(word);
  o.same_sense = same_sense;
  o.skipped = reason;
  return o;
}

void Confusion::add(bool same_sense, bool same_feature) {
  if (same_sense) ++(same_feature ? tp : fn);
  else ++(same_feature ? fp : tn);
}

ClassificationMetrics classification_metrics(const Confusion& c) {
  ClassificationMetrics m;
  m.accuracy = ratio(c.tp + c.tn, c.total());
  m.precision = ratio(c.tp, c.tp + c.fp);
  m.recall = ratio(c.tp, c.tp + c.fn);
  m.specificity = ratio(c.tn, c.tn + c.fp);
  m.f1 = ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn);
  return m;
}

std::vector<bool> select_pairs(const std::vector<PairOutcome>& outcomes, PairSelection selection) {
  std::vector<bool> selected(outcomes.size(), false);
  if (selection == PairSelection::all) {
    for (std::size_t i = 0; i < outcomes.size(); ++i) selected[i] = !outcomes[i].skipped;
    return selected;
  }
  std::size_t surviving_label0 = 0;
  for (std::size_t i = 0; i < outcomes.size(); ++i)
    if (!outcomes[i].same_sense && !outcomes[i].skipped) {
      selected[i] = true;
      ++surviving_label0;
    }
  std::size_t label1_seen = 0;
  for (std::size_t i = 0; i < outcomes.size() && label1_seen < surviving_label0; ++i) {
    if (!outcomes[i].same_sense) continue;
    ++label1_seen;  // counted whether or not it survives, as the reference slices rows first
    selected[i] = !outcomes[i].skipped;
  }
  return selected;
}

PairScore score_pairs(const std::vector<PairOutcome>& outcomes, PairSelection selection) {
  PairScore score;
  const std::vector<bool> selected = select_pairs(outcomes, selection);
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const PairOutcome& o = outcomes[i];
    if (o.skipped) {
      ++score.skipped[static_cast<std::size_t>(*o.skipped)];
      ++score.skipped_total;
      continue;
    }
    if (!selected[i]) {
      ++score.not_selected;
      continue;
    }
    const bool same_feature = o.feature_1 == o.feature_2;
    score.confusion.add(o.same_sense, same_feature);
    score.per_word[o.target_word].add(o.same_sense, same_feature);
  }
  score.metrics = classification_metrics(score.confusion);
  return score;
}

}  // namespace saescope::polysemy
