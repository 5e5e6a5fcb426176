#include "core/model/checkpoint_reader.h"

#include <ATen/ATen.h>

#include <filesystem>

#include "core/common/error.h"
#include "core/io/safetensors.h"

namespace saescope::model {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

CheckpointReader::CheckpointReader(const std::string& path, const std::vector<std::string>& prefixes,
                                   const std::string& probe, std::string shape_context,
                                   c10::Device device, at::ScalarType dtype)
    : checkpoint_(std::make_unique<io::SafetensorsCheckpoint>(io::SafetensorsCheckpoint::open(path))),
      context_(std::move(shape_context)), device_(device), dtype_(dtype) {
  for (const std::string& p : prefixes)
    if (checkpoint_->has(p + probe)) {
      prefix_ = p;
      return;
    }
  std::string tried;
  for (const std::string& p : prefixes) tried += (tried.empty() ? "'" : ", '") + p + probe + "'";
  throw InputError(checkpoint_->path() + ": none of " + tried +
                   " is in the checkpoint: not this model family's Hugging Face layout");
}

CheckpointReader::~CheckpointReader() = default;

const std::string& CheckpointReader::path() const { return checkpoint_->path(); }

bool CheckpointReader::has(const std::string& name) const { return checkpoint_->has(prefix_ + name); }

at::Tensor CheckpointReader::get(const std::string& name, const std::vector<int64_t>& shape) const {
  return get_unprefixed(prefix_ + name, shape);
}

at::Tensor CheckpointReader::get_unprefixed(const std::string& full, const std::vector<int64_t>& shape) const {
  if (!checkpoint_->has(full))
    throw InputError(checkpoint_->path() + ": tensor '" + full + "' is missing (" + context_ + ")");
  const io::TensorInfo& info = checkpoint_->info(full);
  const std::string& file = checkpoint_->file_of(full);
  if (info.dtype != "F32" && info.dtype != "F16" && info.dtype != "BF16")
    throw InputError(file + ": tensor '" + full + "' has dtype " + info.dtype +
                     "; model weights must be F32, F16 or BF16");
  if (info.shape != shape)
    throw InputError(file + ": tensor '" + full + "' has shape " + shape_text(info.shape) + " but " +
                     context_ + " needs " + shape_text(shape));
  // A no-op (the memory-mapped view itself) when dtype and device already match.
  const at::Tensor mapped = checkpoint_->tensor(full);
  at::Tensor out = mapped.to(device_, dtype_);
  // Converted (BF16 -> float32, or to the GPU): the file's pages need not stay
  // resident, so loading peaks near the converted size, not 1.5x it.
  if (!out.is_same(mapped) && out.data_ptr() != mapped.data_ptr()) checkpoint_->release(full);
  return out;
}

at::Tensor CheckpointReader::get_rows(const std::vector<std::pair<std::string, std::vector<int64_t>>>& parts) const {
  if (parts.empty()) return {};
  std::vector<at::Tensor> pieces;
  for (const auto& [name, shape] : parts) pieces.push_back(get(name, shape));
  at::Tensor out = at::cat(pieces, 0);
  pieces.clear();
  for (const auto& part : parts) checkpoint_->release(prefix_ + part.first);
  return out;
}

std::string checkpoint_in(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path folder(dir);
  fs::path weights = folder / "model.safetensors";
  if (!fs::exists(weights)) weights = folder / "model.safetensors.index.json";
  if (!fs::exists(weights))
    throw InputError(dir + ": model.safetensors (or model.safetensors.index.json) is missing" +
                     (fs::exists(folder / "pytorch_model.bin")
                          ? std::string("; pytorch_model.bin is not read, only safetensors weights")
                          : std::string()));
  return weights.string();
}

}  // namespace saescope::model
