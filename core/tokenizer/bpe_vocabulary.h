#pragma once
// What a tokenizer folder says about its vocabulary, read and checked: ids of
// the vocabulary strings, merge rules as ids, and added (special) tokens.
// Part of TokenizerSpec (tokenizer_spec.h).
#include <string>
#include <unordered_map>
#include <vector>

#include "core/tokenizer/bpe_merges.h"

namespace saescope::tokenizer {

struct AddedToken {
  std::string content;  // matched in text as is (not in the byte alphabet)
  TokenId id = -1;
  bool special = true;      // special: matched only on request; else always
  bool normalized = false;  // matched in the normalized text, not the raw one
  bool lstrip = false, rstrip = false;  // takes the whitespace on that side
  bool single_word = false;  // only where no word character touches it
};

struct MergeRule {
  TokenId left, right, merged;
};

struct BpeVocabulary {
  std::string source;                             // file(s) read, for messages
  std::vector<std::string> raw_by_id;             // "" where an id is unused
  std::unordered_map<std::string, TokenId> id_by_raw;
  std::vector<MergeRule> merges;                  // in rank order
  std::vector<AddedToken> added_tokens;
  bool ignore_merges = false;  // tokenizer.json: a piece that is a token is used whole
};

}  // namespace saescope::tokenizer
