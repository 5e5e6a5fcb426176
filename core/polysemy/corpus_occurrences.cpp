#include "core/polysemy/corpus_occurrences.h"

#include <map>

#include "core/corpus/corpus_windows.h"

namespace saescope::polysemy {
namespace {

bool word_char(unsigned char c) { return std::isalnum(c) || c == '-' || c == '\'' || c >= 0x80; }

// The sentence around [start, end): back to the previous ". ", "! ", "? " or
// newline, forward to the next one, at most `max_bytes` (kept on UTF-8
// character boundaries).
std::pair<std::size_t, std::size_t> sentence_around(const std::string& text, std::size_t start,
                                                    std::size_t end, std::size_t max_bytes) {
  const auto boundary = [&](std::size_t i) {  // a sentence ends just before i
    if (text[i] == '\n') return true;
    return i > 0 && (text[i - 1] == '.' || text[i - 1] == '!' || text[i - 1] == '?') && text[i] == ' ';
  };
  std::size_t from = start;
  while (from > 0 && !boundary(from - 1) && start - from < max_bytes / 2) --from;
  std::size_t to = end;
  while (to < text.size() && !(text[to] == '\n') &&
         !(to > 0 && (text[to - 1] == '.' || text[to - 1] == '!' || text[to - 1] == '?')) &&
         to - from < max_bytes)
    ++to;
  while (from < start && (static_cast<unsigned char>(text[from]) & 0xC0) == 0x80) ++from;
  while (to > end && to < text.size() && (static_cast<unsigned char>(text[to]) & 0xC0) == 0x80) --to;
  while (from < start && (text[from] == ' ' || text[from] == '\n')) ++from;
  return {from, to};
}

}  // namespace

std::vector<SenseOccurrence> find_corpus_occurrences(const std::string& corpus_path,
                                                     const std::set<std::string>& words,
                                                     const CorpusOccurrenceOptions& options) {
  std::map<std::string, std::size_t> found;
  std::size_t wanted = 0;
  for (const std::string& w : words)
    if (!w.empty() && w.find(' ') == std::string::npos) {
      found[w] = 0;
      ++wanted;
    }
  std::vector<SenseOccurrence> out;
  if (wanted == 0 || options.per_word == 0) return out;
  analysis::CorpusDocuments docs(corpus_path);
  std::size_t complete = 0;
  for (std::string text; complete < wanted && docs.next(text);) {
    for (std::size_t i = 0; i < text.size();) {
      // The next word: a run of word characters after a space.
      if (!word_char(static_cast<unsigned char>(text[i]))) {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j < text.size() && word_char(static_cast<unsigned char>(text[j]))) ++j;
      if (i > 0 && text[i - 1] == ' ') {
        auto it = found.find(text.substr(i, j - i));
        if (it != found.end() && it->second < options.per_word) {
          const auto [from, to] = sentence_around(text, i, j, options.max_context_bytes);
          SenseOccurrence occ;
          occ.word = it->first;
          occ.context = text.substr(from, to - from);
          occ.span = CharSpan{i - from, j - from};
          out.push_back(std::move(occ));
          if (++it->second == options.per_word) ++complete;
        }
      }
      i = j;
    }
  }
  return out;
}

}  // namespace saescope::polysemy
