#include "core/polysemy/pseval_store.h"

#include <map>
#include <set>

#include "core/polysemy/sense_clustering.h"
#include "core/store/evaluation_store.h"

namespace saescope::polysemy {

nlohmann::json pseval_params(const PsEvalOptions& options, const std::string& split,
                             bool center_writing_weights, const std::string& dtype) {
  return {{"procedure", kPsEvalProcedureVersion},
          {"template", options.prompt_template},
          {"reference_compat", options.reference_compat},
          {"target_rule", target_rule_name(options.target)},
          {"baseline", options.baseline},
          {"reconstruction", options.reconstruction},
          {"split", split},
          {"center_writing_weights", center_writing_weights},
          {"dtype", dtype}};
}

int64_t write_pseval_result(store::Workspace& ws, const std::string& key, int64_t model_id,
                            int64_t sae_id, int64_t data_id, const nlohmann::json& params,
                            const nlohmann::json& metrics, const PsEvalScore& score,
                            const std::vector<SenseOccurrence>& occurrences) {
  if (auto stale = ws.find_result(key); stale && !stale->done) ws.delete_result(stale->id);
  const int64_t id = ws.begin_result(key, "pseval", model_id, sae_id, data_id, params);
  store::EvaluationStore es(ws.db());
  for (const auto& [word, c] : score.pairs.per_word)
    es.put_word_confusion(id, {word, static_cast<int64_t>(c.tp), static_cast<int64_t>(c.fp),
                               static_cast<int64_t>(c.tn), static_cast<int64_t>(c.fn)});
  if (score.has_senses) {
    // Per-word separation (purity, NMI of argmax feature against sense): what
    // the Senses view shows for a word and what a user can query in SQL.
    for (const WordClusterScore& w : score.senses.words)
      es.put_word_score(id, {w.word, static_cast<int64_t>(w.occurrences), w.purity, w.nmi});
    std::set<std::pair<std::string, std::string>> senses;
    for (std::size_t i = 0; i < occurrences.size(); ++i) {
      const OccurrenceResult& r = score.occurrences[i];
      if (!r.has_code) continue;  // never reached the model: nothing to show
      const SenseOccurrence& occ = occurrences[i];
      if (!occ.sense_id.empty() && senses.insert({occ.word, occ.sense_id}).second)
        es.put_sense(id, {occ.word, occ.sense_id, occ.gloss});
      store::OccurrenceRow row;
      row.occurrence = static_cast<int64_t>(i);
      row.word = occ.word;
      row.sense_id = occ.sense_id;
      row.context = occ.context;
      if (occ.span) {
        row.char_start = static_cast<int64_t>(occ.span->start);
        row.char_end = static_cast<int64_t>(occ.span->end);
      }
      row.argmax_feature = r.feature;
      row.activation = r.activation;
      row.pca_x = r.pca_x;
      row.pca_y = r.pca_y;
      es.put_occurrence(id, row);
    }
  }
  ws.finish_result(id, metrics);
  return id;
}

std::vector<PerWordRow> stored_per_word_rows(store::Workspace& ws, int64_t result_id,
                                             const std::string& sae, const std::string& hook) {
  store::EvaluationStore es(ws.db());
  std::map<std::string, PerWordRow> rows;
  for (const store::WordConfusion& w : es.word_confusions(result_id)) {
    PerWordRow& r = rows[w.word];
    r.has_pairs = true;
    r.confusion.tp = static_cast<std::size_t>(w.tp);
    r.confusion.fp = static_cast<std::size_t>(w.fp);
    r.confusion.tn = static_cast<std::size_t>(w.tn);
    r.confusion.fn = static_cast<std::size_t>(w.fn);
  }
  // One pass over the result's occurrences (per-word look-ups would each
  // scan the result: the planner serves them through the primary key).
  std::vector<OccurrenceOutcome> outcomes;
  store::Statement q = ws.db().prepare(
      "SELECT word, sense_id, argmax_feature FROM sense_occurrences WHERE result_id = ? "
      "AND sense_id <> ''");  // unlabelled (corpus) occurrences have no gold sense
  q.bind(1, result_id);
  while (q.step()) {
    OccurrenceOutcome out{q.column_text(0), q.column_text(1), std::nullopt, q.column_int(2)};
    if (out.feature < 0) out.skipped = SkipReason::all_zero;
    outcomes.push_back(std::move(out));
  }
  for (const WordClusterScore& w : score_sense_clustering(outcomes).words) {
    PerWordRow& r = rows[w.word];
    r.has_senses = true;
    r.senses = w;
  }
  std::vector<PerWordRow> out;
  for (auto& [word, r] : rows) {
    r.sae = sae;
    r.hook = hook;
    r.word = word;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace saescope::polysemy
