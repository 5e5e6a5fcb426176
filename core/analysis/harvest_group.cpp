#include "core/analysis/harvest_group.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "core/common/error.h"
#include "core/distributed/process_group.h"
#include "core/io/safetensors.h"
#include "core/common/progress.h"
#include "core/model/model_registry.h"
#include "core/sae/sae.h"
#include "core/store/feature_store.h"
#include "core/store/workspace.h"

namespace saescope::analysis {

using Clock = std::chrono::steady_clock;

int64_t WindowShard::local_count(int64_t next) const {
  int64_t n = 0;
  for (int64_t b = rank; b * batch < std::min(next, windows); b += world)
    n += std::min({batch, next - b * batch, windows - b * batch});
  return n;
}

namespace {
std::string rank_file(const std::string& path, const WindowShard& shard) {
  return shard.world == 1 ? path : path + ".rank-" + std::to_string(shard.rank);
}
}  // namespace

std::string state_file_path(const std::string& prefix, int64_t commit, const WindowShard& shard) {
  return rank_file(prefix + ".state-" + std::to_string(commit), shard) + ".safetensors";
}

std::string spill_file_path(const std::string& prefix, bool features, const std::string& hook,
                            const WindowShard& shard) {
  return rank_file(features ? prefix + ".features" : prefix + "." + hook + ".f32", shard);
}

HarvestGroup::HarvestGroup(store::Workspace* ws, std::string workspace_path, const HarvestInputs& in,
                           const HarvestOptions& options, WindowCount count,
                           std::vector<LiveTarget*> members, jobs::ProgressSink& progress,
                           HarvestReport& report)
    : ws_(ws), ws_path_(std::move(workspace_path)), in_(in), options_(options), count_(count),
      members_(std::move(members)), progress_(progress), report_(report), last_commit_(Clock::now()) {
  for (const LiveTarget* m : members_)
    if (std::find(hooks_.begin(), hooks_.end(), m->target.hook) == hooks_.end())
      hooks_.push_back(m->target.hook);
  shard_.batch = members_.front()->batch_windows;
  shard_.windows = count_.windows;
  if (in_.group) {
    shard_.rank = in_.group->rank();
    shard_.world = in_.group->size();
  }
}

std::string HarvestGroup::path_prefix(const LiveTarget& t) const {
  return harvest_file_prefix(ws_path_, t.target.key);
}

std::vector<int64_t> HarvestGroup::local_ids(const std::vector<int64_t>& windows) const {
  std::vector<int64_t> out;
  for (int64_t w : windows) out.push_back(shard_.local(w));
  return out;
}

void HarvestGroup::run() {
  const int pass = members_.front()->pass;
  auto timed = [&](int index, const std::function<void()>& fn) {
    const auto t0 = Clock::now();
    const double sent0 = in_.group ? in_.group->bytes_sent() : 0.0;
    fn();
    report_.pass_seconds[index] += std::chrono::duration<double>(Clock::now() - t0).count();
    if (in_.group) report_.sent_bytes[index] += in_.group->bytes_sent() - sent0;
  };
  if (pass <= 1) {
    open_spills();
    timed(0, [&] { pass1(); });
  }
  open_spills();
  report_.spilled = !spills_.empty() ||
                    std::any_of(codes_.begin(), codes_.end(), [](const auto& c) { return c != nullptr; });
  for (const auto& c : codes_)
    if (c) report_.spill_bytes += c->bytes();
  for (const auto& [hook, s] : spills_) report_.spill_bytes += s->bytes();
  if (pass <= 2) timed(1, [&] { pass2(); });
  timed(2, [&] { finish(); });
}

void HarvestGroup::open_spills() {
  spills_.clear();
  codes_.clear();
  codes_.resize(members_.size());
  if (!options_.spill) return;
  const LiveTarget& lead = *members_.front();
  const int64_t keep = shard_.local_count(lead.pass <= 1 ? lead.next_window : count_.windows);
  auto lost = [&](const std::string& file) {
    // Lost or short (a resumed run whose file went missing): every later
    // pass runs the model instead, which gives the same values.
    report_.notes.push_back("harvest file " + file +
                            " is missing or short: recomputing activations with the model");
    // Every member's files, also those not opened yet (and the one that failed).
    for (const LiveTarget* m : members_) {
      if (m->spill_kind == "features") CodeSpill(m->spill_file, in_.context).remove();
      if (m->spill_kind == "activations") ActivationSpill(m->spill_file, in_.context, m->width).remove();
    }
    spills_.clear();
    codes_.clear();
    codes_.resize(members_.size());
  };
  for (size_t i = 0; i < members_.size(); ++i) {
    LiveTarget& m = *members_[i];
    if (m.spill_kind == "features") {
      auto c = std::make_unique<CodeSpill>(m.spill_file, in_.context);
      if (!c->open(keep)) return lost(c->path());
      codes_[i] = std::move(c);
    } else if (m.spill_kind == "activations" && !spills_.count(m.target.hook)) {
      auto spill = std::make_unique<ActivationSpill>(m.spill_file, in_.context, m.width);
      if (!spill->open(keep)) return lost(spill->path());
      spills_[m.target.hook] = std::move(spill);
    }
  }
}

void HarvestGroup::choose_spill_kinds(const std::vector<SparseCodes>& codes) {
  // Non-zeros and rows of each member's first batch (of every rank's, so the ranks choose alike).
  at::Tensor seen = at::zeros({static_cast<int64_t>(members_.size()), 2}, at::kLong);
  for (size_t i = 0; i < codes.size(); ++i) {
    seen[static_cast<int64_t>(i)][0] = codes[i].nnz();
    seen[static_cast<int64_t>(i)][1] = codes[i].rows();
  }
  if (in_.group) in_.group->allreduce_sum(seen, "choosing what pass 1 keeps");
  for (size_t i = 0; i < members_.size(); ++i) {
    LiveTarget& m = *members_[i];
    if (!m.spill_kind.empty()) continue;
    bool features = options_.spill_kind == SpillKind::Features;
    const auto row = seen[static_cast<int64_t>(i)];
    const double l0 = double(row[0].item<int64_t>()) / double(std::max<int64_t>(1, row[1].item<int64_t>()));
    char why[96];
    if (options_.spill_kind == SpillKind::Auto) {
      features = l0 <= double(m.width);
      std::snprintf(why, sizeof why, "L0 %.1f in the first batch %s d_in %lld", l0, features ? "<=" : ">",
                    static_cast<long long>(m.width));
    } else {
      std::snprintf(why, sizeof why, "as asked");
    }
    m.spill_kind = features ? "features" : "activations";
    report_.notes.push_back("result " + std::to_string(m.target.result_id) + ": pass 1 " +
                            (features ? "keeps its features" : "keeps its hook's activations") +
                            " for passes 2-3 (" + why + ")");
    const std::string prefix = path_prefix(m);
    m.spill_file = spill_file_path(prefix, features, m.target.hook, shard_);
  }
  open_spills();
}

int64_t HarvestGroup::window_length(int64_t w) const {
  return w == count_.windows - 1 ? count_.last_length : in_.context;
}

std::vector<TokenWindow> HarvestGroup::read_windows(int64_t first, int64_t n) {
  // Sources seek by re-reading from the start: move forward by reading instead.
  const int64_t at = in_.windows->position();
  if (at > first) in_.windows->seek(first);
  else if (at < first) in_.windows->next(first - at);
  std::vector<TokenWindow> got = in_.windows->next(n);
  const int64_t expect = std::min(n, count_.windows - first);
  for (size_t i = 0; i < got.size(); ++i)
    if (got[i].index != first + static_cast<int64_t>(i))
      throw InternalError("harvest: window source skipped from " + std::to_string(first + static_cast<int64_t>(i)) +
                          " to " + std::to_string(got[i].index));
  if (static_cast<int64_t>(got.size()) != expect)
    throw InternalError("harvest: the corpus gave " + std::to_string(first + static_cast<int64_t>(got.size())) +
                        " windows, " + std::to_string(count_.windows) + " were counted");
  return got;
}

std::vector<int32_t> HarvestGroup::tokens_of(int64_t w) {
  if (const auto hit = window_cache_.find(w); hit != window_cache_.end()) return hit->second;
  if (!ws_) return read_windows(w, 1).front().tokens;
  store::FeatureStore fs(ws_->db());
  std::vector<int32_t> t = fs.window_tokens(members_.front()->target.result_id, w);
  if (t.empty())
    throw InternalError(ws_->path() + ": harvest window " + std::to_string(w) + " is not stored");
  return t;
}

std::map<std::string, at::Tensor> HarvestGroup::run_model(
    const std::vector<std::vector<int32_t>>& tokens) {
  std::vector<std::vector<int64_t>> seqs;
  for (const auto& t : tokens) seqs.emplace_back(t.begin(), t.end());
  const model::TokenBatch batch =
      model::make_token_batch(seqs, in_.model->info(), /*prepend_bos=*/false);
  model::RunResult r = in_.model->run(batch, {hooks_, {}});
  std::map<std::string, at::Tensor> out;
  for (const std::string& h : hooks_) {
    at::Tensor v = r.hooks.at(h);
    if (v.dim() == 4) v = v.reshape({v.size(0), v.size(1), -1});  // hook_z: heads flattened
    out[h] = v;
  }
  return out;
}

SparseCodes HarvestGroup::codes_of(size_t i, const std::vector<int64_t>& windows,
                                   std::map<std::string, at::Tensor>& values) {
  if (i < codes_.size() && codes_[i]) return codes_[i]->read(local_ids(windows));
  if (values.empty()) values = hook_values(windows);
  const LiveTarget& m = *members_[i];
  return SparseCodes::from_dense(features(m, values.at(m.target.hook), windows));
}

std::map<std::string, at::Tensor> HarvestGroup::hook_values(const std::vector<int64_t>& windows) {
  if (spills_.empty()) {
    std::vector<std::vector<int32_t>> tokens;
    for (int64_t w : windows) tokens.push_back(tokens_of(w));
    return run_model(tokens);
  }
  const std::vector<int64_t> local = local_ids(windows);
  const bool consecutive = local.back() - local.front() + 1 == static_cast<int64_t>(local.size());
  std::map<std::string, at::Tensor> out;
  for (auto& [hook, spill] : spills_) {
    if (consecutive) {
      out[hook] = spill->read(local.front(), static_cast<int64_t>(local.size()));
    } else {
      std::vector<at::Tensor> parts;
      for (int64_t w : local) parts.push_back(spill->read(w, 1));
      out[hook] = at::cat(parts);
    }
  }
  return out;
}

at::Tensor HarvestGroup::features(const LiveTarget& t, const at::Tensor& values,
                                  const std::vector<int64_t>& windows) const {
  const int64_t n = values.size(0), T = values.size(1);
  const at::Tensor x = values.reshape({n * T, t.width}).to(t.target.sae->device());
  at::Tensor f = t.target.sae->encode(x).to(at::kCPU).view({n, T, -1}).contiguous();
  f.select(1, 0).zero_();  // BOS is fed to the model, never counted
  for (int64_t b = 0; b < n; ++b) {
    const int64_t len = window_length(windows[static_cast<size_t>(b)]);
    if (len < T) f[b].narrow(0, len, T - len).zero_();
  }
  return f;
}

void HarvestGroup::report(int pass, double done, double total, const std::string& detail) {
  // One count over the whole run, in tokens' worth of work, so rate and ETA
  // stay meaningful from pass to pass: T per pass 1 and 2, context per pass-3 window.
  jobs::Progress p;
  p.stage = "harvest pass " + std::to_string(pass) + "/3";
  p.done = done;
  p.total = total;
  p.unit = "tokens";
  p.detail = std::to_string(members_.size()) + " SAE" + (members_.size() == 1 ? "" : "s") +
             (detail.empty() ? "" : ", " + detail);
  progress_.report(p);
}

bool HarvestGroup::commit_due() {
  if (options_.commit_every > 0) return batches_since_commit_ >= options_.commit_every;
  return std::chrono::duration<double>(Clock::now() - last_commit_).count() >= options_.commit_seconds;
}

void HarvestGroup::after_batch(int pass, int64_t next, bool cancelled, bool last) {
  ++batches_since_commit_;
  bool due = commit_due(), stop = cancelled;
  if (in_.group) {
    at::Tensor votes = at::tensor(std::vector<int64_t>{in_.group->is_root() && due, cancelled}, at::kLong);
    in_.group->allreduce_sum(votes, "harvest pass " + std::to_string(pass));
    due = votes[0].item<int64_t>() > 0;
    stop = votes[1].item<int64_t>() > 0;
  }
  // The pass's end commits anyway (with its merged accumulators).
  if (stop || (due && !last)) commit(pass, next);
  if (stop) throw Cancelled();
}

void HarvestGroup::commit(int pass, int64_t next_window) {
  std::vector<std::string> old_files;
  for (LiveTarget* m : members_) {
    ++m->commit_seq;
    const std::string file = state_file_path(path_prefix(*m), m->commit_seq, shard_);
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (auto& [name, t] : m->stats.state()) tensors.emplace_back(name, t);
    io::write_safetensors(file, tensors,
                          {{"result_key", m->target.key},
                           {"pass", std::to_string(pass)},
                           {"next_window", std::to_string(next_window)}});
    old_files.push_back(m->state_file);
    m->state_file = file;
    m->pass = pass;
    m->next_window = next_window;
  }
  for (auto& [hook, spill] : spills_) spill->sync();
  for (auto& c : codes_)
    if (c) c->sync();
  // Every rank's state is on disk before rank 0's row names it; the old
  // files go only once that row is committed.
  if (in_.group) in_.group->barrier("harvest commit " + std::to_string(members_.front()->commit_seq));
  if (ws_) {
    store::Transaction tx(ws_->db());
    store::FeatureStore fs(ws_->db());
    for (LiveTarget* m : members_) {
      for (const auto& [w, tokens] : pending_windows_) fs.put_window(m->target.result_id, w, tokens);
      ws_->set_progress(m->target.result_id,
                        {{"pass", pass},
                         {"next_window", next_window},
                         {"windows", count_.windows},
                         {"tokens", count_.tokens},
                         {"context", in_.context},
                         {"batch_windows", m->batch_windows},
                         {"commit", m->commit_seq},
                         {"world", shard_.world},
                         {"state_file", m->state_file},
                         {"spill_file", m->spill_file},
                         {"spill_kind", m->spill_kind}});
    }
    tx.commit();
  }
  if (in_.group) in_.group->barrier("harvest commit " + std::to_string(members_.front()->commit_seq) + " recorded");
  std::error_code ec;
  for (const std::string& f : old_files)
    if (!f.empty()) std::filesystem::remove(f, ec);
  pending_windows_.clear();
  batches_since_commit_ = 0;
  last_commit_ = Clock::now();
}

void HarvestGroup::merge_ranks(int pass) {
  if (!in_.group) return;
  for (LiveTarget* m : members_) {
    std::vector<std::map<std::string, at::Tensor>> gathered(static_cast<size_t>(shard_.world));
    for (const auto& [name, t] : m->stats.state()) {
      const std::vector<at::Tensor> all = in_.group->allgather(t, "merging harvest pass " + std::to_string(pass));
      for (size_t r = 0; r < all.size(); ++r) gathered[r][name] = all[r];
    }
    std::vector<FeatureStats> ranks(gathered.size(), FeatureStats(m->stats.shape()));
    for (size_t r = 0; r < gathered.size(); ++r) ranks[r].load_state(gathered[r]);
    if (pass == 1) m->stats.merge_pass1(ranks);
    else m->stats.merge_pass2(ranks);
  }
}

void HarvestGroup::pass1() {
  const int64_t B = shard_.batch;
  for (int64_t first = members_.front()->next_window; first < count_.windows; first += shard_.round()) {
    const int64_t mine = first + shard_.rank * B;
    std::vector<TokenWindow> batch;
    if (mine < count_.windows) batch = read_windows(mine, B);
    std::vector<SparseCodes> codes;
    std::map<std::string, at::Tensor> values;
    std::vector<int64_t> idx;
    if (!batch.empty()) {
      std::vector<std::vector<int32_t>> tokens;
      for (const TokenWindow& w : batch) {
        tokens.push_back(w.tokens);
        idx.push_back(w.index);
      }
      values = run_model(tokens);
      for (LiveTarget* m : members_)
        codes.push_back(SparseCodes::from_dense(features(*m, values.at(m->target.hook), idx)));
    }
    if (options_.spill && std::any_of(members_.begin(), members_.end(),
                                      [](const LiveTarget* m) { return m->spill_kind.empty(); }))
      choose_spill_kinds(codes);
    if (!batch.empty()) {
      for (auto& [hook, spill] : spills_) spill->write(shard_.local(mine), values.at(hook));
      for (size_t i = 0; i < members_.size(); ++i) {
        if (codes_[i]) codes_[i]->write(shard_.local(mine), codes[i]);
        members_[i]->stats.add_pass1(codes[i], idx);
      }
      if (ws_)
        for (const TokenWindow& w : batch) pending_windows_.emplace_back(w.index, w.tokens);
    }
    const int64_t next = std::min(first + shard_.round(), count_.windows);
    bool cancelled = false;
    try {
      report(1, static_cast<double>(std::min(next * in_.context, count_.tokens)),
             3.0 * static_cast<double>(count_.tokens), "");
    } catch (const Cancelled&) {
      cancelled = true;
    }
    after_batch(1, next, cancelled, next == count_.windows);
  }
  merge_ranks(1);
  for (LiveTarget* m : members_) m->stats.begin_pass2();
  commit(2, 0);
}

void HarvestGroup::pass2() {
  const int64_t B = shard_.batch;
  for (int64_t first = members_.front()->next_window; first < count_.windows; first += shard_.round()) {
    const int64_t mine = first + shard_.rank * B;
    if (mine < count_.windows) {
      std::vector<int64_t> idx;
      for (int64_t w = mine; w < std::min(mine + B, count_.windows); ++w) idx.push_back(w);
      std::map<std::string, at::Tensor> values;  // read or run only for members without features
      for (size_t i = 0; i < members_.size(); ++i) members_[i]->stats.add_pass2(codes_of(i, idx, values), idx);
    }
    const int64_t next = std::min(first + shard_.round(), count_.windows);
    bool cancelled = false;
    try {
      report(2, static_cast<double>(count_.tokens + std::min(next * in_.context, count_.tokens)),
             3.0 * static_cast<double>(count_.tokens), "");
    } catch (const Cancelled&) {
      cancelled = true;
    }
    after_batch(2, next, cancelled, next == count_.windows);
  }
  merge_ranks(2);
  commit(3, 0);
}

}  // namespace saescope::analysis
