// Pass 3 of a harvest and its rows: the examples' per-token activations (read
// from the feature files, or the SAEs run again over just the windows that
// hold an example), then every feature's rows, written with finish_result in
// one transaction.
#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <tuple>

#include "core/analysis/harvest_group.h"
#include "core/analysis/logit_effects.h"
#include "core/analysis/process_memory.h"
#include "core/common/progress.h"
#include "core/distributed/process_group.h"
#include "core/model/model_registry.h"
#include "core/model/hook_point.h"
#include "core/sae/sae.h"
#include "core/store/feature_store.h"
#include "core/store/workspace.h"
#include "core/tokenizer/bpe_tokenizer.h"

namespace saescope::analysis {
namespace {

using Clock = std::chrono::steady_clock;

// Hooks whose value is (a part of) the residual stream, so a decoder row is a
// direction the unembedding reads.
bool writes_residual(const std::string& hook, const model::LanguageModel& model, int64_t width) {
  return width == model.info().d_model && model.hook_schema().resolve(hook).residual;
}

}  // namespace

struct ExampleRef {
  size_t member = 0;
  int64_t feature = 0;
  store::ExampleKind kind = store::ExampleKind::Top;
  int rank = 0;
  int interval = -1;
  int64_t pos = 0;
};

namespace {

std::string token_text(const tokenizer::BpeTokenizer* tok, int32_t id) {
  if (tok && id >= 0 && id < tok->vocab_size()) return tok->token_string(id);
  return "#" + std::to_string(id);
}

// The 3 tokens most often at the top examples' strongest position (ties: the
// better-ranked first), e.g. " bank · river · loan".
std::string top_tokens_text(const int32_t* ids, int64_t k, const tokenizer::BpeTokenizer* tok) {
  std::vector<std::pair<int32_t, int>> counts;  // in order of first appearance
  for (int64_t r = 0; r < k; ++r) {
    if (ids[r] < 0) continue;
    auto it = std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == ids[r]; });
    if (it == counts.end()) counts.emplace_back(ids[r], 1);
    else ++it->second;
  }
  std::stable_sort(counts.begin(), counts.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string out;
  for (size_t i = 0; i < counts.size() && i < 3; ++i) out += (i ? " · " : "") + token_text(tok, counts[i].first);
  return out;
}

}  // namespace

// Examples arrive in window order; SQLite inserts them far faster in key
// order (feature, kind, interval, rank), so they wait here, sparse, and go in
// sorted, in chunks of at most ~256 MB.
class ExampleBuffer {
 public:
  void add(const ExampleRef& r, int64_t window, const float* acts, int64_t len) {
    rows_.push_back({r.feature, static_cast<int>(r.kind), r.interval, r.rank, window,
                     static_cast<int>(r.pos), static_cast<int>(len), values_.size()});
    for (int64_t t = 0; t < len; ++t)
      if (acts[t] != 0.0f) {
        positions_.push_back(static_cast<uint16_t>(t));
        values_.push_back(acts[t]);
      }
    rows_.back().end = values_.size();
  }
  bool full() const { return rows_.size() * sizeof(Row) + values_.size() * 6 > (size_t(256) << 20); }
  size_t size() const { return rows_.size(); }
  void flush(store::FeatureStore& fs, int64_t result_id) {
    std::sort(rows_.begin(), rows_.end(), [](const Row& a, const Row& b) {
      return std::tie(a.feature, a.kind, a.interval, a.rank) < std::tie(b.feature, b.kind, b.interval, b.rank);
    });
    store::FeatureExample e;
    for (const Row& r : rows_) {
      e.kind = static_cast<store::ExampleKind>(r.kind);
      e.interval = r.interval;
      e.rank = r.rank;
      e.window = r.window;
      e.max_pos = r.max_pos;
      e.activations.assign(static_cast<size_t>(r.len), 0.0f);
      for (size_t i = r.begin; i < r.end; ++i) e.activations[positions_[i]] = values_[i];
      fs.put_example(result_id, r.feature, e);
    }
    rows_.clear();
    positions_.clear();
    values_.clear();
  }

 private:
  struct Row {
    int64_t feature;
    int kind, interval, rank;
    int64_t window;
    int max_pos, len;
    size_t begin, end = 0;
  };
  std::vector<Row> rows_;
  std::vector<uint16_t> positions_;
  std::vector<float> values_;
};

namespace {

// Pass 3's rows of one rank's windows on their way to rank 0: each example
// (its reference, window, top token and non-zero activations) and each
// window's tokens, as bytes for ProcessGroup::allgather_bytes.
class ExampleWire {
 public:
  void add(const ExampleRef& r, int64_t window, const float* acts, int64_t len, int32_t top_token) {
    int64_t nnz = 0;
    for (int64_t t = 0; t < len; ++t) nnz += acts[t] != 0.0f;
    for (int64_t v : {int64_t(1), int64_t(r.member), r.feature, int64_t(r.kind), int64_t(r.rank),
                      int64_t(r.interval), r.pos, window, len, int64_t(top_token), nnz})
      put(v);
    for (int64_t t = 0; t < len; ++t)
      if (acts[t] != 0.0f) {
        put(t);
        put(acts[t]);
      }
  }
  void add_window(int64_t window, const std::vector<int32_t>& tokens) {
    for (int64_t v : {int64_t(2), window, static_cast<int64_t>(tokens.size())}) put(v);
    for (int32_t t : tokens) put(t);
  }
  const std::string& bytes() const { return bytes_; }

  // Calls on_example(ref, window, acts, len, top_token) and on_window(window, tokens) in order.
  template <class OnExample, class OnWindow>
  static void replay(const std::string& bytes, OnExample on_example, OnWindow on_window) {
    size_t at = 0;
    auto get = [&](auto& v) {
      std::memcpy(&v, bytes.data() + at, sizeof v);
      at += sizeof v;
    };
    std::vector<float> acts;
    while (at < bytes.size()) {
      int64_t tag = 0;
      get(tag);
      if (tag == 2) {
        int64_t window = 0, n = 0;
        get(window);
        get(n);
        std::vector<int32_t> tokens(static_cast<size_t>(n));
        for (int32_t& t : tokens) get(t);
        on_window(window, tokens);
        continue;
      }
      int64_t f[10];
      for (int64_t& v : f) get(v);
      const ExampleRef r{static_cast<size_t>(f[0]), f[1], static_cast<store::ExampleKind>(f[2]),
                         static_cast<int>(f[3]), static_cast<int>(f[4]), f[5]};
      acts.assign(static_cast<size_t>(f[7]), 0.0f);
      for (int64_t e = 0; e < f[9]; ++e) {
        int64_t t = 0;
        float a = 0;
        get(t);
        get(a);
        acts[static_cast<size_t>(t)] = a;
      }
      on_example(r, f[6], acts.data(), f[7], static_cast<int32_t>(f[8]));
    }
  }

 private:
  template <class T>
  void put(T v) {
    bytes_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  std::string bytes_;
};

void delete_feature_rows(store::Database& db, int64_t result_id) {
  for (const char* table : {"features", "histograms", "examples", "intervals", "logit_effects"}) {
    store::Statement s = db.prepare(std::string("DELETE FROM ") + table + " WHERE result_id = ?");
    s.bind(1, result_id).run();
  }
}

}  // namespace

// A member's logit effects; ranks compute a share of the features each and gather them.
std::optional<LogitEffectTable> HarvestGroup::logit_table(size_t i) {
  const LiveTarget& m = *members_[i];
  // The decoder writes at the output hook: a transcoder's, not the hook it reads.
  const sae::Sae& sae = *m.target.sae;
  if (options_.logit_effects <= 0 || !writes_residual(sae.config().output_hook(), *in_.model, sae.d_out()))
    return std::nullopt;
  const double tokens = static_cast<double>(count_.tokens);
  const model::Unembedding w = in_.model->unembedding();
  const at::Tensor& w_dec = sae.weights().W_dec;
  const int64_t d = w_dec.size(0), share = (d + shard_.world - 1) / shard_.world;
  const int64_t lo = std::min(d, share * shard_.rank), n = std::min(share, d - lo);
  LogitEffectTable t = logit_effects(w_dec.narrow(0, lo, n), w.final_norm_gain, w.unembed, options_.logit_effects,
                                     [&](int64_t done, int64_t total) {
                                       report(3, 2 * tokens, 3 * tokens,
                                              "logit effects " + std::to_string(done) + "/" + std::to_string(total));
                                     });
  if (!in_.group) return t;
  for (at::Tensor* part : {&t.top_values, &t.top_ids, &t.bottom_values, &t.bottom_ids}) {
    const at::Tensor padded = at::cat({*part, at::zeros({share - n, part->size(1)}, part->options())});
    *part = at::cat(in_.group->allgather(padded, "gathering logit effects")).narrow(0, 0, d).contiguous();
  }
  return t;
}

void HarvestGroup::finish() {
  std::vector<std::optional<LogitEffectTable>> logits(members_.size());
  const auto t0 = Clock::now();
  const double tokens = static_cast<double>(count_.tokens);
  for (size_t i = 0; i < members_.size(); ++i) logits[i] = logit_table(i);
  report_.logit_seconds += std::chrono::duration<double>(Clock::now() - t0).count();

  // Which windows hold an example of which feature.
  std::map<int64_t, std::vector<ExampleRef>> needed;
  std::vector<std::vector<int32_t>> top_token(members_.size());
  for (size_t i = 0; i < members_.size(); ++i) {
    const FeatureStats& s = members_[i]->stats;
    const int64_t d = s.shape().d_sae, k = s.shape().top_k;
    const int I = s.shape().intervals, S = s.shape().interval_samples;
    top_token[i].assign(static_cast<size_t>(d * k), -1);
    const float* tv = s.top_value.data_ptr<float>();
    const int64_t* tw = s.top_window.data_ptr<int64_t>();
    const int64_t* tp = s.top_pos.data_ptr<int64_t>();
    const auto* sp = reinterpret_cast<const uint64_t*>(s.sample_priority_.data_ptr<int64_t>());
    const int64_t* sw = s.sample_window.data_ptr<int64_t>();
    const int64_t* spos = s.sample_pos.data_ptr<int64_t>();
    for (int64_t f = 0; f < d; ++f) {
      for (int64_t r = 0; r < k; ++r)
        if (tv[f * k + r] > 0)
          needed[tw[f * k + r]].push_back({i, f, store::ExampleKind::Top, int(r), -1, tp[f * k + r]});
      for (int j = 0; j < I; ++j)
        for (int r = 0; r < S; ++r) {
          const int64_t slot = (f * I + j) * S + r;
          if (sp[slot] != kEmptySlot)
            needed[sw[slot]].push_back({i, f, store::ExampleKind::Interval, r, j, spos[slot]});
        }
    }
  }

  std::optional<store::Transaction> tx;
  std::optional<store::FeatureStore> fs;
  if (ws_) {
    tx.emplace(ws_->db());
    fs.emplace(ws_->db());
    for (LiveTarget* m : members_) delete_feature_rows(ws_->db(), m->target.result_id);
  }

  // Rank 0 keeps the rows: its own as they come, the others' from the wire.
  std::vector<ExampleBuffer> buffers(members_.size());
  auto keep = [&](const ExampleRef& ref, int64_t window, const float* acts, int64_t len, int32_t token) {
    ExampleBuffer& buffer = buffers[ref.member];
    buffer.add(ref, window, acts, len);
    if (ref.kind == store::ExampleKind::Top && token >= 0)
      top_token[ref.member][static_cast<size_t>(ref.feature * members_[ref.member]->stats.shape().top_k + ref.rank)] =
          token;
    if (buffer.full()) {
      const auto w0 = Clock::now();
      report_.examples += static_cast<int64_t>(buffer.size());
      buffer.flush(*fs, members_[ref.member]->target.result_id);
      report_.write_seconds += std::chrono::duration<double>(Clock::now() - w0).count();
    }
  };
  const int64_t B = shard_.batch;
  std::vector<int64_t> order;               // this rank's windows with an example
  std::vector<int64_t> owned(static_cast<size_t>(shard_.world), 0);
  for (const auto& [w, refs] : needed) {
    ++owned[static_cast<size_t>((w / B) % shard_.world)];
    if (shard_.owns(w)) order.push_back(w);
  }
  // Every rank takes part in each round's gather, also once out of windows.
  const int64_t rounds = (*std::max_element(owned.begin(), owned.end()) + B - 1) / B;
  for (int64_t round = 0; round < rounds; ++round) {
    const size_t start = static_cast<size_t>(round * B);
    const std::vector<int64_t> idx(order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), start)),
                                   order.begin() + static_cast<std::ptrdiff_t>(
                                       std::min(order.size(), start + static_cast<size_t>(B))));
    ExampleWire wire;
    window_cache_.clear();
    for (int64_t w : idx) {  // read once, in order (a corpus re-reads from its start to go back)
      window_cache_[w] = tokens_of(w);
      if (!ws_) wire.add_window(w, window_cache_[w]);
    }
    std::map<std::string, at::Tensor> values;  // read or run only for members without features
    for (size_t i = 0; i < members_.size() && !idx.empty(); ++i) {
      std::optional<SparseCodes> codes;  // read only when this SAE has an example here
      for (size_t b = 0; b < idx.size(); ++b) {
        std::vector<const ExampleRef*> refs;
        for (const ExampleRef& r : needed[idx[b]])
          if (r.member == i) refs.push_back(&r);
        if (refs.empty()) continue;
        if (!codes) codes = codes_of(i, idx, values);
        const int64_t len = window_length(idx[b]);
        // Each ref's per-token activations [refs, len], from the window's
        // non-zeros: refs sorted by feature, found by binary search.
        std::vector<size_t> by_feature(refs.size());
        for (size_t r = 0; r < refs.size(); ++r) by_feature[r] = r;
        std::sort(by_feature.begin(), by_feature.end(),
                  [&](size_t x, size_t y) { return refs[x]->feature < refs[y]->feature; });
        std::vector<int64_t> sorted_features;
        for (size_t r : by_feature) sorted_features.push_back(refs[r]->feature);
        std::vector<float> cols(refs.size() * static_cast<size_t>(len), 0.0f);
        for (int64_t t = 0; t < std::min(len, codes->positions); ++t) {
          const size_t row = static_cast<size_t>(static_cast<int64_t>(b) * codes->positions + t);
          for (int64_t e = codes->row_start[row]; e < codes->row_start[row + 1]; ++e) {
            const int64_t f = codes->feature[static_cast<size_t>(e)];
            auto lo = std::lower_bound(sorted_features.begin(), sorted_features.end(), f);
            for (; lo != sorted_features.end() && *lo == f; ++lo)
              cols[by_feature[static_cast<size_t>(lo - sorted_features.begin())] * static_cast<size_t>(len) +
                   static_cast<size_t>(t)] = codes->value[static_cast<size_t>(e)];
          }
        }
        const std::vector<int32_t>& window_tokens = window_cache_.at(idx[b]);
        const float* c = cols.data();
        for (size_t r = 0; r < refs.size(); ++r) {
          const ExampleRef& ref = *refs[r];
          const int32_t token =
              ref.pos < static_cast<int64_t>(window_tokens.size()) ? window_tokens[static_cast<size_t>(ref.pos)] : -1;
          if (ws_) keep(ref, idx[b], c + static_cast<int64_t>(r) * len, len, token);
          else wire.add(ref, idx[b], c + static_cast<int64_t>(r) * len, len, token);
        }
      }
    }
    if (in_.group) {
      const std::vector<std::string> sent = in_.group->allgather_bytes(wire.bytes(), "gathering harvest examples");
      if (ws_)
        for (size_t r = 1; r < sent.size(); ++r)
          ExampleWire::replay(sent[r], keep, [&](int64_t w, const std::vector<int32_t>& t) {
            for (const LiveTarget* m : members_) fs->put_window(m->target.result_id, w, t);
          });
    }
    report(3, 2 * tokens + double(std::min(order.size(), start + idx.size()) * static_cast<size_t>(in_.context)),
           2 * tokens + double(order.size() * static_cast<size_t>(in_.context)), "examples");
  }
  window_cache_.clear();
  if (ws_) write_rows(buffers, top_token, logits, *fs, *tx);
  // Rank 0's rows are committed before any rank removes its files (its write may take minutes).
  if (in_.group) in_.group->barrier("harvest rows written", std::chrono::hours(24));
  remove_files();
}

void HarvestGroup::write_rows(std::vector<ExampleBuffer>& buffers, const std::vector<std::vector<int32_t>>& top_token,
                              const std::vector<std::optional<LogitEffectTable>>& logits, store::FeatureStore& fs,
                              store::Transaction& tx) {
  const auto w0 = Clock::now();
  for (size_t i = 0; i < members_.size(); ++i) {
    report_.examples += static_cast<int64_t>(buffers[i].size());
    buffers[i].flush(fs, members_[i]->target.result_id);
  }
  const int64_t counted = count_.tokens - count_.windows;  // BOS excluded
  for (size_t i = 0; i < members_.size(); ++i) {
    const LiveTarget& m = *members_[i];
    const FeatureStats& s = m.stats;
    const StatsShape& sh = s.shape();
    const int64_t* fire = s.fire_count.data_ptr<int64_t>();
    const double* sum = s.act_sum.data_ptr<double>();
    const float* mx = s.act_max.data_ptr<float>();
    const float* edges = s.hist_edges.data_ptr<float>();
    const int64_t* hc = s.hist_counts.data_ptr<int64_t>();
    const int64_t* ic = s.interval_counts.data_ptr<int64_t>();
    int64_t dead = 0;
    for (int64_t f = 0; f < sh.d_sae; ++f) {
      store::FeatureSummary summary;
      summary.feature = f;
      summary.fire_count = fire[f];
      summary.density = counted > 0 ? double(fire[f]) / double(counted) : 0.0;
      summary.max_act = mx[f];
      summary.mean_act = fire[f] > 0 ? sum[f] / double(fire[f]) : 0.0;
      summary.top_tokens = top_tokens_text(top_token[i].data() + f * sh.top_k, sh.top_k, in_.tokenizer);
      store::Histogram h;
      if (fire[f] > 0) {
        h.edges.assign(edges + f * (sh.histogram_bins + 1), edges + (f + 1) * (sh.histogram_bins + 1));
        h.counts.assign(hc + f * sh.histogram_bins, hc + (f + 1) * sh.histogram_bins);
      } else {
        ++dead;
      }
      fs.put_feature(m.target.result_id, summary, h);
      if (fire[f] > 0) {
        int64_t total = 0;
        for (int j = 0; j < sh.intervals; ++j) total += ic[f * sh.intervals + j];
        for (int j = 0; j < sh.intervals; ++j)
          fs.put_interval(m.target.result_id, f,
                          {j, mx[f] * float(j) / float(sh.intervals),
                           mx[f] * float(j + 1) / float(sh.intervals),
                           total > 0 ? float(double(ic[f * sh.intervals + j]) / double(total)) : 0.0f});
      }
      if (logits[i]) {
        const int64_t k = logits[i]->top_ids.size(1);
        const float* tv = logits[i]->top_values.data_ptr<float>();
        const int64_t* ti = logits[i]->top_ids.data_ptr<int64_t>();
        const float* bv = logits[i]->bottom_values.data_ptr<float>();
        const int64_t* bi = logits[i]->bottom_ids.data_ptr<int64_t>();
        for (int64_t r = 0; r < k; ++r) {
          fs.put_logit_effect(m.target.result_id, f, {1, int(r), int32_t(ti[f * k + r]), tv[f * k + r], {}});
          fs.put_logit_effect(m.target.result_id, f, {-1, int(r), int32_t(bi[f * k + r]), bv[f * k + r], {}});
        }
      }
    }
    // Keep only the windows an example shows.
    store::Statement prune = ws_->db().prepare(
        "DELETE FROM windows WHERE result_id = ?1 AND window NOT IN "
        "(SELECT window FROM examples WHERE result_id = ?1)");
    prune.bind(1, m.target.result_id).run();
    report_.peak_rss_bytes = peak_rss_bytes();
    ws_->finish_result(m.target.result_id,
                      {{"tokens", count_.tokens},
                       {"windows", count_.windows},
                       {"counted_tokens", counted},
                       {"features", sh.d_sae},
                       {"dead", dead},
                       {"alive", sh.d_sae - dead},
                       {"hook", m.target.hook},
                       {"logit_effects", logits[i].has_value()},
                       {"seconds", {{"pass1", report_.pass_seconds[0]},
                                    {"pass2", report_.pass_seconds[1]},
                                    {"logit_effects", report_.logit_seconds}}},
                       {"peak_rss_bytes", report_.peak_rss_bytes}});
  }
  if (in_.model_id && in_.tokenizer) {
    store::Statement has = ws_->db().prepare("SELECT COUNT(*) FROM vocab WHERE model_id = ?");
    has.bind(1, *in_.model_id);
    if (has.step() && has.column_int(0) == 0) {
      std::vector<std::string> texts;
      for (int64_t id = 0; id < in_.model->info().vocab_size; ++id)
        texts.push_back(token_text(in_.tokenizer, static_cast<int32_t>(id)));
      fs.put_vocab(*in_.model_id, texts);
    }
  }
  tx.commit();
  report_.write_seconds += std::chrono::duration<double>(Clock::now() - w0).count();
}

void HarvestGroup::remove_files() {
  for (auto& [hook, spill] : spills_) spill->remove();
  for (auto& c : codes_)
    if (c) c->remove();
  // Every state file of these results, also one a kill left between the
  // commit naming its successor and its own removal, and the files of ranks
  // of an earlier distributed try.
  namespace stdfs = std::filesystem;
  std::error_code ec;
  const stdfs::path folder = stdfs::absolute(ws_path_).parent_path();
  for (LiveTarget* m : members_) {
    const std::string prefix = stdfs::path(path_prefix(*m)).filename().string() + ".";
    for (const auto& e : stdfs::directory_iterator(folder, ec)) {
      const std::string name = e.path().filename().string();
      if (name.rfind(prefix, 0) == 0 &&
          (name.find(".state-") != std::string::npos || name.find(".rank-") != std::string::npos))
        stdfs::remove(e.path(), ec);
    }
  }
}

}  // namespace saescope::analysis
