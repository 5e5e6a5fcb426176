#include "core/polysemy/pseval_target.h"

#include "core/common/error.h"

namespace saescope::polysemy {
namespace {

TargetPick skipped(SkipReason reason) {
  TargetPick p;
  p.skip = reason;
  return p;
}

TargetPick at(const std::vector<int64_t>& ids, std::size_t position) {
  TargetPick p;
  p.position = static_cast<int64_t>(position);
  p.token = ids[position];
  return p;
}

}  // namespace

const char* target_rule_name(TargetRule rule) {
  return rule == TargetRule::char_span ? "char-span" : "template-word";
}

TargetRule parse_target_rule(const std::string& name) {
  if (name == "template-word") return TargetRule::template_word;
  if (name == "char-span") return TargetRule::char_span;
  throw InputError("target rule '" + name + "': expected template-word or char-span");
}

std::optional<int64_t> single_word_token(const tokenizer::BpeTokenizer& tok, const std::string& word) {
  const auto ids = tok.encode_ids(" " + word);
  if (ids.size() != 1) return std::nullopt;
  return ids[0];
}

TargetPick target_by_template_word(const std::vector<int64_t>& ids, std::optional<int64_t> word_token) {
  if (!word_token) return skipped(SkipReason::multi_token);
  for (std::size_t i = ids.size(); i-- > 1;)  // BOS (position 0) is never the word
    if (ids[i] == *word_token) return at(ids, i);
  return skipped(SkipReason::not_found);
}

TargetPick target_by_char_span(const tokenizer::Encoding& enc, const std::optional<CharSpan>& span,
                               int64_t first_position) {
  if (!span || span->end <= span->start) return skipped(SkipReason::not_found);
  std::optional<std::size_t> found;
  for (std::size_t i = 0; i < enc.offsets.size(); ++i) {
    const auto& o = enc.offsets[i];
    if (o.begin < span->end && o.end > span->start) {
      if (found) return skipped(SkipReason::multi_token);
      found = i;
    }
  }
  if (!found) return skipped(SkipReason::not_found);
  TargetPick p;
  p.position = static_cast<int64_t>(*found) + first_position;
  p.token = enc.ids[*found];
  return p;
}

TargetPick target_by_reference_rule(const std::vector<int64_t>& ids,
                                    const tokenizer::BpeTokenizer& tok, const std::string& word) {
  std::vector<std::string> strings;
  strings.reserve(ids.size());
  for (int64_t id : ids) strings.push_back(tok.token_string(static_cast<tokenizer::TokenId>(id)));
  const std::string spaced = " " + word;
  bool template_token = false;
  for (std::size_t i = 1; i < strings.size(); ++i) template_token = template_token || strings[i] == spaced;
  if (!template_token)
    return skipped(single_word_token(tok, word) ? SkipReason::not_found : SkipReason::multi_token);
  for (std::size_t i = 1; i < strings.size(); ++i) {
    if (strings[i].find(word) == std::string::npos) continue;
    std::size_t count = 0, last = 0;
    for (std::size_t j = 0; j < strings.size(); ++j)
      if (strings[j] == strings[i]) ++count, last = j;
    if (count == 1) {
      TargetPick p = skipped(SkipReason::not_found);
      p.reference_lookup = true;
      return p;
    }
    return at(ids, last);
  }
  return skipped(SkipReason::not_found);  // unreachable: the template token contains the word
}

}  // namespace saescope::polysemy
