#pragma once
// Internal to feature_harvest.cpp: the SAEs of a harvest that are at the same
// point (pass, next window), run together so one forward pass serves them all.
#include <ATen/core/Tensor.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/analysis/activation_spill.h"
#include "core/analysis/code_spill.h"
#include "core/analysis/feature_harvest.h"
#include "core/analysis/feature_stats.h"

namespace saescope::analysis {

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
  HarvestGroup(store::Workspace& ws, const HarvestInputs& in, const HarvestOptions& options,
               WindowCount count, std::vector<LiveTarget*> members, jobs::ProgressSink& progress,
               HarvestReport& report);
  void run();

 private:
  void pass1();
  void pass2();
  void finish();  // pass 3 + rows (harvest_finish.cpp)
  void open_spills();
  // Pass 1's first batch: each SAE keeps its features when they take at
  // most twice the bytes of its hook's activations (L0 <= d_in), else the
  // activations, re-encoded in passes 2-3.
  void choose_spill_kinds(const std::vector<SparseCodes>& codes);
  void commit(int pass, int64_t next_window);
  bool commit_due();
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
  std::vector<int32_t> stored_tokens(int64_t w);

  store::Workspace& ws_;
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
  int64_t batches_since_commit_ = 0;
  std::chrono::steady_clock::time_point last_commit_;
};

}  // namespace saescope::analysis
