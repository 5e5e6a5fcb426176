#include "core/polysemy/pseval_score.h"

#include <ATen/ATen.h>

#include <cmath>
#include <map>

#include "core/polysemy/pseval_pca.h"

namespace saescope::polysemy {
namespace {

std::vector<PairOutcome> pair_outcomes(const ScoreContext& ctx, const std::vector<FeaturePick>& picks,
                                       PsEvalScore& score) {
  std::vector<PairOutcome> out;
  out.reserve(ctx.pairs.size());
  for (std::size_t i = 0; i < ctx.pairs.size(); ++i) {
    const WordPair& pair = ctx.pairs[i];
    const PlannedPair& plan = ctx.plan.pairs[i];
    if (plan.skip) {
      out.push_back(PairOutcome::skip(pair.target_word, pair.same_sense, *plan.skip));
      if (plan.reference_lookup) ++score.reference_lookup;
      continue;
    }
    const FeaturePick& a = picks[static_cast<std::size_t>(plan.prompt_1)];
    const FeaturePick& b = picks[static_cast<std::size_t>(plan.prompt_2)];
    if (a.all_zero || b.all_zero) {
      if (!ctx.reference_compat) {
        out.push_back(PairOutcome::skip(pair.target_word, pair.same_sense, SkipReason::all_zero));
        continue;
      }
      ++score.all_zero_as_feature_0;  // argmax_picks already says feature 0
    }
    out.push_back(PairOutcome::scored(pair.target_word, pair.same_sense, a.feature, b.feature));
  }
  return out;
}

void add_geometry(const std::vector<PairOutcome>& outcomes, const sae::Sae& sae, PsEvalScore& score) {
  std::vector<int64_t> f1, f2;
  std::vector<bool> same;
  for (const PairOutcome& o : outcomes)
    if (!o.skipped) {
      f1.push_back(o.feature_1);
      f2.push_back(o.feature_2);
      same.push_back(o.same_sense);
    }
  score.has_geometry = true;
  if (f1.empty()) return;
  const auto device = sae.weights().W_enc.device();
  const at::Tensor i1 = at::tensor(f1, at::kLong).to(device), i2 = at::tensor(f2, at::kLong).to(device);
  const at::Tensor enc = sae.weights().W_enc.t();  // row i = column i of W_enc
  const at::Tensor& dec = sae.weights().W_dec;
  const at::Tensor cos_enc = at::cosine_similarity(enc.index_select(0, i1), enc.index_select(0, i2), 1, 1e-8)
                                 .to(at::kCPU, at::kDouble);
  const at::Tensor cos_dec = at::cosine_similarity(dec.index_select(0, i1), dec.index_select(0, i2), 1, 1e-8)
                                 .to(at::kCPU, at::kDouble);
  const auto ce = cos_enc.accessor<double, 1>(), cd = cos_dec.accessor<double, 1>();
  for (std::size_t k = 0; k < same.size(); ++k) {
    const auto i = static_cast<int64_t>(k);
    if (same[k]) {
      score.cos_enc.same += ce[i], score.cos_dec.same += cd[i];
      ++score.cos_enc.same_pairs;
    } else {
      score.cos_enc.different += ce[i], score.cos_dec.different += cd[i];
      ++score.cos_enc.different_pairs;
    }
  }
  for (CosineMeans* m : {&score.cos_enc, &score.cos_dec}) {
    m->same_pairs = score.cos_enc.same_pairs;
    m->different_pairs = score.cos_enc.different_pairs;
    if (m->same_pairs) m->same /= static_cast<double>(m->same_pairs);
    if (m->different_pairs) m->different /= static_cast<double>(m->different_pairs);
  }
}

void add_reconstruction(const ScoreContext& ctx, const std::vector<PairOutcome>& outcomes,
                        const std::vector<double>& mse, const std::vector<double>& l0, PsEvalScore& score) {
  score.has_reconstruction = true;
  double sum_mse = 0, sum_l0 = 0;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (outcomes[i].skipped) continue;
    const auto p = static_cast<std::size_t>(ctx.plan.pairs[i].prompt_1);
    if (std::isnan(mse[p])) continue;
    sum_mse += mse[p];
    sum_l0 += l0[p];
    ++score.reconstruction_prompts;
  }
  if (score.reconstruction_prompts) {
    score.mse = sum_mse / static_cast<double>(score.reconstruction_prompts);
    score.l0 = sum_l0 / static_cast<double>(score.reconstruction_prompts);
  }
}

void add_senses(const ScoreContext& ctx, const std::vector<FeaturePick>& picks, const sae::Sae* sae,
                const at::Tensor& occurrence_rows, const std::vector<int64_t>& occurrence_row,
                PsEvalScore& score) {
  score.has_senses = true;
  std::vector<OccurrenceOutcome> outcomes;
  std::map<std::string, std::vector<std::size_t>> by_word;  // occurrences that reached the model
  score.occurrences.resize(ctx.occurrences.size());
  for (std::size_t i = 0; i < ctx.occurrences.size(); ++i) {
    const SenseOccurrence& occ = ctx.occurrences[i];
    const PlannedOccurrence& plan = ctx.plan.occurrences[i];
    OccurrenceResult& r = score.occurrences[i];
    OccurrenceOutcome o{occ.word, occ.sense_id, std::nullopt, -1};
    if (plan.skip) {
      o.skipped = r.skipped = plan.skip;
    } else {
      const FeaturePick& pick = picks[static_cast<std::size_t>(plan.prompt)];
      r.has_code = true;
      if (pick.all_zero) {
        o.skipped = r.skipped = SkipReason::all_zero;
      } else {
        o.feature = r.feature = pick.feature;
        r.activation = pick.activation;
      }
      by_word[occ.word].push_back(i);
    }
    // Unlabelled occurrences (from a corpus) get a code and a PCA point, but
    // have no gold sense to score against.
    if (!occ.sense_id.empty()) outcomes.push_back(std::move(o));
  }
  score.senses = score_sense_clustering(outcomes);
  if (!sae) return;
  for (const auto& [word, members] : by_word) {
    std::vector<int64_t> slots;
    for (std::size_t i : members)
      slots.push_back(occurrence_row[static_cast<std::size_t>(ctx.plan.occurrences[i].prompt)]);
    const at::Tensor rows = occurrence_rows.index_select(0, at::tensor(slots, at::kLong));
    const at::Tensor xy = pca_2d(sae->encode(rows));
    const auto a = xy.accessor<double, 2>();
    for (std::size_t k = 0; k < members.size(); ++k) {
      score.occurrences[members[k]].pca_x = a[static_cast<int64_t>(k)][0];
      score.occurrences[members[k]].pca_y = a[static_cast<int64_t>(k)][1];
    }
  }
}

}  // namespace

PsEvalScore score_picks(const ScoreContext& ctx, const std::vector<FeaturePick>& picks,
                        const sae::Sae* sae, const std::vector<double>* mse,
                        const std::vector<double>* l0, const at::Tensor& occurrence_rows,
                        const std::vector<int64_t>& occurrence_row) {
  PsEvalScore score;
  score.baseline = sae == nullptr;
  score.pairs_total = ctx.pairs.size();
  const std::vector<PairOutcome> outcomes = pair_outcomes(ctx, picks, score);
  score.pairs = score_pairs(outcomes, ctx.reference_compat ? PairSelection::reference_truncation
                                                           : PairSelection::all);
  if (sae) add_geometry(outcomes, *sae, score);
  if (mse && l0) add_reconstruction(ctx, outcomes, *mse, *l0, score);
  if (!ctx.occurrences.empty())
    add_senses(ctx, picks, sae, occurrence_rows, occurrence_row, score);
  return score;
}

}  // namespace saescope::polysemy
