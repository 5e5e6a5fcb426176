#pragma once
// Scores "argmax feature -> sense" as a clustering, per word: the features are
// the clusters, the senses the classes.
//   purity          = (1/N) sum over features of its most frequent sense's count
//                     (1 when no feature mixes senses; trivially 1 if every
//                     occurrence gets its own feature, hence also:)
//   inverse purity  = (1/N) sum over senses of its most frequent feature's count
//                     (1 when no sense is split across features)
//   NMI             = I(F;S) / ((H(F) + H(S)) / 2), the arithmetic-mean
//                     normalisation (scikit-learn's default), natural logs.
//                     Edge cases follow scikit-learn: one sense AND one feature
//                     -> 1 (identical partitions); exactly one of the two
//                     constant -> 0 (no information shared); no occurrences -> 0.
// Averages are unweighted means over the words whose scored occurrences cover
// at least two senses (a one-sense word says nothing about separation).
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/polysemy/skip_reason.h"

namespace saescope::polysemy {

struct OccurrenceOutcome {
  std::string word;
  std::string sense_id;
  std::optional<SkipReason> skipped;  // set: no feature, not scored
  std::int64_t feature = -1;
};

// Senses x features counts of one word.
struct SenseFeatureTable {
  std::string word;
  std::vector<std::string> senses;     // sorted
  std::vector<std::int64_t> features;  // ascending
  std::vector<std::vector<std::size_t>> counts;  // [sense][feature]
  std::size_t total() const;
};

// The table of `word`'s scored occurrences (skipped ones left out).
SenseFeatureTable sense_feature_table(const std::vector<OccurrenceOutcome>& outcomes,
                                      const std::string& word);

double purity(const SenseFeatureTable& table);
double inverse_purity(const SenseFeatureTable& table);
double normalised_mutual_information(const SenseFeatureTable& table);

// Each feature's most frequent sense; ties go to the sense that sorts first.
std::map<std::int64_t, std::string> majority_sense(const SenseFeatureTable& table);
// Each sense's most frequent feature (the one to steer toward it); ties go to
// the lower feature id; a sense with no scored occurrence has none.
std::map<std::string, std::int64_t> top_feature_per_sense(const SenseFeatureTable& table);

struct WordClusterScore {
  std::string word;
  std::size_t occurrences = 0;  // scored
  std::size_t senses = 0;
  std::size_t features = 0;
  double purity = 0, inverse_purity = 0, nmi = 0;
};

struct ClusterScore {
  std::vector<WordClusterScore> words;  // every word with a scored occurrence, sorted
  std::size_t words_averaged = 0;       // those with >= 2 senses
  double mean_purity = 0, mean_inverse_purity = 0, mean_nmi = 0;
  SkipCounts skipped{};
  std::size_t skipped_total = 0;
};

ClusterScore score_sense_clustering(const std::vector<OccurrenceOutcome>& outcomes);

}  // namespace saescope::polysemy
