#pragma once
// Finds a lemma in a sentence the way a reader would: case-insensitive, on
// word boundaries, through inflection (morphy), multiword lemmas word by word
// ("living_thing" matches "living things"). Words are runs of ASCII letters,
// digits and non-ASCII bytes, joined by single hyphens between letters: so
// "well" does not match inside "well-known", "on" does match in "on--pretend",
// and "bank" matches in "bank's".
#include <optional>
#include <string>
#include <vector>

#include "core/polysemy/morphy.h"
#include "core/polysemy/word_pair.h"

namespace saescope::polysemy {

// A sentence cut into words once, with each word's base forms, so several
// lemmas can be looked up against it cheaply.
class TokenisedSentence {
 public:
  TokenisedSentence(const std::string& sentence, WordClass word_class, const Morphy& morphy);

  // The first match of `lemma` ('_' or ' ' between its words); the span runs
  // from the first matched word's start to the last one's end.
  std::optional<CharSpan> find(const std::string& lemma) const;

 private:
  struct Word {
    CharSpan span;
    std::vector<std::string> forms;  // lower-case surface first, then base forms
  };
  std::string sentence_;
  std::vector<Word> words_;
};

// Lower-cased words of `text` (same word rule as above).
std::vector<std::string> lemma_words(const std::string& text);

}  // namespace saescope::polysemy
