#pragma once
// Internal to feature_harvest.cpp: the SAEs of a harvest that are at the same
// point (pass, next window), run together so one forward pass serves them all.
#include <ATen/core/Tensor.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/analysis/activation_spill.h"
#include "core/analysis/code_spill.h"
#include "core/analysis/feature_harvest.h"
#include "core/analysis/feature_stats.h"
#include "core/analysis/logit_effects.h"

namespace saescope::store {
class FeatureStore;
class Transaction;
}

namespace saescope::analysis {

// Which windows this rank harvests: batch b (windows b·B .. b·B+B-1) is rank
// b mod world's. A rank's spill files hold only its windows, numbered locally
// in order (local(w)), so they stay append-only.
struct WindowShard {
  int rank = 0, world = 1;
  int64_t batch = 8, windows = 0;
  int64_t round() const { return batch * world; }  // windows per round of batches
  bool owns(int64_t w) const { return (w / batch) % world == rank; }
  int64_t local(int64_t w) const { return (w / batch / world) * batch + w % batch; }
  // How many of this rank's windows lie below window `next`.
  int64_t local_count(int64_t next) const;
};

// Files of a target beside the workspace (`prefix`: harvest_file_prefix):
// one process keeps the names of single runs; ranks add ".rank-R".
std::string state_file_path(const std::string& prefix, int64_t commit, const WindowShard& shard);
std::string spill_file_path(const std::string& prefix, bool features, const std::string& hook,
                            const WindowShard& shard);

struct ExampleRef;
class ExampleBuffer;

struct LiveTarget {
  HarvestTarget target;
  FeatureStats stats;
  int pass = 1;              // 1, 2, or 3 (examples and rows)
  int64_t next_window = 0;
  int64_t batch_windows = 8;
  int64_t commit_seq = 0;
  std::string state_file;    // of the last commit ("" before the first)
  std::string spill_file;    // its features (CodeSpill) or its hook's activations
  std::string spill_kind;    // "features", "activations", or "" until pass 1's first batch
  int64_t width = 0;         // the SAE's d_in
};

class HarvestGroup {
 public:
  // `ws` is null on ranks other than 0; their files go beside `workspace_path`.
  HarvestGroup(store::Workspace* ws, std::string workspace_path, const HarvestInputs& in,
               const HarvestOptions& options, WindowCount count, std::vector<LiveTarget*> members,
               jobs::ProgressSink& progress, HarvestReport& report);
  void run();

 private:
  void pass1();
  void pass2();
  void finish();  // pass 3 + rows (harvest_finish.cpp)
  std::optional<LogitEffectTable> logit_table(size_t member);
  // Rank 0: every feature's rows, the examples left in `buffers`, the vocabulary; commits `tx`.
  void write_rows(std::vector<ExampleBuffer>& buffers, const std::vector<std::vector<int32_t>>& top_token,
                  const std::vector<std::optional<LogitEffectTable>>& logits, store::FeatureStore& fs,
                  store::Transaction& tx);
  void remove_files();  // spills and state files, once the rows are in
  void open_spills();
  // Pass 1's first batch: each SAE keeps its features when they take at
  // most twice the bytes of its hook's activations (L0 <= d_in), else the
  // activations, re-encoded in passes 2-3.
  void choose_spill_kinds(const std::vector<SparseCodes>& codes);
  void commit(int pass, int64_t next_window);
  bool commit_due();
  // After a batch (a round of them, distributed): commits when due or
  // cancelled, then rethrows Cancelled. Ranks agree: rank 0's clock decides,
  // any rank's cancel stops all.
  void after_batch(int pass, int64_t next, bool cancelled, bool last);
  // End of pass 1 or 2 on several ranks: every rank's accumulators merged.
  void merge_ranks(int pass);
  std::string path_prefix(const LiveTarget& t) const;  // harvest_file_prefix of its key
  void report(int pass, double done, double total, const std::string& detail);

  // Hook values of these windows, [n, T, width] per hook, from the spill or the model.
  std::map<std::string, at::Tensor> hook_values(const std::vector<int64_t>& windows);
  std::map<std::string, at::Tensor> run_model(const std::vector<std::vector<int32_t>>& tokens);
  // The target's features [n, T, d_sae] on the CPU, zero at BOS and padding.
  at::Tensor features(const LiveTarget& t, const at::Tensor& values,
                      const std::vector<int64_t>& windows) const;
  // Member i's features for these windows: from its feature file, or
  // encoded from `values` (filled once per batch from hook_values).
  SparseCodes codes_of(size_t i, const std::vector<int64_t>& windows,
                       std::map<std::string, at::Tensor>& values);
  int64_t window_length(int64_t w) const;
  // A window's tokens: from the workspace (rank 0 stored its windows in
  // pass 1), or on other ranks from the corpus (asked in ascending order).
  std::vector<int32_t> tokens_of(int64_t w);
  std::vector<TokenWindow> read_windows(int64_t first, int64_t n);
  std::vector<int64_t> local_ids(const std::vector<int64_t>& windows) const;

  store::Workspace* ws_;
  std::string ws_path_;
  WindowShard shard_;
  const HarvestInputs& in_;
  const HarvestOptions& options_;
  WindowCount count_;
  std::vector<LiveTarget*> members_;
  jobs::ProgressSink& progress_;
  HarvestReport& report_;
  std::vector<std::string> hooks_;
  std::map<std::string, std::unique_ptr<ActivationSpill>> spills_;  // by hook, for "activations" members
  std::vector<std::unique_ptr<CodeSpill>> codes_;  // by member; null: not "features" or no spill
  std::vector<std::pair<int64_t, std::vector<int32_t>>> pending_windows_;  // to store at commit
  std::map<int64_t, std::vector<int32_t>> window_cache_;  // pass 3: the round's windows
  int64_t batches_since_commit_ = 0;
  std::chrono::steady_clock::time_point last_commit_;
};

}  // namespace saescope::analysis
