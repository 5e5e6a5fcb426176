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
  at::Tensor tensor(const std::string& name) const;

 private:
  SafetensorsFile() = default;
  std::string path_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
  std::shared_ptr<void> mapping_;   // munmap on last release
  const uint8_t* data_ = nullptr;   // first byte after the header
  uint64_t data_size_ = 0;
};

// A checkpoint that may be one file or several shards: `path` is a .safetensors
// file, a `*.safetensors.index.json`, or a folder holding either
// model.safetensors or model.safetensors.index.json.
class SafetensorsCheckpoint {
 public:
  static SafetensorsCheckpoint open(const std::string& path);
  std::vector<std::string> names() const;  // sorted
  bool has(const std::string& name) const;
  const TensorInfo& info(const std::string& name) const;
  at::Tensor tensor(const std::string& name) const;
  const std::string& file_of(const std::string& name) const;  // for error messages

 private:
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::map<std::string, size_t> where_;
};

// Write tensors (any device / layout; converted to contiguous CPU) atomically:
// a temp file beside `path`, fsync, rename. Header padded to 8 bytes.
void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace saescope::io
