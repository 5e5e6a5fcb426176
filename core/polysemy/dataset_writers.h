#pragma once
// Writers for the two dataset forms. Output is byte-for-byte deterministic
// (fixed field order, no floating point), spans are written in code points
// like Python would count them, and files are replaced atomically.
#include <string>
#include <vector>

#include "core/polysemy/sense_occurrence.h"
#include "core/polysemy/word_pair.h"

namespace saescope::polysemy {

// One JSON object per line: word, pos, sense_id, gloss, context, char_start,
// char_end (null when the location is unknown).
std::string occurrences_to_jsonl(const std::vector<SenseOccurrence>& occurrences);

// PS-Eval field names: id, context_1, context_2, target_word, pos,
// target_word_location_1/2 ({char_start, char_end} or null), language ("en"
// when the pair has none), label (1 same / 0 different); then split,
// sense_id_1, sense_id_2 when known.
std::string pairs_to_jsonl(const std::vector<WordPair>& pairs);

void write_occurrences_jsonl(const std::string& path, const std::vector<SenseOccurrence>& occurrences);
void write_pairs_jsonl(const std::string& path, const std::vector<WordPair>& pairs);

}  // namespace saescope::polysemy
