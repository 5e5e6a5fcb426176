#pragma once
// Finds added tokens in text before the model sees it, as HF's
// AddedVocabulary does: leftmost-longest, with lstrip / rstrip taking the
// whitespace beside a match and single_word refusing a match inside a word.
// A byte trie: a few thousand tokens (gemma has 6,415) cost one walk per
// position, not one search per token.
#include <cstddef>
#include <string_view>
#include <vector>

#include "core/tokenizer/bpe_vocabulary.h"

namespace saescope::tokenizer {

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  explicit AddedTokenMatcher(std::vector<const AddedToken*> tokens);

  bool empty() const { return tokens_.empty(); }

  struct Match {
    std::size_t begin, end;  // the span taken out of the text, stripped whitespace included
    const AddedToken* token;
  };
  std::vector<Match> find_all(std::string_view text) const;

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int>> children;  // sorted by byte
    int token = -1;  // index into tokens_ of the token ending here
  };
  int child(int node, unsigned char byte) const;
  bool accept(std::string_view text, std::size_t begin, std::size_t end, const AddedToken& t) const;

  std::vector<const AddedToken*> tokens_;
  std::vector<Node> nodes_;  // nodes_[0] is the root
  bool first_byte_[256] = {};
};

}  // namespace saescope::tokenizer
