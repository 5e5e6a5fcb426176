#pragma once
// Text as the tokenizer's later stages see it, with where each byte came from
// in the caller's text. Normalizers (NFC, Replace " "->"▁", Prepend) and some
// pre-tokenizers (Metaspace, ByteLevel's prefix space) rewrite the text; the
// alignment lets every token still report its byte span in the original, as
// Hugging Face's NormalizedString does.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/tokenizer/bpe_tokenizer.h"

namespace saescope::tokenizer {

// A range [begin, end) of NormalizedText::text(): one piece after splitting.
struct Piece {
  std::size_t begin = 0;
  std::size_t end = 0;
};

class NormalizedText {
 public:
  // `original` is text[base, base + size) of the caller's text.
  NormalizedText(std::string_view original, std::size_t base);

  std::string_view text() const { return owned_ ? std::string_view(text_) : original_; }

  // One rewrite: `removed` bytes at `pos` give way to `inserted`.
  struct Edit {
    std::size_t pos = 0;
    std::size_t removed = 0;
    std::string inserted;
  };
  // Applies edits sorted by pos and not overlapping, and moves `pieces` with
  // them. Text inserted at a piece's begin joins that piece (Prepend); a
  // replacement takes the original span of what it replaced.
  void apply(const std::vector<Edit>& edits, std::vector<Piece>& pieces);

  // The span of the caller's text that bytes [begin, end) came from.
  ByteSpan original_span(std::size_t begin, std::size_t end) const;

 private:
  std::string_view original_;  // the text until the first edit: no copy on the fast path
  std::string text_;           // the text after edits
  bool owned_ = false;
  std::size_t base_;
  std::size_t original_size_;
  // Per byte of text_, its origin; empty while the text is the original's.
  std::vector<ByteSpan> origin_;
};

}  // namespace saescope::tokenizer
