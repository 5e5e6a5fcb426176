#include "core/polysemy/custom_senses.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <map>
#include <set>

#include "core/common/error.h"
#include "core/common/file_bytes.h"
#include "core/polysemy/csv_records.h"

namespace saescope::polysemy {
namespace {

std::string trimmed(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || (c & 0x80); }

// The first whole-word, case-insensitive occurrence of `word` in `sentence`.
std::optional<CharSpan> find_word(const std::string& sentence, const std::string& word) {
  const std::string s = lower(sentence), w = lower(word);
  for (std::size_t at = s.find(w); at != std::string::npos; at = s.find(w, at + 1)) {
    const bool starts = at == 0 || !word_char(s[at - 1]);
    const bool ends = at + w.size() == s.size() || !word_char(s[at + w.size()]);
    if (starts && ends) return CharSpan{at, at + w.size()};
  }
  return std::nullopt;
}

}  // namespace

CustomSenseSet import_custom_senses(const std::string& csv_path) {
  return import_custom_senses_text(read_file_bytes(csv_path), csv_path);
}

CustomSenseSet import_custom_senses_text(const std::string& text, const std::string& csv_path) {
  const CsvParse csv = parse_csv(text);
  CustomSenseSet out;
  if (!csv.error.empty())
    out.problems.push_back({csv.error_line, csv.error + "; the rest of the file is not read"});
  std::vector<std::pair<std::size_t, SenseOccurrence>> rows;
  for (const CsvRecord& r : csv.records) {
    if (r.fields.size() >= 3 && lower(trimmed(r.fields[0])) == "word" && lower(trimmed(r.fields[1])) == "sense" &&
        rows.empty() && out.problems.empty())
      continue;  // the header row
    if (r.fields.size() != 3) {
      out.problems.push_back({r.line, "expected 3 fields (word, sense, sentence), found " +
                                          std::to_string(r.fields.size())});
      continue;
    }
    const std::string word = lower(trimmed(r.fields[0])), sense = trimmed(r.fields[1]), sentence = trimmed(r.fields[2]);
    const char* missing = word.empty() ? "word" : sense.empty() ? "sense" : sentence.empty() ? "sentence" : nullptr;
    if (missing) {
      out.problems.push_back({r.line, std::string("the ") + missing + " is empty"});
      continue;
    }
    SenseOccurrence o;
    o.word = word;
    o.sense_id = "custom:" + word + ":" + sense;
    o.gloss = sense;
    o.context = sentence;
    o.span = find_word(sentence, word);
    if (!o.span) {
      out.problems.push_back({r.line, "the sentence does not hold the word '" + word + "' (as a whole word)"});
      continue;
    }
    rows.emplace_back(r.line, std::move(o));
  }
  std::map<std::string, std::set<std::string>> senses_of;
  for (const auto& [line, o] : rows) senses_of[o.word].insert(o.sense_id);
  for (auto& [line, o] : rows) {
    if (senses_of[o.word].size() < 2) {
      out.problems.push_back({line, "'" + o.word + "' has one sense only: PS-Eval needs two or more to separate"});
      continue;
    }
    out.occurrences.push_back(std::move(o));
  }
  std::sort(out.problems.begin(), out.problems.end(),
            [](const CustomSenseProblem& a, const CustomSenseProblem& b) { return a.line < b.line; });
  for (const auto& [word, senses] : senses_of)
    if (senses.size() >= 2) {
      ++out.words;
      out.senses += senses.size();
    }
  if (out.occurrences.empty())
    throw InputError(csv_path + ": no usable row (each is word, sense, sentence; every word needs two senses)" +
                     (out.problems.empty() ? std::string() : "; line " + std::to_string(out.problems.front().line) +
                                                                 ": " + out.problems.front().what));
  return out;
}

}  // namespace saescope::polysemy
