#pragma once
// A sense-labelled polysemy set from WordNet 3.0's own example sentences.
// Examples belong to a synset, so an example is an occurrence of every lemma
// of that synset found in it (through inflection: morphy). A "word" is a
// lemma with a part of speech; words whose examples cover two or more senses
// are kept. Sense id = synset offset + "-" + ss_type (NLTK's spelling:
// "02084071-n"; adjective satellites end in "-s"). POS is written with WiC's
// letters: N, V, A (adjectives and satellites), R.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "core/polysemy/sense_occurrence.h"

namespace saescope::polysemy {

struct WordNetBuildCounts {
  std::size_t synsets = 0;
  std::size_t synsets_with_examples = 0;
  std::size_t examples = 0;            // quoted example sentences
  std::size_t examples_matched = 0;    // at least one lemma of its synset found in it
  std::size_t examples_unmatched = 0;  // no lemma found: skipped
  std::size_t lemma_misses = 0;        // (lemma, example of its synset) without a match
  std::size_t ambiguous_dropped = 0;   // occurrences dropped: one word, one sentence, 2+ senses
  std::size_t candidate_words = 0;     // (lemma, POS) with any matched example
  std::size_t words = 0;               // (lemma, POS) with examples in >= 2 senses: kept
  std::size_t lemmas = 0;              // distinct lemma strings among kept words
  std::size_t senses = 0;              // (word, sense) among kept words
  std::size_t senses_with_2_examples = 0;
  std::size_t occurrences = 0;
};

struct WordNetOccurrences {
  std::vector<SenseOccurrence> occurrences;  // grouped by word (sorted), then POS N V A R, then file order
  WordNetBuildCounts counts;
};

// $WNSEARCHDIR (WordNet's own variable for its database folder) when set,
// else Debian's /usr/share/wordnet.
std::string default_wordnet_dir();

// Reads data.{noun,verb,adj,adv} and *.exc from `wordnet_dir`
// (/usr/share/wordnet on Debian's wordnet-base). `progress` gets one line per
// stage. Missing or malformed files are InputErrors naming the file.
WordNetOccurrences build_wordnet_occurrences(
    const std::string& wordnet_dir, const std::function<void(const std::string&)>& progress = {});

// "N", "V", "A", "R"
const char* wic_pos_letter(char ss_type);

}  // namespace saescope::polysemy
