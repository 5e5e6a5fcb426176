#include "core/polysemy/wordnet_occurrences.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <set>

#include "core/polysemy/lemma_matcher.h"
#include "core/polysemy/morphy.h"
#include "core/polysemy/wordnet_synsets.h"

namespace saescope::polysemy {
namespace {

std::string lemma_as_word(const std::string& lemma) {
  std::string word = lemma;
  for (char& c : word) c = c == '_' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return word;
}

int pos_rank(const std::string& pos) {
  static const std::string order = "NVAR";
  const std::size_t at = order.find(pos.empty() ? '?' : pos[0]);
  return at == std::string::npos ? 4 : static_cast<int>(at);
}

}  // namespace

std::string default_wordnet_dir() {
  const char* env = std::getenv("WNSEARCHDIR");
  return env && *env ? env : "/usr/share/wordnet";
}

const char* wic_pos_letter(char ss_type) {
  switch (ss_type) {
    case 'n': return "N";
    case 'v': return "V";
    case 'a':
    case 's': return "A";
    case 'r': return "R";
  }
  return "?";
}

WordNetOccurrences build_wordnet_occurrences(const std::string& wordnet_dir,
                                             const std::function<void(const std::string&)>& progress) {
  auto say = [&progress](const std::string& line) {
    if (progress) progress(line);
  };
  WordNetOccurrences out;
  WordNetBuildCounts& counts = out.counts;
  const Morphy morphy = Morphy::load(wordnet_dir);

  // (word, POS rank) -> its occurrences in file order. The map's order is the output order.
  std::map<std::pair<std::string, int>, std::vector<SenseOccurrence>> by_word;
  for (WordClass wc : {WordClass::noun, WordClass::verb, WordClass::adjective, WordClass::adverb}) {
    const std::string path = wordnet_dir + "/data." + word_class_file_stem(wc);
    const std::vector<Synset> synsets = read_synsets(path, wc);
    std::size_t found_here = 0;
    for (const Synset& synset : synsets) {
      ++counts.synsets;
      if (synset.examples.empty()) continue;
      ++counts.synsets_with_examples;
      const std::string pos = wic_pos_letter(synset.ss_type);
      const std::string sense_id = synset.offset + "-" + std::string(1, synset.ss_type);
      std::vector<std::string> words;  // lemmas of this synset, lower-cased, each once
      for (const auto& lemma : synset.lemmas) {
        std::string w = lemma_as_word(lemma);
        if (std::find(words.begin(), words.end(), w) == words.end()) words.push_back(std::move(w));
      }
      std::set<std::pair<std::string, std::string>> seen;  // (word, sentence) within this synset
      for (const std::string& example : synset.examples) {
        ++counts.examples;
        const TokenisedSentence sentence(example, wc, morphy);
        bool matched = false;
        for (const std::string& word : words) {
          const auto span = sentence.find(word);
          if (!span) {
            ++counts.lemma_misses;
            continue;
          }
          matched = true;
          if (!seen.insert({word, example}).second) continue;
          by_word[{word, pos_rank(pos)}].push_back({word, pos, sense_id, synset.definition, example, span});
          ++found_here;
        }
        ++(matched ? counts.examples_matched : counts.examples_unmatched);
      }
    }
    say(path + ": " + std::to_string(synsets.size()) + " synsets, " + std::to_string(found_here) +
        " occurrences");
  }

  counts.candidate_words = by_word.size();
  std::set<std::string> lemmas;
  for (auto& [key, occs] : by_word) {
    // One sentence listed under two senses of the same word says nothing about
    // either sense: drop every copy.
    std::map<std::string, std::set<std::string>> senses_of_context;
    for (const auto& occ : occs) senses_of_context[occ.context].insert(occ.sense_id);
    const auto kept_end = std::stable_partition(occs.begin(), occs.end(), [&](const SenseOccurrence& occ) {
      return senses_of_context[occ.context].size() == 1;
    });
    counts.ambiguous_dropped += static_cast<std::size_t>(occs.end() - kept_end);
    occs.erase(kept_end, occs.end());

    std::map<std::string, std::size_t> per_sense;
    for (const auto& occ : occs) ++per_sense[occ.sense_id];
    if (per_sense.size() < 2) continue;
    ++counts.words;
    lemmas.insert(key.first);
    counts.senses += per_sense.size();
    for (const auto& [sense, n] : per_sense) counts.senses_with_2_examples += n >= 2 ? 1 : 0;
    counts.occurrences += occs.size();
    out.occurrences.insert(out.occurrences.end(), occs.begin(), occs.end());
  }
  counts.lemmas = lemmas.size();
  say("words with examples in 2+ senses: " + std::to_string(counts.words) + ", occurrences: " +
      std::to_string(counts.occurrences));
  return out;
}

}  // namespace saescope::polysemy
