#pragma once
// Typed access to an evaluation's per-word tables: PS-Eval confusion counts per
// target word, and sense-labelled occurrences with the feature each gets. The
// headline numbers of every evaluation are in results.metrics (JSON).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/store/sqlite.h"

namespace saescope::store {

struct WordConfusion {
  std::string word;
  int64_t tp = 0, fp = 0, tn = 0, fn = 0;
};

struct WordScore {
  std::string word;
  int64_t occurrences = 0;
  double purity = 0, nmi = 0;
};

struct SenseRow {
  std::string word, sense_id, gloss;
};

struct OccurrenceRow {
  int64_t occurrence = 0;
  std::string word;
  std::string sense_id;  // empty: unlabelled (its sense is predicted, never gold)
  std::string context;
  int64_t char_start = 0, char_end = 0;  // UTF-8 byte span of the word in context
  int64_t argmax_feature = -1;           // -1: all-zero code
  double activation = 0;
  double pca_x = 0, pca_y = 0;
};

class EvaluationStore {
 public:
  explicit EvaluationStore(Database& db) : db_(db) {}

  // Writers: call inside a Transaction.
  void put_word_confusion(int64_t result_id, const WordConfusion& w);
  void put_word_score(int64_t result_id, const WordScore& w);
  void put_sense(int64_t result_id, const SenseRow& s);
  void put_occurrence(int64_t result_id, const OccurrenceRow& o);

  std::vector<WordConfusion> word_confusions(int64_t result_id);
  std::optional<WordScore> word_score(int64_t result_id, const std::string& word);
  std::vector<std::string> words(int64_t result_id);  // words with occurrences, sorted
  std::vector<SenseRow> senses(int64_t result_id, const std::string& word);
  std::vector<OccurrenceRow> occurrences(int64_t result_id, const std::string& word);
  // Per word, its sense-labelled occurrences counted by sense (one query).
  std::map<std::string, std::vector<int64_t>> sense_counts(int64_t result_id);

 private:
  Database& db_;
};

}  // namespace saescope::store
