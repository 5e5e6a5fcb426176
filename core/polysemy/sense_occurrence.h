#pragma once
// One use of a word in a context, labelled with the sense it has there. Several
// occurrences per sense let an analyst score "argmax feature -> sense" as a
// clustering, and let pair sets be formed (same sense / different sense).
#include <optional>
#include <string>

#include "core/polysemy/word_pair.h"

namespace saescope::polysemy {

struct SenseOccurrence {
  std::string word;      // the lemma, lower case; multiword lemmas use spaces
  std::string pos;       // "N", "V", "A", "R" for WordNet (WiC's letters)
  std::string sense_id;  // e.g. WordNet "02084071-n": synset offset + ss_type
  std::string gloss;     // the sense's definition
  std::string context;   // the sentence
  std::optional<CharSpan> span;  // the word (possibly inflected) in context
};

}  // namespace saescope::polysemy
