#pragma once
// PS-Eval (Minegishi et al., ICLR 2025; ../shared/docs/pseval.md): does an
// SAE's strongest feature at a polysemous word change when the meaning does?
//
// Clean procedure (the default), per SAE at hook H of model M:
//  1. prompt = template (default "{context} The {target_word} means",
//     pseval_template.h), BOS prepended;
//  2. target = the LAST token equal to the single token of " " + target_word
//     (pseval_target.h; or, with TargetRule::char_span, the token at the
//     word's span in the context). Skipped, each counted by reason:
//     multi_token (" " + word is not one token), token_mismatch (the two
//     prompts' targets differ: char-span rule only), too_long (more than
//     n_positions tokens), not_found, all_zero (a code with no active feature);
//  3. the argmax feature of the SAE code there (ties: lowest index);
//  4. positive = both prompts share it: label 1 -> TP/FN, label 0 -> FP/TN;
//     accuracy, precision, recall, specificity, F1 (F1 is the headline);
//  5. mean cosine of W_enc columns / W_dec rows of the two features, per label;
//  6. MSE and L0 on prompt 1 of each surviving pair, all positions, BOS
//     included (the reference's definition).
// Plus the no-SAE baseline per hook (argmax of the raw activation vector,
// same steps 1-4), and, given sense-labelled occurrences, each occurrence's
// feature, purity / NMI per word and averaged, and a 2-D PCA of each word's
// codes.
//
// Reference-compat (reference_compat = true) reproduces gouki510/PS-Eval
// wic_eval.py so published numbers can be matched:
//  - its position rule (pseval_target.h): pairs whose context lacks a second
//    token with the chosen string are dropped (counted as reference_lookup);
//  - its balancing: all surviving label-0 pairs, then the first that many
//    label-1 pairs in file order, of which the survivors are scored
//    (pair_scoring.h, PairSelection::reference_truncation);
//  - an all-zero code is not skipped but scored as feature 0 (numpy's argmax).
// Geometry, MSE and L0 are averaged over every surviving pair, before the
// truncation, as the script does. Occurrences use the clean rule either way.
//
// Cost: every distinct prompt runs through the model once for ALL the SAEs
// (pseval_collector.h), in padding-aware batches.
#include <cstdint>
#include <string>
#include <vector>

#include "core/common/progress.h"
#include "core/model/language_model.h"
#include "core/polysemy/pseval_score.h"
#include "core/polysemy/pseval_target.h"
#include "core/polysemy/pseval_template.h"
#include "core/polysemy/sense_occurrence.h"
#include "core/polysemy/word_pair.h"
#include "core/sae/sae.h"
#include "core/tokenizer/bpe_tokenizer.h"

namespace saescope::polysemy {

struct PsEvalOptions {
  std::string prompt_template = kDefaultPromptTemplate;
  bool reference_compat = false;
  TargetRule target = TargetRule::template_word;
  int64_t batch_size = 32;     // prompts per forward pass
  bool baseline = true;        // the no-SAE baseline at each hook
  bool reconstruction = true;  // MSE and L0
};

struct PsEvalSae {
  const sae::Sae* sae = nullptr;
  std::string name;  // reported as "sae"
  std::string hook;  // empty: the SAE's own hook_name
};

struct PsEvalStats {
  std::size_t pairs = 0, occurrences = 0;
  std::size_t prompt_uses = 0;   // prompts the pairs and occurrences ask for
  std::size_t prompts = 0;       // distinct prompts run (each once)
  int64_t batches = 0, tokens = 0, padded_tokens = 0;
  double seconds = 0;
};

struct PsEvalRun {
  std::vector<PsEvalScore> saes;       // in the order given
  std::vector<PsEvalScore> baselines;  // one per distinct hook, forward order
  PsEvalStats stats;
};

PsEvalRun run_pseval(const model::LanguageModel& model, const tokenizer::BpeTokenizer& tok,
                     const std::vector<PsEvalSae>& saes, const std::vector<WordPair>& pairs,
                     const std::vector<SenseOccurrence>& occurrences, const PsEvalOptions& options,
                     jobs::ProgressSink* progress = nullptr);

}  // namespace saescope::polysemy
