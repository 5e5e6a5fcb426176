#include "core/polysemy/dataset_writers.h"

#include <nlohmann/json.hpp>

#include "core/polysemy/lenient_fields.h"
#include "core/polysemy/text_files.h"

namespace saescope::polysemy {
namespace {

using ordered_json = nlohmann::ordered_json;

// Invalid UTF-8 in a user's file must not abort a write: replace it (U+FFFD).
std::string dump_line(const ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

ordered_json location(const std::optional<CharSpan>& span, const std::string& context) {
  if (!span) return nullptr;
  const RawSpan raw = codepoint_span(*span, context);
  ordered_json j;
  j["char_start"] = raw.start;
  j["char_end"] = raw.end;
  return j;
}

}  // namespace

std::string occurrences_to_jsonl(const std::vector<SenseOccurrence>& occurrences) {
  std::string out;
  for (const auto& occ : occurrences) {
    ordered_json j;
    j["word"] = occ.word;
    j["pos"] = occ.pos;
    j["sense_id"] = occ.sense_id;
    j["gloss"] = occ.gloss;
    j["context"] = occ.context;
    if (occ.span) {
      const RawSpan raw = codepoint_span(*occ.span, occ.context);
      j["char_start"] = raw.start;
      j["char_end"] = raw.end;
    } else {
      j["char_start"] = nullptr;
      j["char_end"] = nullptr;
    }
    out += dump_line(j);
  }
  return out;
}

std::string pairs_to_jsonl(const std::vector<WordPair>& pairs) {
  std::string out;
  for (const auto& pair : pairs) {
    ordered_json j;
    j["id"] = pair.id;
    j["context_1"] = pair.context_1;
    j["context_2"] = pair.context_2;
    j["target_word"] = pair.target_word;
    j["pos"] = pair.pos;
    j["target_word_location_1"] = location(pair.span_1, pair.context_1);
    j["target_word_location_2"] = location(pair.span_2, pair.context_2);
    j["language"] = pair.language.empty() ? std::string("en") : pair.language;
    j["label"] = pair.same_sense ? 1 : 0;
    if (!pair.split.empty()) j["split"] = pair.split;
    if (!pair.sense_id_1.empty()) j["sense_id_1"] = pair.sense_id_1;
    if (!pair.sense_id_2.empty()) j["sense_id_2"] = pair.sense_id_2;
    out += dump_line(j);
  }
  return out;
}

void write_occurrences_jsonl(const std::string& path, const std::vector<SenseOccurrence>& occurrences) {
  write_file_atomically(path, occurrences_to_jsonl(occurrences));
}

void write_pairs_jsonl(const std::string& path, const std::vector<WordPair>& pairs) {
  write_file_atomically(path, pairs_to_jsonl(pairs));
}

}  // namespace saescope::polysemy
