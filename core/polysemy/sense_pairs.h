#pragma once
// WiC-style pairs from sense-labelled occurrences: label 1 = two contexts of
// one sense of a word, label 0 = contexts of two different senses of the same
// word with the same POS (as WiC does). Procedure, all driven by one seed
// (std::mt19937_64 + portable_random.h, so the same seed gives the same bytes
// everywhere):
//  1. Words (lemma strings, all POS together) are sorted, shuffled, and the
//     first round(dev_fraction * n) go to "dev", the rest to "test": no word
//     is in both splits.
//  2. Per split, every candidate pair is enumerated (occurrences in input
//     order, i < j); pairs whose two contexts are the same text are skipped.
//  3. Balance (default on): the larger label class is sampled down, without
//     replacement, to the size of the smaller one.
//  4. The split's pairs are shuffled (so "first N of a label" is a random
//     subset, as PS-Eval's reference truncation assumes) and numbered
//     "<prefix>-<split>-000001"...; dev comes first in the output.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/polysemy/sense_occurrence.h"
#include "core/polysemy/word_pair.h"

namespace saescope::polysemy {

struct SensePairOptions {
  std::uint64_t seed = 0;
  double dev_fraction = 0.2;  // share of WORDS in dev; 0..1
  bool balance_labels = true;
  std::string id_prefix = "pair";
};

struct SplitPairCounts {
  std::size_t words = 0;                 // words assigned to the split
  std::size_t same_candidates = 0;       // label-1 pairs before balancing
  std::size_t different_candidates = 0;  // label-0 pairs before balancing
  std::size_t same_sense = 0;            // label-1 pairs written
  std::size_t different_sense = 0;       // label-0 pairs written
};

struct SensePairCounts {
  std::size_t identical_contexts_skipped = 0;
  SplitPairCounts dev;
  SplitPairCounts test;
};

struct SensePairSet {
  std::vector<WordPair> pairs;
  SensePairCounts counts;
};

// InputError when dev_fraction is outside [0, 1].
SensePairSet make_sense_pairs(const std::vector<SenseOccurrence>& occurrences,
                              const SensePairOptions& options = {});

}  // namespace saescope::polysemy
