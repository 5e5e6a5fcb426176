#pragma once
// A tokenizer.json's pre-tokenizer: Split (string or regex, with HF's five
// delimiter behaviours and invert), ByteLevel (prefix space, GPT-2's regex),
// Metaspace (spaces to '▁', prepend scheme, split), in sequence; Digits,
// Whitespace and WhitespaceSplit arrive as Splits. Each step cuts the pieces
// it is given into smaller ones, as HF's PreTokenizedString does; pieces
// holding an added token are left alone.
#include <memory>
#include <vector>

#include "core/tokenizer/normalized_text.h"
#include "core/tokenizer/tokenizer_spec.h"

namespace saescope::tokenizer {

class RegexPattern;

// A piece, or an added token found in the normalized text (added >= 0).
struct PreToken {
  Piece span;
  TokenId added = -1;
};

class PreTokenizer {
 public:
  explicit PreTokenizer(std::vector<PreTokenizerStep> steps);  // std::invalid_argument: bad regex
  ~PreTokenizer();
  PreTokenizer(PreTokenizer&&) noexcept;
  PreTokenizer& operator=(PreTokenizer&&) noexcept;

  void apply(NormalizedText& text, std::vector<PreToken>& pieces) const;

 private:
  void split(const NormalizedText& text, std::size_t step, std::vector<PreToken>& pieces) const;
  void metaspace(NormalizedText& text, const PreTokenizerStep& step,
                 std::vector<PreToken>& pieces) const;
  void prefix_space(NormalizedText& text, std::vector<PreToken>& pieces) const;

  std::vector<PreTokenizerStep> steps_;
  std::vector<std::unique_ptr<RegexPattern>> regexes_;  // per step, when it splits by regex
};

}  // namespace saescope::tokenizer
