#include "core/tokenizer/pre_tokenizer.h"

#include <functional>

namespace saescope::tokenizer {
namespace {

using Kind = PreTokenizerStep::Kind;

struct Segment {
  std::size_t begin, end;
  bool match;
};
using SpanSink = std::function<void(std::size_t, std::size_t)>;

// HF's SplitDelimiterBehavior, fed one segment at a time (matches and the
// text between them, in order) so that a megabyte-long piece is never held
// as a list: each behaviour needs at most one segment of lookahead.
class BehaviorStream {
 public:
  BehaviorStream(SplitBehavior behavior, const SpanSink& out) : behavior_(behavior), out_(out) {}

  void push(const Segment& s) {
    switch (behavior_) {
      case SplitBehavior::Isolated:
        return out_(s.begin, s.end);
      case SplitBehavior::Removed:
        if (!s.match) out_(s.begin, s.end);
        return;
      case SplitBehavior::MergedWithPrevious:  // a match joins the non-match before it
        if (s.match && !previous_match_ && has_) pending_.end = s.end;
        else hold(s);
        break;
      case SplitBehavior::Contiguous:  // runs of matches (and of non-matches) join
        if (has_ && s.match == previous_match_) pending_.end = s.end;
        else hold(s);
        break;
      case SplitBehavior::MergedWithNext:  // a match joins the non-match after it
        if (has_ && pending_.match && !s.match) {
          out_(pending_.begin, s.end);
          has_ = false;
        } else {
          hold(s);
        }
        break;
    }
    previous_match_ = s.match;
  }
  void finish() {
    if (has_) out_(pending_.begin, pending_.end);
    has_ = false;
  }

 private:
  void hold(const Segment& s) {
    if (has_) out_(pending_.begin, pending_.end);
    pending_ = s;
    has_ = true;
  }
  SplitBehavior behavior_;
  const SpanSink& out_;
  Segment pending_{0, 0, false};
  bool has_ = false;
  bool previous_match_ = false;
};

// Feeds the matches of `regex` (or of `literal`) in [begin, end) and the text
// between them to `stream`.
void stream_segments(std::string_view text, std::size_t begin, std::size_t end,
                     const RegexPattern* regex, const std::string& literal, bool invert,
                     BehaviorStream& stream) {
  std::size_t prev = begin;
  const auto on_match = [&](std::size_t b, std::size_t e) {
    if (prev < b) stream.push({prev, b, invert});
    stream.push({b, e, !invert});
    prev = e;
  };
  const std::string_view piece = text.substr(begin, end - begin);
  if (regex) {
    RegexPattern::Scanner scanner(*regex, piece);
    std::size_t b = 0, e = 0;
    while (scanner.next(b, e)) on_match(begin + b, begin + e);
  } else if (!literal.empty()) {
    for (std::size_t p = piece.find(literal); p != std::string_view::npos;
         p = piece.find(literal, p + literal.size()))
      on_match(begin + p, begin + p + literal.size());
  }
  if (prev < end) stream.push({prev, end, invert});
  stream.finish();
}

bool starts_with(std::string_view text, std::size_t pos, std::size_t end, std::string_view s) {
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
  for (const PreTokenizerStep& s : steps_)
    changes_text_ = changes_text_ || s.kind == Kind::Metaspace ||
                    (s.kind == Kind::ByteLevel && s.add_prefix_space);
  if (changes_text_) return;
  // One splitting step, Isolated and not inverted; the other steps do nothing
  // (a ByteLevel without regex or prefix space only maps bytes, in the model).
  const RegexPattern* sole = nullptr;
  for (std::size_t i = 0; i < steps_.size(); ++i) {
    const PreTokenizerStep& s = steps_[i];
    if (s.kind == Kind::ByteLevel && !s.use_regex) continue;
    const bool isolated_regex = regexes_[i] && (s.kind == Kind::ByteLevel ||
                                                (s.behavior == SplitBehavior::Isolated && !s.invert));
    if (!isolated_regex || sole) return;
    sole = regexes_[i].get();
  }
  sole_isolated_ = sole;
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

void PreTokenizer::split_piece(std::string_view text, std::size_t step, const Piece& piece,
                               const SpanSink& out) const {
  const PreTokenizerStep& s = steps_[step];
  const bool byte_level = s.kind == Kind::ByteLevel;
  const std::string& literal = s.kind == Kind::Metaspace ? s.replacement : s.pattern.text;
  const SplitBehavior behavior = byte_level                     ? SplitBehavior::Isolated
                                 : s.kind == Kind::Metaspace ? SplitBehavior::MergedWithNext
                                                                : s.behavior;
  BehaviorStream stream(behavior, out);
  stream_segments(text, piece.begin, piece.end, regexes_[step].get(), literal,
                  !byte_level && s.invert, stream);
}

void PreTokenizer::split(const NormalizedText& text, std::size_t step,
                         std::vector<PreToken>& pieces) const {
  std::vector<PreToken> out;
  out.reserve(pieces.size() * 4);
  const SpanSink keep = [&](std::size_t b, std::size_t e) {
    if (b < e) out.push_back({{b, e}, -1});
  };
  for (const PreToken& p : pieces) {
    if (p.added >= 0) out.push_back(p);
    else split_piece(text.text(), step, p.span, keep);
  }
  pieces = std::move(out);
}

// Splits a piece by step `step` and hands each part to the next step, the
// last to `sink`: no list of all pieces is built.
void PreTokenizer::emit(std::string_view text, std::size_t step, const PreToken& p,
                        const PieceSink& sink) const {
  while (step < steps_.size() && !regexes_[step] && steps_[step].kind != Kind::Split) ++step;
  if (p.added >= 0 || step == steps_.size()) return sink(p);
  split_piece(text, step, p.span, [&](std::size_t b, std::size_t e) {
    if (b < e) emit(text, step + 1, {{b, e}, -1}, sink);
  });
}

void PreTokenizer::apply_edits(NormalizedText& text, const std::vector<NormalizedText::Edit>& edits,
                               std::vector<PreToken>& pieces) {
  std::vector<Piece> spans;
  for (const PreToken& p : pieces) spans.push_back(p.span);
  text.apply(edits, spans);
  for (std::size_t i = 0; i < pieces.size(); ++i) pieces[i].span = spans[i];
}

void PreTokenizer::prefix_space(NormalizedText& text, std::vector<PreToken>& pieces) const {
  std::vector<NormalizedText::Edit> edits;
  for (const PreToken& p : pieces)
    if (p.added < 0 && p.span.begin < p.span.end && text.text()[p.span.begin] != ' ')
      edits.push_back({p.span.begin, 0, " "});
  apply_edits(text, edits, pieces);
}

// Spaces become the replacement, a piece gets it in front by the prepend
// scheme ("first": only the piece at the start of the caller's text), then
// each piece splits before every replacement (MergedWithNext).
void PreTokenizer::metaspace(NormalizedText& text, const PreTokenizerStep& step,
                             std::vector<PreToken>& pieces) const {
  const std::string_view t = text.text();
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
  apply_edits(text, edits, pieces);
  if (step.split) split(text, static_cast<std::size_t>(&step - steps_.data()), pieces);
}

}  // namespace saescope::tokenizer
