#pragma once
// Writing an activation cache (activation_cache.h): creating it, appending
// rows, committing, and continuing an interrupted one. A commit first syncs
// the rows to disk, then rewrites the progress record, so whatever kills the
// writer — a signal, a crash, a power cut — leaves a file whose recorded rows
// are all there; the next run drops anything after them and goes on from the
// first window not recorded.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "core/sae/activation_cache.h"

namespace saescope::analysis {
class WindowSource;
}
namespace saescope::jobs {
class ProgressSink;
}
namespace saescope::model {
class LanguageModel;
}

namespace saescope::sae {

class ActivationCacheWriter {
 public:
  // Creates the cache at `path` (header and an empty progress record appear
  // at once, by rename), or reopens the cache there to continue it. Throws
  // InputError when the file there is not a cache of this header, naming
  // what differs.
  ActivationCacheWriter(std::string path, const ActivationCacheHeader& header);
  ~ActivationCacheWriter();
  ActivationCacheWriter(const ActivationCacheWriter&) = delete;
  ActivationCacheWriter& operator=(const ActivationCacheWriter&) = delete;

  const ActivationCacheHeader& header() const { return header_; }
  const CacheProgress& committed() const { return committed_; }
  const CacheProgress& written() const { return written_; }
  bool complete() const {
    return committed_.windows == header_.windows && committed_.rows == header_.tokens;
  }

  // Appends rows [n, d_in] (any float dtype or device; stored as the
  // header's dtype) that complete the cache up to `windows_covered` windows.
  void append(const at::Tensor& rows, int64_t windows_covered);
  // Makes every appended row durable, then records it as complete.
  void commit();

 private:
  [[noreturn]] void fail(const std::string& what) const;
  std::string path_;
  ActivationCacheHeader header_;
  int64_t data_offset_ = 0;
  int fd_ = -1;
  CacheProgress committed_, written_;
};

struct CacheFillOptions {
  int64_t batch_windows = 8;
  int64_t commit_every = 0;     // batches between commits; 0: by time
  double commit_seconds = 30;   // when commit_every is 0
};

struct CacheFillReport {
  int64_t windows = 0;  // windows run in this call
  int64_t rows = 0;
  double seconds = 0;
};

// Runs `model` (loaded as the header says) over `windows` from the writer's
// committed window on, appending the header's hook rows and committing as
// the options say, and once more at the end. Progress is in tokens (rows).
// On cancellation (the sink's flag) it commits what is done, then throws
// saescope::Cancelled. InternalError when the rows come out differently
// from the header's plan.
CacheFillReport fill_activation_cache(const model::LanguageModel& model, analysis::WindowSource& windows,
                                      ActivationCacheWriter& writer, const CacheFillOptions& options,
                                      jobs::ProgressSink& progress);

}  // namespace saescope::sae
