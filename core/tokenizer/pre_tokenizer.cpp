#include "core/tokenizer/pre_tokenizer.h"

#include "core/tokenizer/regex_pattern.h"

namespace saescope::tokenizer {
namespace {

using Kind = PreTokenizerStep::Kind;

struct Segment {
  std::size_t begin, end;
  bool match;
};

// Matches and the text between them, covering [begin, end).
std::vector<Segment> segments(const std::string& text, std::size_t begin, std::size_t end,
                              const RegexPattern* regex, const std::string& literal, bool invert) {
  std::vector<Segment> out;
  std::size_t prev = begin;
  const auto on_match = [&](std::size_t b, std::size_t e) {
    if (prev < b) out.push_back({prev, b, invert});
    out.push_back({b, e, !invert});
    prev = e;
  };
  const std::string_view piece(text.data() + begin, end - begin);
  if (regex) {
    regex->find_all(piece, [&](std::size_t b, std::size_t e) { on_match(begin + b, begin + e); });
  } else if (!literal.empty()) {
    for (std::size_t p = piece.find(literal); p != std::string_view::npos;
         p = piece.find(literal, p + literal.size()))
      on_match(begin + p, begin + p + literal.size());
  }
  if (prev < end) out.push_back({prev, end, invert});
  return out;
}

// HF's SplitDelimiterBehavior over one piece's segments.
std::vector<Segment> apply_behavior(std::vector<Segment> segs, SplitBehavior behavior) {
  std::vector<Segment> out;
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::Isolated:
      return segs;
    case SplitBehavior::Removed:
      for (const Segment& s : segs)
        if (!s.match) out.push_back(s);
      return out;
    case SplitBehavior::MergedWithPrevious:
      for (const Segment& s : segs) {
        if (s.match && !previous_match && !out.empty()) out.back().end = s.end;
        else out.push_back(s);
        previous_match = s.match;
      }
      return out;
    case SplitBehavior::MergedWithNext:
      for (auto it = segs.rbegin(); it != segs.rend(); ++it) {
        if (it->match && !previous_match && !out.empty()) out.back().begin = it->begin;
        else out.push_back(*it);
        previous_match = it->match;
      }
      return {out.rbegin(), out.rend()};
    case SplitBehavior::Contiguous:
      for (std::size_t i = 0; i < segs.size(); ++i) {
        if (i > 0 && segs[i].match == previous_match) out.back().end = segs[i].end;
        else out.push_back(segs[i]);
        previous_match = segs[i].match;
      }
      return out;
  }
  return segs;
}

bool starts_with(const std::string& text, std::size_t pos, std::size_t end, const std::string& s) {
  return end - pos >= s.size() && text.compare(pos, s.size(), s) == 0;
}

}  // namespace

PreTokenizer::PreTokenizer(std::vector<PreTokenizerStep> steps) : steps_(std::move(steps)) {
  for (const PreTokenizerStep& s : steps_) {
    if (s.kind == Kind::Split && s.pattern.regex)
      regexes_.push_back(std::make_unique<RegexPattern>(s.pattern.text));
    else if (s.kind == Kind::ByteLevel && s.use_regex)
      regexes_.push_back(std::make_unique<RegexPattern>(gpt2_split_pattern()));
    else
      regexes_.push_back(nullptr);
  }
}
PreTokenizer::~PreTokenizer() = default;
PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;

void PreTokenizer::apply(NormalizedText& text, std::vector<PreToken>& pieces) const {
  for (std::size_t i = 0; i < steps_.size(); ++i) {
    const PreTokenizerStep& step = steps_[i];
    switch (step.kind) {
      case Kind::Split:
        split(text, i, pieces);
        break;
      case Kind::ByteLevel:
        if (step.add_prefix_space) prefix_space(text, pieces);
        if (step.use_regex) split(text, i, pieces);
        break;
      case Kind::Metaspace:
        metaspace(text, step, pieces);
        break;
    }
  }
}

void PreTokenizer::split(const NormalizedText& text, std::size_t step,
                         std::vector<PreToken>& pieces) const {
  const PreTokenizerStep& s = steps_[step];
  const SplitBehavior behavior = s.kind == Kind::ByteLevel ? SplitBehavior::Isolated : s.behavior;
  const bool invert = s.kind == Kind::ByteLevel ? false : s.invert;
  std::vector<PreToken> out;
  out.reserve(pieces.size() * 4);
  for (const PreToken& p : pieces) {
    if (p.added >= 0) {
      out.push_back(p);
      continue;
    }
    for (const Segment& seg : apply_behavior(
             segments(text.text(), p.span.begin, p.span.end, regexes_[step].get(),
                      s.pattern.text, invert),
             behavior))
      if (seg.begin < seg.end) out.push_back({{seg.begin, seg.end}, -1});
  }
  pieces = std::move(out);
}

void PreTokenizer::prefix_space(NormalizedText& text, std::vector<PreToken>& pieces) const {
  std::vector<NormalizedText::Edit> edits;
  for (const PreToken& p : pieces)
    if (p.added < 0 && p.span.begin < p.span.end && text.text()[p.span.begin] != ' ')
      edits.push_back({p.span.begin, 0, " "});
  std::vector<Piece> spans;
  for (const PreToken& p : pieces) spans.push_back(p.span);
  text.apply(edits, spans);
  for (std::size_t i = 0; i < pieces.size(); ++i) pieces[i].span = spans[i];
}

// Spaces become the replacement, a piece gets it in front by the prepend
// scheme ("first": only the piece at the start of the caller's text), then
// each piece splits before every replacement (MergedWithNext).
void PreTokenizer::metaspace(NormalizedText& text, const PreTokenizerStep& step,
                             std::vector<PreToken>& pieces) const {
  const std::string& t = text.text();
  const std::string& r = step.replacement;
  std::vector<NormalizedText::Edit> edits;
  for (const PreToken& p : pieces) {
    if (p.added >= 0 || p.span.begin >= p.span.end) continue;
    const bool starts = t[p.span.begin] == ' ' || starts_with(t, p.span.begin, p.span.end, r);
    const bool prepend =
        !starts && (step.prepend == PreTokenizerStep::Prepend::Always ||
                    (step.prepend == PreTokenizerStep::Prepend::First &&
                     text.original_span(p.span.begin, p.span.end).begin == 0));
    if (prepend) edits.push_back({p.span.begin, 0, r});
    for (std::size_t k = p.span.begin; k < p.span.end; ++k)
      if (t[k] == ' ') edits.push_back({k, 1, r});
  }
  std::vector<Piece> spans;
  for (const PreToken& p : pieces) spans.push_back(p.span);
  text.apply(edits, spans);
  for (std::size_t i = 0; i < pieces.size(); ++i) pieces[i].span = spans[i];
  if (!step.split) return;
  std::vector<PreToken> out;
  for (const PreToken& p : pieces) {
    if (p.added >= 0) {
      out.push_back(p);
      continue;
    }
    for (const Segment& seg :
         apply_behavior(segments(text.text(), p.span.begin, p.span.end, nullptr, r, false),
                        SplitBehavior::MergedWithNext))
      if (seg.begin < seg.end) out.push_back({{seg.begin, seg.end}, -1});
  }
  pieces = std::move(out);
}

}  // namespace saescope::tokenizer
