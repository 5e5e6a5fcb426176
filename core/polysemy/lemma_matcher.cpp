#include "core/polysemy/lemma_matcher.h"

#include <algorithm>
#include <cctype>

namespace saescope::polysemy {
namespace {

bool letter_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || u >= 0x80;
}

// A hyphen belongs to a word only between two letters ("first-rate"); a dash
// ("on--pretend", "-word") separates.
bool joining_hyphen(const std::string& text, std::size_t i) {
  return text[i] == '-' && i > 0 && i + 1 < text.size() && letter_byte(text[i - 1]) &&
         letter_byte(text[i + 1]);
}

std::vector<CharSpan> word_spans(const std::string& text) {
  std::vector<CharSpan> spans;
  std::size_t i = 0;
  while (i < text.size()) {
    if (!letter_byte(text[i])) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && (letter_byte(text[end]) || joining_hyphen(text, end))) ++end;
    spans.push_back({i, end});
    i = end;
  }
  return spans;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Between the words of a multiword match only light separators may stand
// (space, apostrophe, period: "o'clock", "St. John"), never a comma.
bool light_gap(const std::string& text, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i)
    if (text[i] != ' ' && text[i] != '\'' && text[i] != '.') return false;
  return true;
}

}  // namespace

std::vector<std::string> lemma_words(const std::string& text) {
  std::string spaced = text;
  std::replace(spaced.begin(), spaced.end(), '_', ' ');
  std::vector<std::string> words;
  for (const CharSpan& s : word_spans(spaced)) words.push_back(lower(spaced.substr(s.start, s.end - s.start)));
  return words;
}

TokenisedSentence::TokenisedSentence(const std::string& sentence, WordClass word_class, const Morphy& morphy)
    : sentence_(sentence) {
  for (const CharSpan& s : word_spans(sentence)) {
    Word w;
    w.span = s;
    w.forms = morphy.base_forms(lower(sentence.substr(s.start, s.end - s.start)), word_class);
    words_.push_back(std::move(w));
  }
}

std::optional<CharSpan> TokenisedSentence::find(const std::string& lemma) const {
  const std::vector<std::string> parts = lemma_words(lemma);
  if (parts.empty() || parts.size() > words_.size()) return std::nullopt;
  for (std::size_t at = 0; at + parts.size() <= words_.size(); ++at) {
    bool match = true;
    for (std::size_t k = 0; k < parts.size() && match; ++k) {
      const Word& w = words_[at + k];
      match = std::find(w.forms.begin(), w.forms.end(), parts[k]) != w.forms.end();
      if (match && k > 0) match = light_gap(sentence_, words_[at + k - 1].span.end, w.span.start);
    }
    if (match) return CharSpan{words_[at].span.start, words_[at + parts.size() - 1].span.end};
  }
  return std::nullopt;
}

}  // namespace saescope::polysemy
