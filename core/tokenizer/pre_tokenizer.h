#pragma once
// A tokenizer.json's pre-tokenizer: Split (string or regex, with HF's five
// delimiter behaviours and invert), ByteLevel (prefix space, GPT-2's regex),
// Metaspace (spaces to '▁', prepend scheme, split), in sequence; Digits,
// Whitespace and WhitespaceSplit arrive as Splits. Each step cuts the pieces
// it is given into smaller ones, as HF's PreTokenizedString does; pieces
// holding an added token are left alone.
#include <functional>
#include <memory>
#include <string_view>
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

  // Whether a step rewrites the text (Metaspace, ByteLevel's prefix space).
  // When none does, for_each_piece gives apply's pieces one at a time,
  // without building their list: the fast path for byte-level tokenizers.
  bool changes_text() const;
  // The regex when the whole pre-tokenizer is one Isolated regex split
  // (GPT-2, GPT-NeoX, llama 3, Qwen), else null: the encoder then runs that
  // split inline, without a callback per piece.
  const RegexPattern* sole_isolated_regex() const { return sole_isolated_; }
  using PieceSink = std::function<void(const PreToken&)>;
  void for_each_piece(const NormalizedText& text, const std::vector<PreToken>& pieces,
                      const PieceSink& sink) const;

 private:
  using SpanSink = std::function<void(std::size_t, std::size_t)>;
  void split_piece(std::string_view text, std::size_t step, const Piece& piece,
                   const SpanSink& out) const;
  void emit(std::string_view text, std::size_t step, const PreToken& p, const PieceSink& sink) const;
  void split(const NormalizedText& text, std::size_t step, std::vector<PreToken>& pieces) const;
  void metaspace(NormalizedText& text, const PreTokenizerStep& step,
                 std::vector<PreToken>& pieces) const;
  void prefix_space(NormalizedText& text, std::vector<PreToken>& pieces) const;

  std::vector<PreTokenizerStep> steps_;
  std::vector<std::unique_ptr<RegexPattern>> regexes_;  // per step, when it splits by regex
  const RegexPattern* sole_isolated_ = nullptr;
};

}  // namespace saescope::tokenizer
