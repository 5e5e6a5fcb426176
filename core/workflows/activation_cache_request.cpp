#include "core/workflows/activation_cache_request.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "core/corpus/corpus_windows.h"
#include "core/common/error.h"
#include "core/distributed/process_group.h"
#include "core/io/atomic_file.h"
#include "core/common/sha256.h"
#include "core/model/model_registry.h"
#include "core/tokenizer/bpe_tokenizer.h"

namespace fs = std::filesystem;

namespace saescope::sae {

std::string content_hash_uncached(const std::string& path) { return sha256_tree(path); }

namespace {

// Rank 0 looks at what --out holds: 0 = nothing, 1 = this cache, complete,
// 3 = this cache unfinished by one process (rank 0 continues that file);
// it refuses another cache.
int64_t existing_cache(const CacheRequest& r, const ActivationCacheHeader& h) {
  if (!fs::exists(r.out)) return 0;
  const ActivationCache c = ActivationCache::open(r.out);
  if (const std::string d = h.differences(c.header()); !d.empty())
    throw InputError(r.out + ": holds another activation cache (" + d + "); choose another --out");
  return c.complete() ? 1 : 3;
}

// Rank `rank`'s shard of the cache at `out`, beside it.
std::string shard_path(const std::string& out, int rank, int world) {
  return out + ".shard-" + std::to_string(rank) + "-of-" + std::to_string(world);
}

// A distributed run's manifest of this cache, complete, at --out (one
// process then has nothing to do; anything else is the writer's to judge).
bool complete_manifest(const CacheRequest& r, const ActivationCacheHeader& h) {
  try {
    if (!fs::exists(r.out)) return false;
    const ActivationCache c = ActivationCache::open(r.out);
    return c.shards() > 1 && c.complete() && h.differences(c.header()).empty();
  } catch (const InputError&) {
    return false;
  }
}

// Distributed: each rank caches a run of whole batches of windows (the
// batches one process would run, so the rows are its rows) into its own
// shard file, which a rerun continues; once all are complete rank 0 writes
// the manifest that makes them one cache.
CacheOutcome build_shards(const CacheRequest& r, const model::LanguageModel& model, analysis::WindowSource& windows,
                          const analysis::WindowCount& count, CacheOutcome out, jobs::ProgressSink& progress,
                          dist::ProcessGroup& group) {
  const ActivationCacheHeader& whole = out.header;
  nlohmann::json plan = whole.to_json();
  plan.erase("model");  // paths may differ between hosts; contents may not
  plan.erase("corpus");
  group.check_same(plan.dump(), "the model, tokenizer and corpus files (or cache options)");
  at::Tensor state = at::zeros({1}, at::kLong);  // existing_cache's, or 2: rank 0 refused
  std::string refused;
  if (group.is_root()) {
    try {
      state[0] = existing_cache(r, whole);
    } catch (const InputError& e) {
      state[0] = 2;
      refused = e.what();
    }
  }
  group.broadcast(state, 0, "looking at the cache file");
  if (state[0].item<int64_t>() == 2) {
    if (group.is_root()) throw InputError(refused);
    throw InputError("rank " + std::to_string(group.rank()) + ": rank 0 refused " + r.out + " (see its error)");
  }
  if (state[0].item<int64_t>() == 1) {
    out.already_complete = true;
    return out;
  }
  if (state[0].item<int64_t>() == 3) {  // one file, begun by one process: rank 0 ends it, the others wait
    if (group.is_root()) {
      ActivationCacheWriter writer(r.out, whole);
      out.resumed_from = writer.committed();
      out.fill = fill_activation_cache(model, windows, writer, r.fill, progress);
    }
    group.barrier("rank 0 finishing the single-process cache " + r.out, std::chrono::hours(24));
    return out;
  }
  const int64_t B = std::max<int64_t>(1, r.fill.batch_windows), batches = (count.windows + B - 1) / B;
  const auto window_of = [&](int rank) { return std::min(count.windows, batches * rank / group.size() * B); };
  ActivationCacheHeader h = whole;
  h.first_window = window_of(group.rank());
  h.windows = window_of(group.rank() + 1) - h.first_window;
  const bool has_last = h.windows > 0 && h.first_window + h.windows == count.windows;
  h.corpus_tokens = h.windows * r.context - (has_last ? r.context - count.last_length : 0);
  h.tokens = h.corpus_tokens - (r.include_bos ? 0 : h.windows);
  const std::string file = shard_path(r.out, group.rank(), group.size());
  ActivationCacheWriter writer(file, h);
  out.resumed_from = writer.committed();
  if (!writer.complete()) out.fill = fill_activation_cache(model, windows, writer, r.fill, progress);
  // Ranks finish at their own pace; one that dies is noticed by its closed connection.
  group.barrier("finishing the cache shards", std::chrono::hours(24));
  if (group.is_root()) {
    std::vector<CacheShard> shards;
    for (int rank = 0; rank < group.size(); ++rank) {
      const int64_t first = window_of(rank), n = window_of(rank + 1) - first;
      const std::string path = shard_path(r.out, rank, group.size());
      shards.push_back({fs::path(path).filename().string(), first, n, read_cache_file_info(path).progress.rows});
    }
    const std::string text = cache_manifest_json(whole, shards);
    io::AtomicFileWriter manifest(r.out);
    manifest.write(text.data(), text.size());
    manifest.commit();
    ActivationCache::open(r.out);  // reads back as one complete cache, or names what is wrong
  }
  group.barrier("writing the cache manifest");
  return out;
}

}  // namespace

CacheOutcome build_activation_cache(const CacheRequest& r, jobs::ProgressSink& progress, dist::ProcessGroup* group) {
  if (r.context < 2) throw InputError("--context must be at least 2 (BOS and one token)");
  if (r.max_tokens < 0) throw InputError("--tokens must not be negative");
  if (r.out.empty()) throw InputError("give the cache file to write (--out)");
  parse_cache_dtype(r.dtype);

  model::ModelOptions mo;
  mo.device = model::parse_device(r.device);
  mo.center_writing_weights = r.center_writing_weights;
  const auto gpt2 = model::load_language_model(r.model_dir, mo);
  const int64_t width = gpt2->hook_schema().per_token_width(r.hook);  // InputError listing the valid names
  const analysis::CorpusOptions co =
      analysis::corpus_options_for(gpt2->info(), r.model_dir, r.context, r.max_tokens);
  const std::string tok_dir = r.tokenizer_dir.empty() ? r.model_dir : r.tokenizer_dir;
  const tokenizer::BpeTokenizer tok = tokenizer::load_tokenizer(tok_dir);


  analysis::CorpusWindows windows(r.corpus, tok, co);
  const analysis::WindowCount count = windows.count();

  CacheOutcome out;
  out.corpus_problems = windows.problems_summary();
  ActivationCacheHeader& h = out.header;
  h.model = fs::absolute(r.model_dir).lexically_normal().string();
  h.model_hash = content_hash_uncached(r.model_dir);
  h.tokenizer_hash = r.tokenizer_dir.empty() ? std::string() : content_hash_uncached(r.tokenizer_dir);
  h.hook = r.hook;
  h.d_in = width;
  h.dtype = r.dtype;
  h.corpus = fs::absolute(r.corpus).lexically_normal().string();
  h.corpus_hash = windows.content_hash();
  h.context = r.context;
  h.max_tokens = r.max_tokens;
  h.include_bos = r.include_bos;
  h.center_writing_weights = r.center_writing_weights;
  h.windows = count.windows;
  h.corpus_tokens = count.tokens;
  h.tokens = count.tokens - (r.include_bos ? 0 : count.windows);

  {
    std::error_code ec;  // a missing folder is made; one that cannot be is named by the writer
    const fs::path folder = fs::path(r.out).parent_path();
    if (!folder.empty()) fs::create_directories(folder, ec);
  }
  if (group) return build_shards(r, *gpt2, windows, count, std::move(out), progress, *group);
  if (complete_manifest(r, h)) {
    out.already_complete = true;
    return out;
  }
  ActivationCacheWriter writer(r.out, h);
  h = writer.header();
  out.resumed_from = writer.committed();
  if (writer.complete()) {
    out.already_complete = true;
    return out;
  }
  out.fill = fill_activation_cache(*gpt2, windows, writer, r.fill, progress);
  return out;
}

}  // namespace saescope::sae
