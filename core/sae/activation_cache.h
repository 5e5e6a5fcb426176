#pragma once
// An on-disk cache of one hook's activations over a corpus, so a sweep of
// SAEs trained on the same (model, hook, corpus) runs the model once.
//
// One row per token, in corpus order (window after window, position after
// position), stored as float16 or bfloat16 and memory-mapped for reading.
// BOS positions are left out unless the header says include_bos: the BOS
// residual stream of GPT-2 is an outlier (norms tens of times the others'),
// SAEBench excludes special tokens from its reconstruction metrics, and this
// project's feature harvest does not count BOS either. SAELens's training
// default (exclude_special_tokens=False) keeps them: `--include-bos` matches
// that. The document separators inside windows (<|endoftext|>) are always
// kept: only each window's leading BOS is a position the model never predicts.
//
// File layout (little-endian):
//    0  8 bytes  magic "SAEACTS1"
//    8  u64      windows complete   } the progress record: rewritten only
//   16  u64      rows complete      } after the rows it counts are on disk,
//   24  u64      check word         } so a killed writer leaves a valid prefix
//   32  u64      header length H
//   40  H bytes  header JSON (ActivationCacheHeader), written once
//    D           rows [rows, d_in], D = 40 + H rounded up to 4096
//
// A distributed `cache` writes one such file per rank, each a run of whole
// batches of windows (header.first_window on), and then a manifest at the
// path asked: JSON {"format": "saescope-activation-cache-manifest",
// "version": 1, "header": the whole cache's header, "shards": [{"file"
// (beside the manifest), "first_window", "windows", "rows"}...] in corpus
// order}. ActivationCache opens either as one cache; the manifest is written
// only once every shard is complete.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace saescope::io {
class MappedFile;
}

namespace saescope::sae {

// What a cache holds and how it was made; fixed when the file is created.
struct ActivationCacheHeader {
  std::string model;           // the model folder (absolute path)
  std::string model_hash;      // sha256 as Workspace::content_hash computes it
  std::string tokenizer_hash;  // "" when the tokenizer is the model folder's
  std::string hook;
  int64_t d_in = 0;                // floats per row
  std::string dtype = "float16";   // "float16" | "bfloat16"
  std::string corpus;              // absolute path
  std::string corpus_hash;         // sha256 of its bytes
  int64_t context = 128;           // tokens per window, BOS included
  int64_t max_tokens = 0;          // the --tokens limit asked (0: the whole corpus)
  bool include_bos = false;
  bool center_writing_weights = false;  // how the model was loaded
  int64_t windows = 0;             // windows once complete
  int64_t tokens = 0;              // rows once complete
  int64_t corpus_tokens = 0;       // tokens of those windows, BOS included
  int64_t first_window = 0;        // a shard's first window in the corpus (0: the whole cache)

  nlohmann::json to_json() const;
  // InputError naming `path` and the field when one is missing or mistyped.
  static ActivationCacheHeader from_json(const nlohmann::json& j, const std::string& path);
  // What would make rows written under `other` differ from rows written
  // under this header ("" when nothing does): a harvest may continue a file
  // only when this is empty. Paths are not compared, content hashes are.
  std::string differences(const ActivationCacheHeader& other) const;
  // Bytes per row and the element type of the rows.
  int64_t row_bytes() const { return d_in * 2; }
  at::ScalarType scalar_type() const;
  // Rows window `w` contributes when it is complete-length.
  int64_t rows_per_window() const { return include_bos ? context : context - 1; }
};

struct CacheProgress {
  int64_t windows = 0;  // windows whose rows are all on disk
  int64_t rows = 0;
};

// The fixed part of a cache file, read without mapping the rows.
struct CacheFileInfo {
  ActivationCacheHeader header;
  CacheProgress progress;
  int64_t data_offset = 0;
};

// InputError naming `path` when it is not a cache, or its progress record or
// header is damaged, or it is shorter than its progress record says.
CacheFileInfo read_cache_file_info(const std::string& path);

// The storage type a user names: "float16" | "bfloat16"; InputError otherwise.
at::ScalarType parse_cache_dtype(const std::string& text);

// A cache opened for reading: the rows complete when it was opened (a cache
// still being written can be read; later rows are not seen). A manifest's
// shards read as one cache (complete, or refused naming the shard).
class ActivationCache {
 public:
  static ActivationCache open(const std::string& path);

  const std::string& path() const { return path_; }
  const ActivationCacheHeader& header() const { return info_.header; }
  int64_t rows() const { return info_.progress.rows; }
  int64_t windows() const { return info_.progress.windows; }
  int64_t d_in() const { return info_.header.d_in; }
  bool complete() const;
  // Rows [first, first + n) as [n, d_in] float16/bfloat16 on the CPU,
  // aliasing the mapped file when they lie in one file (it stays mapped
  // while any such tensor lives; read it, never write to it), else a copy.
  at::Tensor rows(int64_t first, int64_t n) const;
  at::Tensor activations() const { return rows(0, rows()); }
  int64_t shards() const { return static_cast<int64_t>(segments_.size()); }
  // First row of window `w` (all windows but the last are full length).
  int64_t window_first_row(int64_t w) const;

 private:
  static ActivationCache open_manifest(const std::string& path, const std::string& text);
  struct Segment {
    std::shared_ptr<const io::MappedFile> map;
    int64_t data_offset = 0, first_row = 0, rows = 0;
  };
  std::string path_;
  CacheFileInfo info_;
  std::vector<Segment> segments_;
};

// The manifest of a distributed cache's shards (activation_cache.h's layout).
struct CacheShard {
  std::string file;  // beside the manifest
  int64_t first_window = 0, windows = 0, rows = 0;
};
std::string cache_manifest_json(const ActivationCacheHeader& whole, const std::vector<CacheShard>& shards);

// A hook's value as one row per token: [B, T, d] as is, [B, T, heads, d_head]
// (q, k, v, z) as [B, T, heads·d_head], the way SAELens flattens hook_z.
// InputError for attention patterns, which hold no vector per token.
at::Tensor per_token_rows(const at::Tensor& hook_value, const std::string& hook);

namespace cache_layout {
constexpr char kMagic[8] = {'S', 'A', 'E', 'A', 'C', 'T', 'S', '1'};
constexpr int64_t kProgressOffset = 8;
constexpr int64_t kHeaderLengthOffset = 32;
constexpr int64_t kHeaderOffset = 40;
constexpr int64_t kAlign = 4096;
constexpr uint64_t kCheckSalt = 0x5ae5c0ffee5eed01ULL;
inline uint64_t check_word(uint64_t windows, uint64_t rows) {
  return windows ^ (rows * 0x9e3779b97f4a7c15ULL) ^ kCheckSalt;
}
}  // namespace cache_layout

}  // namespace saescope::sae
