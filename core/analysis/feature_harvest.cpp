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
#include "core/io/safetensors.h"
#include "core/sae/sae.h"
#include "core/store/workspace.h"

namespace saescope::analysis {
namespace {

// Restores a target's accumulators from its last commit; false (and a note)
// when there is none or it does not fit this run.
bool resume(LiveTarget& t, const nlohmann::json& p, const WindowCount& count, int64_t context,
            std::vector<std::string>& notes) {
  if (!p.is_object() || !p.contains("pass")) return false;
  const std::string who = "result " + std::to_string(t.target.result_id);
  try {
    if (p.at("windows").get<int64_t>() != count.windows || p.at("context").get<int64_t>() != context)
      throw InternalError("it was cut into other windows");
    const std::string state_file = p.at("state_file").get<std::string>();
    auto file = io::SafetensorsFile::open(state_file);
    std::map<std::string, at::Tensor> tensors;
    for (const auto& info : file->tensors()) tensors[info.name] = file->tensor(info.name);
    t.stats.load_state(tensors);
    t.pass = p.at("pass").get<int>();
    t.next_window = p.at("next_window").get<int64_t>();
    t.batch_windows = p.at("batch_windows").get<int64_t>();
    t.commit_seq = p.at("commit").get<int64_t>();
    t.state_file = state_file;
    t.spill_file = p.value("spill_file", t.spill_file);
    // Runs from before feature files kept activations; "" is a run without a spill.
    t.spill_kind = p.value("spill_kind", std::string("activations"));
    notes.push_back(who + ": resumed in pass " + std::to_string(t.pass) + " at window " +
                    std::to_string(t.next_window));
    return true;
  } catch (const std::exception& e) {
    t.stats = FeatureStats(t.stats.shape());
    notes.push_back(who + ": its saved state is unusable (" + e.what() + "); starting over");
    return false;
  }
}

}  // namespace

std::string harvest_file_prefix(const std::string& workspace_path, const std::string& key) {
  return workspace_path + ".harvest-" + key.substr(0, 16);
}

HarvestReport harvest_features(store::Workspace& ws, const HarvestInputs& in,
                               const std::vector<HarvestTarget>& targets,
                               const HarvestOptions& options, jobs::ProgressSink& progress) {
  c10::InferenceMode inference;
  KeepLargeAllocations keep_large;
  if (options.top_k < 1 || options.batch_windows < 1 || options.intervals < 1 ||
      options.interval_samples < 1 || options.histogram_bins < 1)
    throw InputError("harvest: top-k, batch, intervals, samples and bins must be positive");
  HarvestReport report;
  const WindowCount count = in.windows->count();
  report.windows = count.windows;
  report.tokens = count.tokens;
  report.counted_tokens = count.tokens - count.windows;

  std::vector<std::unique_ptr<LiveTarget>> live;
  for (const HarvestTarget& t : targets) {
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
    l->spill_file = harvest_file_prefix(ws.path(), t.key) + "." + t.hook + ".f32";
    const auto rec = ws.result(t.result_id);
    if (!rec) throw InternalError(ws.path() + ": no result " + std::to_string(t.result_id));
    if (rec->done) throw InternalError(ws.path() + ": result " + std::to_string(t.result_id) + " is already complete");
    resume(*l, rec->progress, count, in.context, report.notes);
    live.push_back(std::move(l));
  }

  // SAEs at the same point run together; others one group after another.
  std::map<std::tuple<int, int64_t, int64_t>, std::vector<LiveTarget*>> groups;
  for (auto& l : live) groups[{l->pass, l->next_window, l->batch_windows}].push_back(l.get());
  for (auto& [point, members] : groups)
    HarvestGroup(ws, in, options, count, members, progress, report).run();
  report.peak_rss_bytes = peak_rss_bytes();
  return report;
}

}  // namespace saescope::analysis
