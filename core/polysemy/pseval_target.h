#pragma once
// Where in a prompt PS-Eval reads the SAE code: the target position.
//
// Clean rules (the procedure of pseval.md):
//   template word  the LAST token whose id is the single token of
//                  " " + target_word (with the default template: the word
//                  inside "The {target_word} means"). " " + target_word of more
//                  than one token -> multi_token; no such token -> not_found.
//   char span      the one token overlapping the word's byte span in the
//                  context (inflected forms included); a span over several
//                  tokens -> multi_token; no span known -> not_found.
// Reference rule (gouki510/PS-Eval wic_eval.py, for --reference-compat): the
//   prompt must hold a token whose string is exactly " " + target_word (else
//   dropped: multi_token when that string is no single token, not_found when
//   absent); then the FIRST token (after BOS) whose string CONTAINS
//   target_word is taken, and the LAST token with that same string is the
//   position. When that string occurs only once, the script's pandas lookup
//   raises and the pair is silently dropped: `reference_lookup`.
//
// Positions count BOS: `ids` passed here start with BOS.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/polysemy/skip_reason.h"
#include "core/polysemy/word_pair.h"
#include "core/tokenizer/bpe_tokenizer.h"

namespace saescope::polysemy {

enum class TargetRule { template_word, char_span };
const char* target_rule_name(TargetRule rule);  // "template-word", "char-span"
TargetRule parse_target_rule(const std::string& name);  // InputError otherwise

struct TargetPick {
  std::optional<SkipReason> skip;
  bool reference_lookup = false;  // reference rule: dropped by the script's lookup (skip = not_found)
  int64_t position = -1;          // index into ids (BOS = 0)
  int64_t token = -1;             // ids[position]
};

// The id of " " + word when that is exactly one token.
std::optional<int64_t> single_word_token(const tokenizer::BpeTokenizer& tok, const std::string& word);

TargetPick target_by_template_word(const std::vector<int64_t>& ids, std::optional<int64_t> word_token);

// `span` is in bytes of the PROMPT text whose encoding (without BOS) is `enc`.
// `first_position`: where enc's first token sits in the prompt (1 after BOS).
TargetPick target_by_char_span(const tokenizer::Encoding& enc, const std::optional<CharSpan>& span,
                               int64_t first_position = 1);

TargetPick target_by_reference_rule(const std::vector<int64_t>& ids,
                                    const tokenizer::BpeTokenizer& tok, const std::string& word);

}  // namespace saescope::polysemy
