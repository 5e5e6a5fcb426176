#include "core/polysemy/sense_clustering.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace saescope::polysemy {
namespace {

double entropy(const std::vector<std::size_t>& sizes, double n) {
  double h = 0;
  for (std::size_t s : sizes)
    if (s > 0) h -= (s / n) * std::log(s / n);
  return h;
}

std::vector<std::size_t> row_sums(const SenseFeatureTable& t) {
  std::vector<std::size_t> sums(t.senses.size(), 0);
  for (std::size_t i = 0; i < t.senses.size(); ++i)
    for (std::size_t n : t.counts[i]) sums[i] += n;
  return sums;
}

std::vector<std::size_t> column_sums(const SenseFeatureTable& t) {
  std::vector<std::size_t> sums(t.features.size(), 0);
  for (const auto& row : t.counts)
    for (std::size_t j = 0; j < row.size(); ++j) sums[j] += row[j];
  return sums;
}

WordClusterScore score_table(const SenseFeatureTable& t) {
  WordClusterScore s;
  s.word = t.word;
  s.occurrences = t.total();
  s.senses = t.senses.size();
  s.features = t.features.size();
  s.purity = purity(t);
  s.inverse_purity = inverse_purity(t);
  s.nmi = normalised_mutual_information(t);
  return s;
}

}  // namespace

std::size_t SenseFeatureTable::total() const {
  std::size_t n = 0;
  for (const auto& row : counts)
    for (std::size_t c : row) n += c;
  return n;
}

SenseFeatureTable sense_feature_table(const std::vector<OccurrenceOutcome>& outcomes,
                                      const std::string& word) {
  std::set<std::string> senses;
  std::set<std::int64_t> features;
  for (const auto& o : outcomes)
    if (o.word == word && !o.skipped) {
      senses.insert(o.sense_id);
      features.insert(o.feature);
    }
  SenseFeatureTable t;
  t.word = word;
  t.senses.assign(senses.begin(), senses.end());
  t.features.assign(features.begin(), features.end());
  t.counts.assign(t.senses.size(), std::vector<std::size_t>(t.features.size(), 0));
  for (const auto& o : outcomes) {
    if (o.word != word || o.skipped) continue;
    const auto i = std::lower_bound(t.senses.begin(), t.senses.end(), o.sense_id) - t.senses.begin();
    const auto j = std::lower_bound(t.features.begin(), t.features.end(), o.feature) - t.features.begin();
    ++t.counts[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
  }
  return t;
}

double purity(const SenseFeatureTable& t) {
  const std::size_t n = t.total();
  if (n == 0) return 0;
  std::size_t sum = 0;
  for (std::size_t j = 0; j < t.features.size(); ++j) {
    std::size_t best = 0;
    for (const auto& row : t.counts) best = std::max(best, row[j]);
    sum += best;
  }
  return static_cast<double>(sum) / static_cast<double>(n);
}

double inverse_purity(const SenseFeatureTable& t) {
  const std::size_t n = t.total();
  if (n == 0) return 0;
  std::size_t sum = 0;
  for (const auto& row : t.counts) sum += row.empty() ? 0 : *std::max_element(row.begin(), row.end());
  return static_cast<double>(sum) / static_cast<double>(n);
}

double normalised_mutual_information(const SenseFeatureTable& t) {
  const double n = static_cast<double>(t.total());
  if (n == 0) return 0;
  const auto a = row_sums(t);
  const auto b = column_sums(t);
  const double hs = entropy(a, n);
  const double hf = entropy(b, n);
  if (hs == 0 && hf == 0) return 1.0;  // one sense, one feature: identical partitions
  double mi = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = 0; j < b.size(); ++j) {
      const double nij = static_cast<double>(t.counts[i][j]);
      if (nij > 0) mi += (nij / n) * std::log(n * nij / (static_cast<double>(a[i]) * static_cast<double>(b[j])));
    }
  const double nmi = mi / ((hs + hf) / 2);
  return std::clamp(nmi, 0.0, 1.0);  // rounding can step a hair outside
}

std::map<std::int64_t, std::string> majority_sense(const SenseFeatureTable& t) {
  std::map<std::int64_t, std::string> out;
  for (std::size_t j = 0; j < t.features.size(); ++j) {
    std::size_t best = 0, best_count = 0;
    for (std::size_t i = 0; i < t.senses.size(); ++i)
      if (t.counts[i][j] > best_count) {
        best = i;
        best_count = t.counts[i][j];
      }
    if (best_count > 0) out[t.features[j]] = t.senses[best];
  }
  return out;
}

std::map<std::string, std::int64_t> top_feature_per_sense(const SenseFeatureTable& t) {
  std::map<std::string, std::int64_t> out;
  for (std::size_t i = 0; i < t.senses.size(); ++i) {
    const auto& row = t.counts[i];
    const auto best = std::max_element(row.begin(), row.end());  // the first of equals: features ascend
    if (best != row.end() && *best > 0) out[t.senses[i]] = t.features[static_cast<std::size_t>(best - row.begin())];
  }
  return out;
}

ClusterScore score_sense_clustering(const std::vector<OccurrenceOutcome>& outcomes) {
  ClusterScore score;
  std::set<std::string> words;
  for (const auto& o : outcomes) {
    if (o.skipped) {
      ++score.skipped[static_cast<std::size_t>(*o.skipped)];
      ++score.skipped_total;
    } else {
      words.insert(o.word);
    }
  }
  // One pass per word would be quadratic in the number of words: group first.
  std::map<std::string, std::vector<OccurrenceOutcome>> by_word;
  for (const auto& o : outcomes)
    if (!o.skipped) by_word[o.word].push_back(o);
  for (const auto& [word, group] : by_word) {
    WordClusterScore s = score_table(sense_feature_table(group, word));
    if (s.senses >= 2) {
      ++score.words_averaged;
      score.mean_purity += s.purity;
      score.mean_inverse_purity += s.inverse_purity;
      score.mean_nmi += s.nmi;
    }
    score.words.push_back(std::move(s));
  }
  if (score.words_averaged > 0) {
    const double k = static_cast<double>(score.words_averaged);
    score.mean_purity /= k;
    score.mean_inverse_purity /= k;
    score.mean_nmi /= k;
  }
  return score;
}

}  // namespace saescope::polysemy
