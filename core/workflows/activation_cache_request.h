#pragma once
// An activation cache as people ask for it (`saescope-cli cache`): folders
// and files. Loads the model and tokenizer, plans the windows, and creates,
// continues or (when already complete) leaves the cache file. Rerunning the
// same request after an interruption continues where the last commit was.
#include <cstdint>
#include <string>

#include "core/sae/activation_cache.h"
#include "core/sae/activation_cache_writer.h"

namespace saescope::jobs {
class ProgressSink;
}
namespace saescope::dist {
class ProcessGroup;
}

namespace saescope::sae {

struct CacheRequest {
  std::string model_dir;
  std::string tokenizer_dir;  // "" = the model folder
  std::string hook;
  std::string corpus;
  std::string out;
  std::string device = "cpu";
  std::string dtype = "float16";
  int64_t context = 128;
  int64_t max_tokens = 0;  // 0: the whole corpus (BOS counted, as the windows count it)
  bool include_bos = false;
  bool center_writing_weights = false;
  CacheFillOptions fill;
};

struct CacheOutcome {
  ActivationCacheHeader header;
  CacheProgress resumed_from;   // what the file held before this run
  bool already_complete = false;
  CacheFillReport fill;
  std::string corpus_problems;  // bad JSONL lines, "" when none
};

// InputError for unreadable inputs, an unknown hook, a context longer than
// the model's positions, or an output file that is some other cache.
// Distributed (`group`): every rank writes its shard "<out>.shard-R-of-N",
// rank 0 then the manifest at <out> (activation_cache.h).
CacheOutcome build_activation_cache(const CacheRequest& request, jobs::ProgressSink& progress,
                                    dist::ProcessGroup* group = nullptr);

// sha256 of a file, or of a folder's regular files (sorted relative names
// and their hashes; dot-files skipped): the digest Workspace::content_hash
// gives, without a workspace to remember it.
std::string content_hash_uncached(const std::string& path);

}  // namespace saescope::sae
