#include "core/polysemy/pseval_plan.h"

#include <unordered_map>

#include "core/polysemy/pseval_template.h"

namespace saescope::polysemy {
namespace {

struct Encoded {
  std::vector<int64_t> ids;  // BOS first
  tokenizer::Encoding enc;   // without BOS
};

class Planner {
 public:
  Planner(const tokenizer::BpeTokenizer& tok, const model::ModelInfo& config, const PlanOptions& options)
      : tok_(tok), config_(config), options_(options) {
    check_prompt_template(options.prompt_template);
  }

  struct Resolved {
    TargetPick pick;
    std::string key;
    const Encoded* encoded = nullptr;
  };

  // The prompt for `context` + `word` and its target, or why there is none.
  Resolved resolve(const std::string& context, const std::string& word,
                   const std::optional<CharSpan>& span, bool reference_rule) {
    ++plan_.prompt_uses;
    const FilledPrompt filled = fill_prompt_template(options_.prompt_template, context, word);
    Resolved r;
    r.encoded = &encode(filled.text);
    const Encoded& e = *r.encoded;
    if (reference_rule) {
      r.pick = target_by_reference_rule(e.ids, tok_, word);
    } else if (options_.target == TargetRule::template_word) {
      r.pick = target_by_template_word(e.ids, word_token(word));
    } else {
      std::optional<CharSpan> in_prompt;
      if (span) in_prompt = CharSpan{span->start + filled.context_offset, span->end + filled.context_offset};
      r.pick = target_by_char_span(e.enc, in_prompt, config_.prepend_bos ? 1 : 0);
    }
    // A prompt the model cannot run is too long whatever else is wrong with
    // it, except a word that can never be one token.
    if (static_cast<int64_t>(e.ids.size()) > config_.n_positions &&
        r.pick.skip != SkipReason::multi_token) {
      r.pick = TargetPick{};
      r.pick.skip = SkipReason::too_long;
    }
    if (!r.pick.skip) r.key = filled.text + '\x1f' + std::to_string(r.pick.position);
    return r;
  }

  // The plan's index of a resolved prompt, added on first use.
  int64_t intern(const Resolved& r) {
    auto [it, fresh] = index_.emplace(r.key, static_cast<int64_t>(plan_.prompts.size()));
    if (fresh) plan_.prompts.push_back({r.encoded->ids, r.pick.position, false, false});
    return it->second;
  }

  PromptPlan take() { return std::move(plan_); }
  PromptPlan& plan() { return plan_; }

 private:
  const Encoded& encode(const std::string& text) {
    auto it = encoded_.find(text);
    if (it != encoded_.end()) return it->second;
    Encoded e;
    e.enc = tok_.encode(text);
    e.ids.reserve(e.enc.ids.size() + 1);
    if (config_.prepend_bos) e.ids.push_back(config_.bos_token_id);
    e.ids.insert(e.ids.end(), e.enc.ids.begin(), e.enc.ids.end());
    return encoded_.emplace(text, std::move(e)).first->second;
  }

  std::optional<int64_t> word_token(const std::string& word) {
    auto it = word_tokens_.find(word);
    if (it == word_tokens_.end()) it = word_tokens_.emplace(word, single_word_token(tok_, word)).first;
    return it->second;
  }

  const tokenizer::BpeTokenizer& tok_;
  const model::ModelInfo& config_;
  const PlanOptions& options_;
  PromptPlan plan_;
  std::unordered_map<std::string, Encoded> encoded_;
  std::unordered_map<std::string, std::optional<int64_t>> word_tokens_;
  std::unordered_map<std::string, int64_t> index_;
};

}  // namespace

PromptPlan plan_prompts(const tokenizer::BpeTokenizer& tok, const model::ModelInfo& config,
                        const std::vector<WordPair>& pairs,
                        const std::vector<SenseOccurrence>& occurrences, const PlanOptions& options) {
  Planner planner(tok, config, options);
  PromptPlan& plan = planner.plan();
  for (const WordPair& pair : pairs) {
    PlannedPair out;
    const bool reference = options.reference_compat;
    const auto a = planner.resolve(pair.context_1, pair.target_word, pair.span_1, reference);
    Planner::Resolved b;
    if (!a.pick.skip) b = planner.resolve(pair.context_2, pair.target_word, pair.span_2, reference);
    if (a.pick.skip || b.pick.skip) {
      const TargetPick& why = a.pick.skip ? a.pick : b.pick;
      out.skip = why.skip;
      out.reference_lookup = why.reference_lookup;
    } else if (!reference && a.pick.token != b.pick.token) {
      out.skip = SkipReason::token_mismatch;
    } else {
      out.prompt_1 = planner.intern(a);
      out.prompt_2 = planner.intern(b);
      plan.prompts[static_cast<std::size_t>(out.prompt_1)].first_of_pair = true;
    }
    plan.pairs.push_back(out);
  }
  for (const SenseOccurrence& occ : occurrences) {
    PlannedOccurrence out;
    const auto r = planner.resolve(occ.context, occ.word, occ.span, false);
    if (r.pick.skip) {
      out.skip = r.pick.skip;
    } else {
      out.prompt = planner.intern(r);
      plan.prompts[static_cast<std::size_t>(out.prompt)].for_occurrence = true;
    }
    plan.occurrences.push_back(out);
  }
  return planner.take();
}

void trim_after_targets(PromptPlan& plan, bool keep_first_of_pair) {
  for (PlannedPrompt& p : plan.prompts)
    if (!(keep_first_of_pair && p.first_of_pair)) p.ids.resize(static_cast<std::size_t>(p.target) + 1);
}

}  // namespace saescope::polysemy
