#pragma once
// A sense set of one's own: the words a team cares about, each with senses it
// names and example sentences per sense, from a CSV (word, sense, sentence;
// an optional header row) as a spreadsheet exports it. The rows become
// sense-labelled occurrences (sense_id "custom:<word>:<sense>", the label as
// gloss), evaluated like WordNet's. Bad rows are reported by line and
// skipped, never silently dropped: a missing field, a sentence that does not
// hold the word (as a whole word, any case), and every row of a word with one
// sense only (there is nothing to separate).
#include <cstddef>
#include <string>
#include <vector>

#include "core/polysemy/sense_occurrence.h"

namespace saescope::polysemy {

struct CustomSenseProblem {
  std::size_t line = 0;  // 1-based, where the CSV record starts
  std::string what;
};

struct CustomSenseSet {
  std::vector<SenseOccurrence> occurrences;  // in file order
  std::vector<CustomSenseProblem> problems;  // skipped rows, by line
  std::size_t words = 0, senses = 0;
};

// InputError naming the file when it cannot be read or is not CSV at all
// (an unclosed quote, no usable row).
CustomSenseSet import_custom_senses(const std::string& csv_path);
// The same from CSV text (the app's "New word…" table); `name` stands for the
// file in messages.
CustomSenseSet import_custom_senses_text(const std::string& csv_text, const std::string& name);

}  // namespace saescope::polysemy
