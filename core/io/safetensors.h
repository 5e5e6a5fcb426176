#pragma once
// safetensors: read by memory-mapping (tensors alias the mapping, no copy,
// where the dtype maps to a LibTorch dtype), sharded checkpoints through
// `model.safetensors.index.json`, and atomic writes. Format: ../shared/docs/formats.md.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace saescope::io {

class MappedFile;

// One entry of a safetensors header, validated.
struct TensorInfo {
  std::string name;
  std::string dtype;            // as written in the file: "F32", "BF16", ...
  std::vector<int64_t> shape;
  uint64_t begin = 0;           // byte offsets relative to the data area
  uint64_t end = 0;
};

// An open, validated, memory-mapped safetensors file. Tensors returned by
// tensor() share ownership of the mapping, so they stay valid after the
// SafetensorsFile handle itself is dropped.
class SafetensorsFile {
 public:
  // Throws InputError naming the file (and tensor) for every malformation.
  static std::shared_ptr<SafetensorsFile> open(const std::string& path);
  ~SafetensorsFile();

  const std::string& path() const { return path_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // in file order
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  bool has(const std::string& name) const;
  const TensorInfo& info(const std::string& name) const;  // throws InputError if absent
  // CPU tensor viewing the mapped bytes (read-only: do not write into it).
  // Every call for a name returns a view of the same bytes. The mapping is
  // copy-on-write, so a stray in-place op never reaches the file (nor
  // crashes), but it is seen by other views of that tensor in this process.
  // Copies instead of aliasing when the dtype has no LibTorch counterpart
  // (U16 -> int32, U32/U64 -> int64, F8_E4M3/F8_E5M2 -> float32) or when the
  // bytes are not aligned to the element size. Zero-element tensors are fresh.
  // Throws InputError for a U64 value above INT64_MAX.
  at::Tensor tensor(const std::string& name) const;
  // True when tensor(name) aliases the mapping rather than copying.
  bool is_zero_copy(const std::string& name) const;
  // The tensor's bytes need not stay resident (it was converted and no view
  // of it is kept): see MappedFile::release. A view still held reads them again.
  void release(const std::string& name) const;

 private:
  SafetensorsFile() = default;
  std::string path_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
  std::shared_ptr<const MappedFile> mapping_;   // munmap on last release
  const uint8_t* data_ = nullptr;   // first byte after the header
  uint64_t data_size_ = 0;
};

// A checkpoint that may be one file or several shards: `path` is a .safetensors
// file, a `*.safetensors.index.json`, or a folder holding either
// model.safetensors or model.safetensors.index.json (failing those, its only
// *.safetensors.index.json or its only *.safetensors). Only the tensors the
// index's weight_map lists are visible; one listed but absent from its shard
// is an InputError naming the tensor, the shard and the index.
class SafetensorsCheckpoint {
 public:
  static SafetensorsCheckpoint open(const std::string& path);
  std::vector<std::string> names() const;  // sorted
  bool has(const std::string& name) const;
  const TensorInfo& info(const std::string& name) const;
  at::Tensor tensor(const std::string& name) const;
  const std::string& file_of(const std::string& name) const;  // for error messages
  void release(const std::string& name) const;                 // SafetensorsFile::release
  const std::string& path() const { return path_; }  // the file or index opened
  // A single file's `__metadata__`; for a sharded checkpoint, the index's
  // "metadata" object (non-string values such as total_size as JSON text).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::vector<std::shared_ptr<SafetensorsFile>>& files() const { return files_; }

 private:
  std::string path_;
  std::map<std::string, std::string> metadata_;
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::map<std::string, size_t> where_;
};

// Write tensors (any device / layout; converted to contiguous CPU) atomically:
// a temp file beside `path`, fsync, rename. Header padded to 8 bytes, data in
// the given order with no gaps. Throws InputError naming the file (and tensor)
// for an undefined tensor, a dtype safetensors cannot hold (complex,
// quantised), a meta tensor, a repeated or reserved name, or an I/O failure;
// the previous file at `path` is then left as it was.
void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace saescope::io
