#pragma once
// Typed access to a harvest's feature tables (features, windows, examples,
// intervals, logit_effects, vocab). The harvest writes through this; the GUI
// and `saescope-cli feature(s)` read through it. Layout in SCHEMA.md:
// tokens are packed little-endian uint16 (vocab <= 65536) or int32 per window,
// an example's activations are sparse (uint16 positions + float32 values).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/store/sqlite.h"

namespace saescope::store {

struct FeatureSummary {
  int64_t feature = 0;
  int64_t fire_count = 0;
  double density = 0;   // fraction of tokens on which the feature is non-zero
  double max_act = 0;
  double mean_act = 0;  // over the tokens where it fires
  std::string top_tokens;  // short text: the tokens it fires on most
};

struct Histogram {  // of non-zero activations, log-spaced bins
  std::vector<float> edges;     // counts.size() + 1
  std::vector<int64_t> counts;
};

enum class ExampleKind { Top = 0, Interval = 1 };

struct FeatureExample {
  ExampleKind kind = ExampleKind::Top;
  int rank = 0;           // 0 = strongest (top) / order within its interval
  int interval = -1;      // interval index for interval samples
  int64_t window = 0;     // the window's id in this harvest
  std::vector<int32_t> tokens;       // the whole window (filled by reads)
  std::vector<float> activations;    // dense, one per token (filled by reads)
  int max_pos = 0;
};

struct IntervalStat {
  int interval = 0;
  float lo = 0, hi = 0;
  float fraction = 0;  // of the feature's non-zero activations in [lo, hi)
};

struct LogitEffect {
  int sign = 1;  // +1 promoted, -1 suppressed
  int rank = 0;
  int32_t token_id = 0;
  float value = 0;
  std::string token;  // filled by reads from the vocab table
};

struct FeaturePage {
  FeatureSummary summary;
  Histogram histogram;
  std::vector<FeatureExample> top;
  std::vector<FeatureExample> interval_samples;
  std::vector<IntervalStat> intervals;
  std::vector<LogitEffect> logit_effects;
};

enum class FeatureSort { Id, Density, MaxActivation };

class FeatureStore {
 public:
  explicit FeatureStore(Database& db) : db_(db) {}

  // Writers: call inside a Transaction; a harvest commits in batches.
  void put_vocab(int64_t model_id, const std::vector<std::string>& tokens);
  void put_window(int64_t result_id, int64_t window, const std::vector<int32_t>& tokens);
  void put_feature(int64_t result_id, const FeatureSummary& s, const Histogram& h);
  void put_example(int64_t result_id, int64_t feature, const FeatureExample& e);
  void put_interval(int64_t result_id, int64_t feature, const IntervalStat& s);
  void put_logit_effect(int64_t result_id, int64_t feature, const LogitEffect& e);
  // Drops the per-feature rows (before rewriting a finished harvest's results).
  void clear_features(int64_t result_id);

  // Readers.
  std::vector<FeatureSummary> list(int64_t result_id, FeatureSort sort, bool descending,
                                   int64_t limit = -1);
  std::optional<FeaturePage> page(int64_t result_id, int64_t feature,
                                  std::optional<int64_t> model_id);
  std::vector<int32_t> window_tokens(int64_t result_id, int64_t window);
  std::string token_text(int64_t model_id, int32_t token_id);

 private:
  Statement& cached(const char* sql);  // prepared once per FeatureStore
  Database& db_;
  std::map<const char*, std::unique_ptr<Statement>> statements_;
};

// A harvest's features as CSV (csv_text.h), in the order given (the app's
// table as sorted and filtered): feature, fire_count, density,
// max_activation, mean_activation, top_tokens; numbers to 8 significant digits.
std::string features_csv(const std::vector<FeatureSummary>& features);

}  // namespace saescope::store
