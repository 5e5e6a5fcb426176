#include "core/polysemy/sense_pairs.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <set>

#include "core/common/error.h"
#include "core/common/portable_random.h"

namespace saescope::polysemy {
namespace {

struct Candidate {
  std::size_t a = 0;  // occurrence indices, a < b
  std::size_t b = 0;
};

// k of `items` without replacement, kept in their original order.
std::vector<Candidate> sample_in_order(const std::vector<Candidate>& items, std::size_t k,
                                       std::mt19937_64& rng) {
  if (k >= items.size()) return items;
  std::vector<std::size_t> index(items.size());
  for (std::size_t i = 0; i < index.size(); ++i) index[i] = i;
  // Partial Fisher-Yates: the first k slots end up a uniform k-subset.
  for (std::size_t i = 0; i < k; ++i) {
    const std::size_t j = i + static_cast<std::size_t>(uniform_below(rng, index.size() - i));
    std::swap(index[i], index[j]);
  }
  index.resize(k);
  std::sort(index.begin(), index.end());
  std::vector<Candidate> out;
  out.reserve(k);
  for (std::size_t i : index) out.push_back(items[i]);
  return out;
}

std::string numbered(const std::string& prefix, const std::string& split, std::size_t n) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%06zu", n);
  return prefix + "-" + split + "-" + digits;
}

}  // namespace

SensePairSet make_sense_pairs(const std::vector<SenseOccurrence>& occurrences,
                              const SensePairOptions& options) {
  if (!(options.dev_fraction >= 0.0 && options.dev_fraction <= 1.0))
    throw InputError("dev fraction " + std::to_string(options.dev_fraction) + " is outside 0..1");
  std::mt19937_64 rng(options.seed);
  SensePairSet out;

  // 1. Split by word.
  std::set<std::string> word_set;
  for (const auto& occ : occurrences) word_set.insert(occ.word);
  std::vector<std::string> words(word_set.begin(), word_set.end());
  portable_shuffle(words, rng);
  const auto n_dev = static_cast<std::size_t>(std::floor(options.dev_fraction * words.size() + 0.5));
  std::map<std::string, bool> in_dev;
  for (std::size_t i = 0; i < words.size(); ++i) in_dev[words[i]] = i < n_dev;
  out.counts.dev.words = n_dev;
  out.counts.test.words = words.size() - n_dev;

  // 2. Candidates per split, grouped by (word, POS) in input order.
  std::map<std::pair<std::string, std::string>, std::vector<std::size_t>> groups;
  std::vector<std::pair<std::string, std::string>> group_order;
  for (std::size_t i = 0; i < occurrences.size(); ++i) {
    const auto key = std::make_pair(occurrences[i].word, occurrences[i].pos);
    auto [it, inserted] = groups.emplace(key, std::vector<std::size_t>{});
    if (inserted) group_order.push_back(key);
    it->second.push_back(i);
  }
  std::vector<Candidate> same[2], different[2];  // [0] dev, [1] test
  for (const auto& key : group_order) {
    const auto& members = groups[key];
    const int split = in_dev[key.first] ? 0 : 1;
    for (std::size_t x = 0; x < members.size(); ++x)
      for (std::size_t y = x + 1; y < members.size(); ++y) {
        const SenseOccurrence& a = occurrences[members[x]];
        const SenseOccurrence& b = occurrences[members[y]];
        if (a.context == b.context) {
          ++out.counts.identical_contexts_skipped;
          continue;
        }
        (a.sense_id == b.sense_id ? same : different)[split].push_back({members[x], members[y]});
      }
  }

  // 3-4. Balance, shuffle, number.
  for (int split = 0; split < 2; ++split) {
    SplitPairCounts& counts = split == 0 ? out.counts.dev : out.counts.test;
    const std::string split_name = split == 0 ? "dev" : "test";
    counts.same_candidates = same[split].size();
    counts.different_candidates = different[split].size();
    std::vector<Candidate> keep_same = same[split], keep_different = different[split];
    if (options.balance_labels) {
      const std::size_t k = std::min(keep_same.size(), keep_different.size());
      keep_same = sample_in_order(keep_same, k, rng);
      keep_different = sample_in_order(keep_different, k, rng);
    }
    counts.same_sense = keep_same.size();
    counts.different_sense = keep_different.size();
    std::vector<std::pair<Candidate, bool>> chosen;
    for (const auto& c : keep_same) chosen.push_back({c, true});
    for (const auto& c : keep_different) chosen.push_back({c, false});
    portable_shuffle(chosen, rng);
    std::size_t number = 0;
    for (const auto& [c, is_same] : chosen) {
      const SenseOccurrence& a = occurrences[c.a];
      const SenseOccurrence& b = occurrences[c.b];
      WordPair pair;
      pair.id = numbered(options.id_prefix, split_name, ++number);
      pair.target_word = a.word;
      pair.pos = a.pos;
      pair.context_1 = a.context;
      pair.context_2 = b.context;
      pair.span_1 = a.span;
      pair.span_2 = b.span;
      pair.same_sense = is_same;
      pair.language = "en";
      pair.split = split_name;
      pair.sense_id_1 = a.sense_id;
      pair.sense_id_2 = b.sense_id;
      out.pairs.push_back(std::move(pair));
    }
  }
  return out;
}

}  // namespace saescope::polysemy
