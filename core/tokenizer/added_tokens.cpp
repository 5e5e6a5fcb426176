#include "core/tokenizer/added_tokens.h"

#include <algorithm>

#include "core/tokenizer/utf8.h"

namespace saescope::tokenizer {
namespace {

bool is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// A word character for single_word: a letter, digit or '_' (HF checks
// char::is_alphanumeric and '_'); any non-ASCII character counts as one.
bool is_word_byte(unsigned char c) {
  return c >= 0x80 || c == '_' || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<const AddedToken*> tokens)
    : tokens_(std::move(tokens)) {
  nodes_.emplace_back();
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    int node = 0;
    for (unsigned char c : tokens_[i]->content) {
      int next = child(node, c);
      if (next < 0) {
        next = static_cast<int>(nodes_.size());
        nodes_.emplace_back();
        auto& kids = nodes_[node].children;
        kids.insert(std::upper_bound(kids.begin(), kids.end(), std::make_pair(c, -1)),
                    {c, next});
      }
      node = next;
    }
    if (nodes_[node].token < 0) nodes_[node].token = static_cast<int>(i);  // first listed wins
    first_byte_[static_cast<unsigned char>(tokens_[i]->content[0])] = true;
  }
}

int AddedTokenMatcher::child(int node, unsigned char byte) const {
  const auto& kids = nodes_[node].children;
  const auto it = std::lower_bound(kids.begin(), kids.end(), std::make_pair(byte, -1));
  return it != kids.end() && it->first == byte ? it->second : -1;
}

bool AddedTokenMatcher::accept(std::string_view text, std::size_t begin, std::size_t end,
                               const AddedToken& t) const {
  if (!t.single_word) return true;
  const bool word_before = begin > 0 && is_word_byte(text[begin - 1]);
  const bool word_after = end < text.size() && is_word_byte(text[end]);
  return !word_before && !word_after;
}

std::vector<AddedTokenMatcher::Match> AddedTokenMatcher::find_all(std::string_view text) const {
  std::vector<Match> out;
  if (tokens_.empty()) return out;
  std::size_t floor = 0;  // text before here belongs to an earlier match
  for (std::size_t pos = 0; pos < text.size(); ++pos) {
    if (!first_byte_[static_cast<unsigned char>(text[pos])]) continue;
    // Longest token starting here that its flags accept.
    const AddedToken* best = nullptr;
    std::size_t best_end = 0;
    int node = 0;
    for (std::size_t k = pos; k < text.size(); ++k) {
      node = child(node, static_cast<unsigned char>(text[k]));
      if (node < 0) break;
      const int t = nodes_[node].token;
      if (t >= 0 && accept(text, pos, k + 1, *tokens_[t])) {
        best = tokens_[t];
        best_end = k + 1;
      }
    }
    if (!best) continue;
    std::size_t begin = pos, end = best_end;
    if (best->lstrip)
      while (begin > floor && is_space(text[begin - 1])) --begin;
    if (best->rstrip)
      while (end < text.size() && is_space(text[end])) ++end;
    out.push_back({begin, end, best});
    floor = end;
    pos = end - 1;
  }
  return out;
}

}  // namespace saescope::tokenizer
