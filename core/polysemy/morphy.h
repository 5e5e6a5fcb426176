#pragma once
// WordNet's morphological base forms ("morphy", see morphy(7WN)): an inflected
// word maps to its lemma through the exception lists (<pos>.exc: "geese goose",
// "ran run") and the regular detachment rules (noun "-ies" -> "-y", verb
// "-ing" -> "" or "-e", adjective "-est" -> "" ...). Unlike WordNet's own
// morphy we do not filter candidates through the index: callers compare them
// against one known lemma, which already rules out nonsense forms.
#include <array>
#include <string>
#include <unordered_map>
#include <vector>

namespace saescope::polysemy {

enum class WordClass { noun = 0, verb = 1, adjective = 2, adverb = 3 };

// "noun", "verb", ...; the data/exc file stem for `wordnet_dir`.
const char* word_class_file_stem(WordClass word_class);

class Morphy {
 public:
  // Reads noun.exc, verb.exc, adj.exc, adv.exc from `wordnet_dir`; a missing
  // file is an InputError naming it.
  static Morphy load(const std::string& wordnet_dir);

  void add_exception(WordClass word_class, const std::string& inflected, const std::string& base);

  // Candidate lemmas of `word` (lower case, '_' already turned into ' '): the
  // word itself first, then exception bases, then rule outputs; no duplicates.
  std::vector<std::string> base_forms(const std::string& word, WordClass word_class) const;

 private:
  std::array<std::unordered_map<std::string, std::vector<std::string>>, 4> exceptions_;
};

}  // namespace saescope::polysemy
