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
#include "core/tokenizer/regex_pattern.h"
#include "core/tokenizer/tokenizer_spec.h"

namespace saescope::tokenizer {

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

  // Cuts `pieces` and hands each resulting piece, in order, to
  // sink(const PreToken&). One outcome, three ways to it: a pre-tokenizer
  // that is one Isolated regex (GPT-2, GPT-NeoX, llama 3, Qwen) splits inline,
  // without a callback per piece (the hot path of byte-level BPE); splits
  // that leave the text alone stream their pieces; steps that rewrite it
  // (Metaspace, ByteLevel's prefix space) build the list first.
  template <class Sink>
  void run(NormalizedText& text, std::vector<PreToken>& pieces, Sink&& sink) const {
    if (sole_isolated_) {
      for (const PreToken& p : pieces)
        if (p.added >= 0) sink(p);
        else split_inline(*sole_isolated_, text.text(), p.span, sink);
    } else if (!changes_text_) {
      const PieceSink each = [&sink](const PreToken& p) { sink(p); };
      for (const PreToken& p : pieces) emit(text.text(), 0, p, each);
    } else {
      apply(text, pieces);
      for (const PreToken& p : pieces) sink(p);
    }
  }

 private:
  template <class Sink>
  static void split_inline(const RegexPattern& regex, std::string_view text, const Piece& piece,
                           Sink& sink) {
    RegexPattern::Scanner scanner(regex, text.substr(piece.begin, piece.end - piece.begin));
    std::size_t prev = 0, begin = 0, end = 0;
    while (scanner.next(begin, end)) {
      if (prev < begin) sink(PreToken{{piece.begin + prev, piece.begin + begin}, -1});
      sink(PreToken{{piece.begin + begin, piece.begin + end}, -1});
      prev = end;
    }
    if (piece.begin + prev < piece.end) sink(PreToken{{piece.begin + prev, piece.end}, -1});
  }
  using PieceSink = std::function<void(const PreToken&)>;
  using SpanSink = std::function<void(std::size_t, std::size_t)>;
  void apply(NormalizedText& text, std::vector<PreToken>& pieces) const;
  void split_piece(std::string_view text, std::size_t step, const Piece& piece,
                   const SpanSink& out) const;
  void emit(std::string_view text, std::size_t step, const PreToken& p, const PieceSink& sink) const;
  void split(const NormalizedText& text, std::size_t step, std::vector<PreToken>& pieces) const;
  void metaspace(NormalizedText& text, const PreTokenizerStep& step,
                 std::vector<PreToken>& pieces) const;
  void prefix_space(NormalizedText& text, std::vector<PreToken>& pieces) const;
  static void apply_edits(NormalizedText& text, const std::vector<NormalizedText::Edit>& edits,
                          std::vector<PreToken>& pieces);

  std::vector<PreTokenizerStep> steps_;
  std::vector<std::unique_ptr<RegexPattern>> regexes_;  // per step, when it splits by regex
  bool changes_text_ = false;                   // a step rewrites the text
  const RegexPattern* sole_isolated_ = nullptr;  // the one Isolated regex split, if that is all
};

}  // namespace saescope::tokenizer
