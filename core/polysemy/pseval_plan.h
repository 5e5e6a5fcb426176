#pragma once
// Step one of a PS-Eval run, before any model: every prompt the run needs,
// each DISTINCT prompt once (a context shared by several pairs, or by a pair
// and a sense-labelled occurrence, is run once), with its token ids (BOS
// first) and target position; and, per pair and per occurrence, which
// prompts it reads or why it is skipped. Depends only on the tokenizer, the
// model's BOS id and context length, and the options.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/model/model_info.h"
#include "core/polysemy/pseval_target.h"
#include "core/polysemy/sense_occurrence.h"
#include "core/polysemy/skip_reason.h"
#include "core/polysemy/word_pair.h"
#include "core/tokenizer/bpe_tokenizer.h"

namespace saescope::polysemy {

struct PlanOptions {
  std::string prompt_template;                   // see pseval_template.h
  TargetRule target = TargetRule::template_word;
  bool reference_compat = false;                 // pairs use the reference rule (pseval_target.h)
};

struct PlannedPrompt {
  std::vector<int64_t> ids;  // BOS first
  int64_t target = 0;        // position in ids
  bool first_of_pair = false;  // prompt 1 of a kept pair: MSE/L0 are measured on it
  bool for_occurrence = false; // read by an occurrence: its target row is kept for PCA
};

struct PlannedPair {
  std::optional<SkipReason> skip;
  bool reference_lookup = false;  // see pseval_target.h
  int64_t prompt_1 = -1, prompt_2 = -1;
};

struct PlannedOccurrence {
  std::optional<SkipReason> skip;
  int64_t prompt = -1;
};

struct PromptPlan {
  std::vector<PlannedPrompt> prompts;
  std::vector<PlannedPair> pairs;              // in input order
  std::vector<PlannedOccurrence> occurrences;  // in input order
  std::size_t prompt_uses = 0;                 // prompts asked for before de-duplication
};

// Skip order per prompt: multi_token, too_long (BOS + tokens > n_positions),
// not_found; then, for a pair, token_mismatch when the two targets differ
// (never under the reference rule, which does not check). Occurrences always
// use `target` (the reference rule is about pairs).
PromptPlan plan_prompts(const tokenizer::BpeTokenizer& tok, const model::ModelInfo& config,
                        const std::vector<WordPair>& pairs,
                        const std::vector<SenseOccurrence>& occurrences, const PlanOptions& options);

// Drops every token after the target of the prompts whose later positions are
// never read (under causal attention they cannot change the target's
// activations): all of them, except first_of_pair prompts when
// `keep_first_of_pair` (their MSE/L0 cover every position).
void trim_after_targets(PromptPlan& plan, bool keep_first_of_pair);

}  // namespace saescope::polysemy
