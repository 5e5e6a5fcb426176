#include "core/tokenizer/normalized_text.h"

namespace saescope::tokenizer {

NormalizedText::NormalizedText(std::string_view original, std::size_t base)
    : original_(original), base_(base), original_size_(original.size()) {}

ByteSpan NormalizedText::original_span(std::size_t begin, std::size_t end) const {
  if (origin_.empty()) return {base_ + begin, base_ + end};
  if (begin >= end) {
    const std::size_t at = begin < origin_.size() ? origin_[begin].begin : origin_.back().end;
    return {at, at};
  }
  return {origin_[begin].begin, origin_[end - 1].end};
}

void NormalizedText::apply(const std::vector<Edit>& edits, std::vector<Piece>& pieces) {
  if (edits.empty()) return;
  if (!owned_) {
    text_.assign(original_);
    owned_ = true;
  }
  if (origin_.empty()) {
    origin_.resize(text_.size());
    for (std::size_t i = 0; i < text_.size(); ++i) origin_[i] = {base_ + i, base_ + i + 1};
  }
  // Where text inserted at position p of the old text is anchored in the original.
  const auto anchor = [&](std::size_t p) {
    if (p < origin_.size()) return origin_[p].begin;
    return origin_.empty() ? base_ + original_size_ : origin_.back().end;
  };
  std::string text;
  std::vector<ByteSpan> origin;
  text.reserve(text_.size() + edits.size() * 2);
  origin.reserve(text_.size() + edits.size() * 2);
  // new_pos[p]: where old position p lands, before any text inserted at p.
  std::vector<std::size_t> new_pos(text_.size() + 1);
  std::size_t old = 0;
  bool old_placed = false;  // new_pos[old] already set, before an insertion at old
  const auto copy_to = [&](std::size_t stop) {
    for (; old < stop; ++old, old_placed = false) {
      if (!old_placed) new_pos[old] = text.size();
      text += text_[old];
      origin.push_back(origin_[old]);
    }
  };
  for (const Edit& e : edits) {
    copy_to(e.pos);
    if (!old_placed) new_pos[old] = text.size();
    const ByteSpan span = e.removed ? ByteSpan{origin_[e.pos].begin, origin_[e.pos + e.removed - 1].end}
                                    : ByteSpan{anchor(e.pos), anchor(e.pos)};
    for (std::size_t k = 1; k < e.removed; ++k) new_pos[e.pos + k] = text.size();
    text += e.inserted;
    origin.insert(origin.end(), e.inserted.size(), span);
    old = e.pos + e.removed;
    old_placed = e.removed == 0;
  }
  copy_to(text_.size());
  if (!old_placed) new_pos[text_.size()] = text.size();
  // An insertion at p belongs to the piece that begins at p: a piece's end
  // maps to where p's insertion starts, its begin to the same place.
  for (Piece& piece : pieces) {
    piece.begin = new_pos[piece.begin];
    piece.end = new_pos[piece.end];
  }
  text_ = std::move(text);
  origin_ = std::move(origin);
}

}  // namespace saescope::tokenizer
