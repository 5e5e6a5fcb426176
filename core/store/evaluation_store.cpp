#include "core/store/evaluation_store.h"

namespace saescope::store {

void EvaluationStore::put_word_confusion(int64_t result_id, const WordConfusion& w) {
  Statement s = db_.prepare(
      "INSERT OR REPLACE INTO pseval_words (result_id, word, tp, fp, tn, fn) "
      "VALUES (?, ?, ?, ?, ?, ?)");
  s.bind(1, result_id).bind(2, w.word).bind(3, w.tp).bind(4, w.fp).bind(5, w.tn).bind(6, w.fn);
  s.run();
}

void EvaluationStore::put_word_score(int64_t result_id, const WordScore& w) {
  Statement s = db_.prepare(
      "INSERT OR REPLACE INTO word_scores (result_id, word, occurrences, purity, nmi) "
      "VALUES (?, ?, ?, ?, ?)");
  s.bind(1, result_id).bind(2, w.word).bind(3, w.occurrences).bind(4, w.purity).bind(5, w.nmi);
  s.run();
}

std::optional<WordScore> EvaluationStore::word_score(int64_t result_id, const std::string& word) {
  Statement s = db_.prepare(
      "SELECT word, occurrences, purity, nmi FROM word_scores WHERE result_id = ? AND word = ?");
  s.bind(1, result_id).bind(2, word);
  if (!s.step()) return std::nullopt;
  return WordScore{s.column_text(0), s.column_int(1), s.column_double(2), s.column_double(3)};
}

void EvaluationStore::put_sense(int64_t result_id, const SenseRow& r) {
  Statement s = db_.prepare(
      "INSERT OR REPLACE INTO senses (result_id, word, sense_id, gloss) VALUES (?, ?, ?, ?)");
  s.bind(1, result_id).bind(2, r.word).bind(3, r.sense_id).bind(4, r.gloss).run();
}

void EvaluationStore::put_occurrence(int64_t result_id, const OccurrenceRow& o) {
  Statement s = db_.prepare(
      "INSERT OR REPLACE INTO sense_occurrences (result_id, occurrence, word, sense_id, context, "
      "char_start, char_end, argmax_feature, activation, pca_x, pca_y) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  s.bind(1, result_id).bind(2, o.occurrence).bind(3, o.word).bind(4, o.sense_id);
  s.bind(5, o.context).bind(6, o.char_start).bind(7, o.char_end).bind(8, o.argmax_feature);
  s.bind(9, o.activation).bind(10, o.pca_x).bind(11, o.pca_y).run();
}

std::vector<WordConfusion> EvaluationStore::word_confusions(int64_t result_id) {
  Statement s = db_.prepare(
      "SELECT word, tp, fp, tn, fn FROM pseval_words WHERE result_id = ? ORDER BY word");
  s.bind(1, result_id);
  std::vector<WordConfusion> out;
  while (s.step())
    out.push_back({s.column_text(0), s.column_int(1), s.column_int(2), s.column_int(3),
                   s.column_int(4)});
  return out;
}

std::vector<std::string> EvaluationStore::words(int64_t result_id) {
  Statement s = db_.prepare(
      "SELECT DISTINCT word FROM sense_occurrences WHERE result_id = ? ORDER BY word");
  s.bind(1, result_id);
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.column_text(0));
  return out;
}

std::vector<SenseRow> EvaluationStore::senses(int64_t result_id, const std::string& word) {
  Statement s = db_.prepare(
      "SELECT word, sense_id, gloss FROM senses WHERE result_id = ? AND word = ? ORDER BY sense_id");
  s.bind(1, result_id).bind(2, word);
  std::vector<SenseRow> out;
  while (s.step()) out.push_back({s.column_text(0), s.column_text(1), s.column_text(2)});
  return out;
}

std::map<std::string, std::vector<int64_t>> EvaluationStore::sense_counts(int64_t result_id) {
  Statement s = db_.prepare(
      "SELECT word, COUNT(*) FROM sense_occurrences WHERE result_id = ? AND sense_id != '' "
      "GROUP BY word, sense_id ORDER BY word");
  s.bind(1, result_id);
  std::map<std::string, std::vector<int64_t>> out;
  while (s.step()) out[s.column_text(0)].push_back(s.column_int(1));
  return out;
}

std::vector<OccurrenceRow> EvaluationStore::occurrences(int64_t result_id,
                                                        const std::string& word) {
  Statement s = db_.prepare(
      "SELECT occurrence, word, sense_id, context, char_start, char_end, argmax_feature, "
      "activation, pca_x, pca_y FROM sense_occurrences WHERE result_id = ? AND word = ? "
      "ORDER BY occurrence");
  s.bind(1, result_id).bind(2, word);
  std::vector<OccurrenceRow> out;
  while (s.step())
    out.push_back({s.column_int(0), s.column_text(1), s.column_text(2), s.column_text(3),
                   s.column_int(4), s.column_int(5), s.column_int(6), s.column_double(7),
                   s.column_double(8), s.column_double(9)});
  return out;
}

}  // namespace saescope::store
