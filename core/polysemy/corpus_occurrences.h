#pragma once
// Unlabelled occurrences of sense-dataset words in a text corpus: the Senses
// view shows them coloured by the sense their argmax feature mostly fires for
// (a prediction, marked as such), so an analyst sees how the SAE splits a word
// in running text, not only in the dataset's example sentences.
#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "core/polysemy/sense_occurrence.h"

namespace saescope::polysemy {

struct CorpusOccurrenceOptions {
  std::size_t per_word = 8;           // the first N in corpus order
  std::size_t max_context_bytes = 300;  // the sentence around the word, cut to this
};

// Finds each word of `words` (lower-case, single words) where it stands alone
// after a space — so its token is the one PS-Eval reads — in the documents of
// `corpus_path` (.txt or .jsonl, analysis/corpus_windows.h). The context is
// the sentence holding it; sense_id, gloss and pos are empty (unlabelled).
std::vector<SenseOccurrence> find_corpus_occurrences(const std::string& corpus_path,
                                                     const std::set<std::string>& words,
                                                     const CorpusOccurrenceOptions& options = {});

}  // namespace saescope::polysemy
