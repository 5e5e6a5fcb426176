#pragma once
// Step three of a PS-Eval run: from the argmax picks of one SAE (or of the
// raw activations: the baseline) to the numbers reported.
//   pairs      PairOutcome per pair -> score_pairs (pair_scoring.h): confusion,
//              accuracy / precision / recall / specificity / F1, per word.
//              Clean: a pair whose either code is all zero is skipped
//              (all_zero). Reference-compat: it is scored with feature 0, as
//              numpy's argmax of zeros gives, and counted in
//              all_zero_as_feature_0; selection = the reference's label-1
//              truncation.
//   geometry   mean cosine of W_enc[:, i1] and W_enc[:, i2], and of W_dec[i1]
//              and W_dec[i2], over label-1 ("same") and label-0 ("different")
//              pairs that survive skipping. (The reference averages over the
//              same survivors, before its truncation.)
//   MSE, L0    mean over the surviving pairs of prompt 1's MSE and L0
//              (pseval_collector.h), as the reference does.
//   senses     per occurrence its feature; purity / NMI per word
//              (sense_clustering.h); a 2-D PCA of each word's codes.
#include <ATen/core/Tensor.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/polysemy/pair_scoring.h"
#include "core/polysemy/pseval_collector.h"
#include "core/polysemy/pseval_plan.h"
#include "core/polysemy/sense_clustering.h"
#include "core/polysemy/sense_occurrence.h"
#include "core/polysemy/word_pair.h"
#include "core/sae/sae.h"

namespace saescope::polysemy {

struct CosineMeans {
  double same = 0, different = 0;  // means over label-1 / label-0 pairs
  std::size_t same_pairs = 0, different_pairs = 0;
};

struct OccurrenceResult {
  std::optional<SkipReason> skipped;  // from the plan, or all_zero
  bool has_code = false;              // reached the model: a point of the PCA
  int64_t feature = -1;               // -1 when skipped (all-zero code included)
  float activation = 0;
  double pca_x = 0, pca_y = 0;
};

struct PsEvalScore {
  std::string name;  // the SAE (its folder); empty for the baseline
  std::string hook;
  bool baseline = false;
  std::size_t pairs_total = 0;
  PairScore pairs;
  std::size_t reference_lookup = 0;       // among pairs.skipped[not_found]
  std::size_t all_zero_as_feature_0 = 0;  // reference-compat only
  bool has_geometry = false;
  CosineMeans cos_enc, cos_dec;
  bool has_reconstruction = false;
  double mse = 0, l0 = 0;
  std::size_t reconstruction_prompts = 0;
  bool has_senses = false;
  ClusterScore senses;
  std::vector<OccurrenceResult> occurrences;  // parallel to the input occurrences
};

struct ScoreContext {
  const PromptPlan& plan;
  const std::vector<WordPair>& pairs;
  const std::vector<SenseOccurrence>& occurrences;
  bool reference_compat = false;
};

// `sae` null = baseline (no geometry, no PCA). `mse`/`l0` null = not measured.
// `occurrence_rows` [rows, width] with `occurrence_row` [prompt] -> row feed the PCA.
PsEvalScore score_picks(const ScoreContext& ctx, const std::vector<FeaturePick>& picks,
                        const sae::Sae* sae, const std::vector<double>* mse,
                        const std::vector<double>* l0, const at::Tensor& occurrence_rows,
                        const std::vector<int64_t>& occurrence_row);

}  // namespace saescope::polysemy
