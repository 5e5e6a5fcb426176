#include "core/analysis/feature_harvest.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <map>
#include <memory>
#include <tuple>

#include "core/analysis/allocator_tuning.h"
#include "core/analysis/harvest_group.h"
#include "core/analysis/process_memory.h"
#include "core/common/error.h"
#include "core/distributed/process_group.h"
#include "core/io/safetensors.h"
#include "core/sae/sae.h"
#include "core/store/workspace.h"

namespace saescope::analysis {
namespace {

// Restores a target's accumulators (this rank's) from its last commit; false
// (and a note) when there is none or it does not fit this run.
bool resume(LiveTarget& t, const nlohmann::json& p, const WindowCount& count, int64_t context,
            const WindowShard& shard, const std::string& prefix, std::vector<std::string>& notes) {
  if (!p.is_object() || !p.contains("pass")) return false;
  const std::string who = "result " + std::to_string(t.target.result_id);
  try {
    if (p.at("windows").get<int64_t>() != count.windows || p.at("context").get<int64_t>() != context)
      throw InternalError("it was cut into other windows");
    const int world = p.value("world", 1);
    if (world != shard.world)
      throw InternalError("it ran on " + std::to_string(world) + " rank(s), this run on " + std::to_string(shard.world));
    const int64_t seq = p.at("commit").get<int64_t>();
    const std::string state_file = world == 1 ? p.at("state_file").get<std::string>()
                                              : state_file_path(prefix, seq, shard);
    auto file = io::SafetensorsFile::open(state_file);
    std::map<std::string, at::Tensor> tensors;
    for (const auto& info : file->tensors()) tensors[info.name] = file->tensor(info.name);
    t.stats.load_state(tensors);
    t.pass = p.at("pass").get<int>();
    t.next_window = p.at("next_window").get<int64_t>();
    t.batch_windows = p.at("batch_windows").get<int64_t>();
    t.commit_seq = seq;
    t.state_file = state_file;
    // Runs from before feature files kept activations; "" is a run without a spill.
    t.spill_kind = p.value("spill_kind", std::string("activations"));
    if (world == 1) t.spill_file = p.value("spill_file", t.spill_file);
    else if (!t.spill_kind.empty())
      t.spill_file = spill_file_path(prefix, t.spill_kind == "features", t.target.hook, shard);
    notes.push_back(who + ": resumed in pass " + std::to_string(t.pass) + " at window " +
                    std::to_string(t.next_window));
    return true;
  } catch (const std::exception& e) {
    t.stats = FeatureStats(t.stats.shape());
    notes.push_back(who + ": its saved state is unusable (" + e.what() + "); starting over");
    return false;
  }
}

// Distributed: every rank resumes from rank 0's progress rows, and a target
// restarts on all ranks when any rank cannot resume it.
std::vector<nlohmann::json> shared_progress(dist::ProcessGroup* group, std::vector<nlohmann::json> rows) {
  if (!group) return rows;
  const std::string mine = group->is_root() ? nlohmann::json(rows).dump() : std::string();
  const nlohmann::json root = nlohmann::json::parse(group->allgather_bytes(mine, "reading the harvest's progress")[0]);
  return root.get<std::vector<nlohmann::json>>();
}

}  // namespace

std::string harvest_file_prefix(const std::string& workspace_path, const std::string& key) {
  return workspace_path + ".harvest-" + key.substr(0, 16);
}

HarvestReport harvest_features(store::Workspace& ws, const HarvestInputs& in,
                               const std::vector<HarvestTarget>& targets,
                               const HarvestOptions& options, jobs::ProgressSink& progress) {
  return harvest_features(&ws, ws.path(), in, targets, options, progress);
}

HarvestReport harvest_features(store::Workspace* ws, const std::string& workspace_path, const HarvestInputs& in,
                               const std::vector<HarvestTarget>& targets,
                               const HarvestOptions& options, jobs::ProgressSink& progress) {
  c10::InferenceMode inference;
  KeepLargeAllocations keep_large;
  if (options.top_k < 1 || options.batch_windows < 1 || options.intervals < 1 ||
      options.interval_samples < 1 || options.histogram_bins < 1)
    throw InputError("harvest: top-k, batch, intervals, samples and bins must be positive");
  if ((ws != nullptr) != (!in.group || in.group->is_root()))
    throw InternalError("harvest: rank 0 alone (or the one process) holds the workspace");
  HarvestReport report;
  const WindowCount count = in.windows->count();
  report.windows = count.windows;
  report.tokens = count.tokens;
  report.counted_tokens = count.tokens - count.windows;

  std::vector<nlohmann::json> rows(targets.size());
  for (size_t i = 0; i < targets.size() && ws; ++i) {
    const auto rec = ws->result(targets[i].result_id);
    if (!rec) throw InternalError(ws->path() + ": no result " + std::to_string(targets[i].result_id));
    if (rec->done) throw InternalError(ws->path() + ": result " + std::to_string(targets[i].result_id) + " is already complete");
    rows[i] = rec->progress;
  }
  rows = shared_progress(in.group, rows);
  std::vector<std::unique_ptr<LiveTarget>> live;
  at::Tensor failed = at::zeros({static_cast<int64_t>(targets.size())}, at::kLong);
  for (size_t i = 0; i < targets.size(); ++i) {
    const HarvestTarget& t = targets[i];
    auto l = std::make_unique<LiveTarget>();
    l->target = t;
    l->width = t.sae->d_in();
    StatsShape shape;
    shape.d_sae = t.sae->d_sae();
    shape.top_k = options.top_k;
    shape.context = in.context;
    shape.intervals = options.intervals;
    shape.interval_samples = options.interval_samples;
    shape.histogram_bins = options.histogram_bins;
    shape.histogram_decades = options.histogram_decades;
    shape.seed = options.seed;
    l->stats = FeatureStats(shape);
    l->batch_windows = options.batch_windows;
    const std::string prefix = harvest_file_prefix(workspace_path, t.key);
    WindowShard shard;
    if (in.group) {
      shard.rank = in.group->rank();
      shard.world = in.group->size();
    }
    l->spill_file = spill_file_path(prefix, /*features=*/false, t.hook, shard);
    const bool resumed = resume(*l, rows[i], count, in.context, shard, prefix, report.notes);
    if (!resumed && rows[i].is_object() && rows[i].contains("pass")) failed[static_cast<int64_t>(i)] = 1;
    live.push_back(std::move(l));
  }
  if (in.group) {
    in.group->allreduce_sum(failed, "resuming the harvest");
    for (size_t i = 0; i < live.size(); ++i) {
      LiveTarget& l = *live[i];
      if (failed[static_cast<int64_t>(i)].item<int64_t>() == 0) continue;
      const std::string spill_file = l.spill_file;
      l = LiveTarget{l.target, FeatureStats(l.stats.shape())};
      l.width = l.target.sae->d_in();
      l.batch_windows = options.batch_windows;
      l.spill_file = spill_file;
      report.notes.push_back("result " + std::to_string(l.target.result_id) +
                             ": another rank could not resume it; starting over");
    }
  }

  // SAEs at the same point run together; others one group after another.
  std::map<std::tuple<int, int64_t, int64_t>, std::vector<LiveTarget*>> groups;
  for (auto& l : live) groups[{l->pass, l->next_window, l->batch_windows}].push_back(l.get());
  for (auto& [point, members] : groups)
    HarvestGroup(ws, workspace_path, in, options, count, members, progress, report).run();
  report.peak_rss_bytes = peak_rss_bytes();
  return report;
}

}  // namespace saescope::analysis
