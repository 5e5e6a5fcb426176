#include "core/tokenizer/normalizer.h"

#include <unicode/bytestream.h>
#include <unicode/casemap.h>
#include <unicode/edits.h>
#include <unicode/normalizer2.h>

#include "core/common/error.h"
#include "core/tokenizer/regex_pattern.h"
#include "core/tokenizer/utf8.h"

namespace saescope::tokenizer {
namespace {

using Edits = std::vector<NormalizedText::Edit>;
using Kind = NormalizerStep::Kind;

// Calls f(begin, end) for each maximal run of well-formed UTF-8 in text.
template <typename F>
void for_each_valid_run(std::string_view text, F f) {
  std::size_t run = 0, pos = 0;
  while (pos < text.size()) {
    const std::size_t len = valid_utf8_sequence_length(text, pos);
    if (len) {
      pos += len;
      continue;
    }
    if (run < pos) f(run, pos);
    run = ++pos;
  }
  if (run < pos) f(run, pos);
}

// ICU's Edits for one run, as NormalizedText edits at `offset`.
void add_icu_edits(const icu::Edits& icu_edits, const std::string& out, std::size_t offset,
                   Edits& edits) {
  UErrorCode status = U_ZERO_ERROR;
  icu::Edits::Iterator it = icu_edits.getFineChangesIterator();
  while (it.next(status))
    edits.push_back({offset + static_cast<std::size_t>(it.sourceIndex()),
                     static_cast<std::size_t>(it.oldLength()),
                     out.substr(it.destinationIndex(), it.newLength())});
}

const icu::Normalizer2* icu_normalizer(Kind kind) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = kind == Kind::NFC    ? icu::Normalizer2::getNFCInstance(status)
                              : kind == Kind::NFD  ? icu::Normalizer2::getNFDInstance(status)
                              : kind == Kind::NFKC ? icu::Normalizer2::getNFKCInstance(status)
                                                   : icu::Normalizer2::getNFKDInstance(status);
  if (U_FAILURE(status)) throw InternalError(std::string("ICU normalizer: ") + u_errorName(status));
  return n;
}

Edits unicode_edits(Kind kind, std::string_view text) {
  Edits edits;
  for_each_valid_run(text, [&](std::size_t begin, std::size_t end) {
    const icu::StringPiece run(text.data() + begin, static_cast<int32_t>(end - begin));
    UErrorCode status = U_ZERO_ERROR;
    std::string out;
    icu::StringByteSink<std::string> sink(&out);
    icu::Edits icu_edits;
    if (kind == Kind::Lowercase) {
      icu::CaseMap::utf8ToLower("", 0, run, sink, &icu_edits, status);
    } else {
      const icu::Normalizer2* n = icu_normalizer(kind);
      if (n->isNormalizedUTF8(run, status) && U_SUCCESS(status)) return;  // the common case
      status = U_ZERO_ERROR;
      n->normalizeUTF8(0, run, sink, &icu_edits, status);
    }
    if (U_FAILURE(status)) throw InternalError(std::string("ICU: ") + u_errorName(status));
    add_icu_edits(icu_edits, out, begin, edits);
  });
  return edits;
}

bool is_white_space_at(std::string_view text, std::size_t pos, std::size_t len) {
  const char32_t c = decode_utf8_at(text, pos, len);
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

Edits strip_edits(const NormalizerStep& step, std::string_view text) {
  std::size_t lead = 0, trail = text.size();
  if (step.strip_left)
    while (lead < text.size()) {
      const std::size_t len = valid_utf8_sequence_length(text, lead);
      if (!len || !is_white_space_at(text, lead, len)) break;
      lead += len;
    }
  if (step.strip_right)
    while (trail > lead) {
      std::size_t start = trail - 1;
      while (start > lead && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
      const std::size_t len = valid_utf8_sequence_length(text, start);
      if (len != trail - start || !is_white_space_at(text, start, len)) break;
      trail = start;
    }
  Edits edits;
  if (lead > 0) edits.push_back({0, lead, ""});
  if (trail < text.size() && trail >= lead) edits.push_back({trail, text.size() - trail, ""});
  return edits;
}

}  // namespace

Normalizer::Normalizer(std::vector<NormalizerStep> steps) : steps_(std::move(steps)) {
  for (const NormalizerStep& s : steps_)
    regexes_.push_back(s.kind == Kind::Replace && s.pattern.regex
                           ? std::make_unique<RegexPattern>(s.pattern.text)
                           : nullptr);
}
Normalizer::~Normalizer() = default;
Normalizer::Normalizer(Normalizer&&) noexcept = default;
Normalizer& Normalizer::operator=(Normalizer&&) noexcept = default;

void Normalizer::apply(NormalizedText& text) const {
  std::vector<Piece> no_pieces;  // the normalizer runs before any split
  for (std::size_t i = 0; i < steps_.size(); ++i) {
    const NormalizerStep& step = steps_[i];
    const std::string_view t = text.text();
    Edits edits;
    switch (step.kind) {
      case Kind::Replace:
        if (regexes_[i]) {
          regexes_[i]->find_all(t, [&](std::size_t b, std::size_t e) {
            edits.push_back({b, e - b, step.content});
          });
        } else if (!step.pattern.text.empty()) {
          for (std::size_t p = t.find(step.pattern.text); p != std::string_view::npos;
               p = t.find(step.pattern.text, p + step.pattern.text.size()))
            edits.push_back({p, step.pattern.text.size(), step.content});
        }
        break;
      case Kind::Prepend:
        if (!t.empty()) edits.push_back({0, 0, step.content});
        break;
      case Kind::Strip:
        edits = strip_edits(step, t);
        break;
      default:  // NFC, NFD, NFKC, NFKD, Lowercase
        edits = unicode_edits(step.kind, t);
    }
    text.apply(edits, no_pieces);
  }
}

}  // namespace saescope::tokenizer
