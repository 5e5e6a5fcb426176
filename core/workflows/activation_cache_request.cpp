#include "core/workflows/activation_cache_request.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "core/corpus/corpus_windows.h"
#include "core/common/error.h"
#include "core/common/sha256.h"
#include "core/model/model_registry.h"
#include "core/tokenizer/bpe_tokenizer.h"

namespace fs = std::filesystem;

namespace saescope::sae {

std::string content_hash_uncached(const std::string& path) { return sha256_tree(path); }

CacheOutcome build_activation_cache(const CacheRequest& r, jobs::ProgressSink& progress) {
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
