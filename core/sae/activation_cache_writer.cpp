#include "core/sae/activation_cache_writer.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/corpus/window_source.h"
#include "core/common/error.h"
#include "core/io/atomic_file.h"
#include "core/common/progress.h"
#include "core/model/model_registry.h"

namespace saescope::sae {
namespace {

void put_u64(std::vector<uint8_t>& out, size_t at, uint64_t v) { std::memcpy(out.data() + at, &v, 8); }

std::vector<uint8_t> progress_record(const CacheProgress& p) {
  std::vector<uint8_t> rec(24);
  const auto w = static_cast<uint64_t>(p.windows), r = static_cast<uint64_t>(p.rows);
  put_u64(rec, 0, w);
  put_u64(rec, 8, r);
  put_u64(rec, 16, cache_layout::check_word(w, r));
  return rec;
}

// The bytes before the first row of a fresh cache.
std::vector<uint8_t> fresh_prefix(const ActivationCacheHeader& h) {
  namespace L = cache_layout;
  const std::string json = h.to_json().dump();
  const int64_t data_offset =
      (L::kHeaderOffset + static_cast<int64_t>(json.size()) + L::kAlign - 1) / L::kAlign * L::kAlign;
  std::vector<uint8_t> out(static_cast<size_t>(data_offset), 0);
  std::memcpy(out.data(), L::kMagic, sizeof L::kMagic);
  const auto rec = progress_record({});
  std::memcpy(out.data() + L::kProgressOffset, rec.data(), rec.size());
  put_u64(out, L::kHeaderLengthOffset, json.size());
  std::memcpy(out.data() + L::kHeaderOffset, json.data(), json.size());
  return out;
}

}  // namespace

ActivationCacheWriter::ActivationCacheWriter(std::string path, const ActivationCacheHeader& header)
    : path_(std::move(path)), header_(header) {
  namespace fs = std::filesystem;
  if (!fs::exists(path_)) {
    io::AtomicFileWriter create(path_);
    const auto prefix = fresh_prefix(header_);
    create.write(prefix.data(), prefix.size());
    create.commit();
  }
  CacheFileInfo info;
  try {
    info = read_cache_file_info(path_);
  } catch (const InputError& e) {
    throw InputError(std::string(e.what()) + " (to start a new cache there, delete " + path_ +
                     " or choose another output file)");
  }
  const std::string diff = info.header.differences(header_);
  if (!diff.empty())
    throw InputError(path_ + ": this cache was made from other inputs or settings (" + diff +
                     "); delete it or choose another output file");
  header_ = info.header;  // keeps the paths it was created with: the bytes stay those of one run
  data_offset_ = info.data_offset;
  committed_ = written_ = info.progress;
  fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd_ < 0) fail("cannot open for writing");
  // Rows after the last commit may be torn: they are written again. (A
  // complete cache is left untouched, its modification time included.)
  const off_t keep = static_cast<off_t>(data_offset_ + committed_.rows * header_.row_bytes());
  if (::lseek(fd_, 0, SEEK_END) != keep && ::ftruncate(fd_, keep) != 0) fail("cannot truncate");
}

ActivationCacheWriter::~ActivationCacheWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void ActivationCacheWriter::fail(const std::string& what) const {
  throw InputError(path_ + ": " + what + ": " + std::strerror(errno));
}

void ActivationCacheWriter::append(const at::Tensor& rows, int64_t windows_covered) {
  if (rows.dim() != 2 || rows.size(1) != header_.d_in)
    throw InternalError("activation cache rows must be [n, " + std::to_string(header_.d_in) +
                        "], got " + c10::str(rows.sizes()));
  if (written_.rows + rows.size(0) > header_.tokens || windows_covered > header_.windows)
    throw InternalError(path_ + ": more rows than the cache header plans");
  const at::Tensor bytes = rows.to(at::kCPU, header_.scalar_type()).contiguous();
  const auto* p = static_cast<const uint8_t*>(bytes.data_ptr());
  size_t left = static_cast<size_t>(bytes.numel()) * 2;
  off_t at = static_cast<off_t>(data_offset_ + written_.rows * header_.row_bytes());
  while (left > 0) {
    const ssize_t n = ::pwrite(fd_, p, left, at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("cannot write activations");
    p += n, at += n, left -= static_cast<size_t>(n);
  }
  written_.rows += rows.size(0);
  written_.windows = windows_covered;
}

void ActivationCacheWriter::commit() {
  if (written_.rows == committed_.rows && written_.windows == committed_.windows) return;
  if (::fdatasync(fd_) != 0) fail("cannot sync activations to disk");
  const auto rec = progress_record(written_);
  if (::pwrite(fd_, rec.data(), rec.size(), cache_layout::kProgressOffset) !=
      static_cast<ssize_t>(rec.size()))
    fail("cannot write the progress record");
  committed_ = written_;
}

CacheFillReport fill_activation_cache(const model::LanguageModel& model, analysis::WindowSource& windows,
                                      ActivationCacheWriter& writer, const CacheFillOptions& options,
                                      jobs::ProgressSink& progress) {
  using Clock = std::chrono::steady_clock;
  const ActivationCacheHeader& h = writer.header();
  const int64_t first = h.include_bos ? 0 : 1;
  const auto start = Clock::now();
  auto last_commit = start;
  int64_t batches = 0;
  CacheFillReport report;
  c10::InferenceMode guard;
  const model::RunRequest request{{h.hook}, {}};
  windows.seek(h.first_window + writer.committed().windows);  // a shard starts at its first window
  progress.report({"cache", static_cast<double>(writer.committed().rows),
                   static_cast<double>(h.tokens), "tokens", ""});
  try {
    while (true) {
      const int64_t left = h.windows - writer.written().windows;
      if (left <= 0) break;
      const auto batch = windows.next(std::min(left, std::max<int64_t>(1, options.batch_windows)));
      if (batch.empty()) break;
      std::vector<std::vector<int64_t>> seqs;
      for (const auto& w : batch) seqs.emplace_back(w.tokens.begin(), w.tokens.end());
      const model::TokenBatch tb = model::make_token_batch(seqs, model.info(), /*prepend_bos=*/false);
      const at::Tensor v = per_token_rows(model.run(tb, request).hooks.at(h.hook), h.hook);
      at::Tensor keep = tb.mask();
      if (first > 0) keep.select(1, 0).fill_(false);
      const at::Tensor idx = keep.flatten().nonzero().squeeze(1).to(v.device());
      const at::Tensor rows = v.reshape({-1, v.size(-1)}).index_select(0, idx);
      writer.append(rows, batch.back().index + 1 - h.first_window);
      report.windows += static_cast<int64_t>(batch.size());
      report.rows += rows.size(0);
      ++batches;
      const bool due = options.commit_every > 0
                           ? batches % options.commit_every == 0
                           : std::chrono::duration<double>(Clock::now() - last_commit).count() >=
                                 options.commit_seconds;
      if (due) {
        writer.commit();
        last_commit = Clock::now();
      }
      progress.report({"cache", static_cast<double>(writer.written().rows),
                       static_cast<double>(h.tokens), "tokens",
                       std::to_string(writer.written().windows) + "/" + std::to_string(h.windows) +
                           " windows"});
    }
  } catch (const Cancelled&) {
    writer.commit();  // everything appended is whole: keep it
    throw;
  }
  writer.commit();
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!writer.complete())
    throw InternalError(h.corpus + ": the corpus gave " + std::to_string(writer.committed().windows) +
                        " windows and " + std::to_string(writer.committed().rows) +
                        " rows; the cache header plans " + std::to_string(h.windows) + " and " +
                        std::to_string(h.tokens) + " (did the corpus change while caching?)");
  return report;
}

}  // namespace saescope::sae
