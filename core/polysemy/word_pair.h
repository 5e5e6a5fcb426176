#pragma once
// One word-in-context pair: the unit PS-Eval scores. Every reader (published
// PS-Eval JSONL/CSV, the WiC folder, pairs formed from sense-labelled
// occurrences, the WordNet builder) produces this form.
#include <cstddef>
#include <optional>
#include <string>

namespace saescope::polysemy {

// Where the target word sits in a context: [start, end) in UTF-8 BYTES of the
// in-memory string. Files count Python-style code points; readers and writers
// convert (utf8_offsets.h), so the two agree on ASCII text and differ only
// where a context holds non-ASCII characters.
struct CharSpan {
  std::size_t start = 0;
  std::size_t end = 0;
  bool operator==(const CharSpan& o) const { return start == o.start && end == o.end; }
};

struct WordPair {
  std::string id;
  std::string target_word;
  std::string pos;  // as the source writes it ("N", "V", ...); may be empty
  std::string context_1;
  std::string context_2;
  std::optional<CharSpan> span_1;  // the target word in context_1, when known
  std::optional<CharSpan> span_2;
  bool same_sense = false;  // label 1 = same meaning, label 0 = different
  std::string language;     // "en" for everything we build
  std::string split;        // "train"/"dev"/"test"... or empty
  std::string sense_id_1;   // known only for pairs formed from sense labels
  std::string sense_id_2;
};

}  // namespace saescope::polysemy
