#pragma once
// Fetches a family's Hugging Face-named tensors from a checkpoint (one file or
// shards), checked for dtype and shape, converted to the compute device and
// dtype one tensor at a time, so a BF16 checkpoint loaded for float32 peaks
// at about the float32 size. A float32 CPU load stays a view of the mapping.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <memory>
#include <string>
#include <vector>

namespace saescope::io {
class SafetensorsCheckpoint;
}

namespace saescope::model {

class CheckpointReader {
 public:
  // `prefixes`: tried in order, the first under which `probe` exists is used
  // ("" included: `model.` may be written or not). `shape_context` is the
  // config text quoted when a shape is wrong ("config.json: hidden_size 64, ...").
  CheckpointReader(const std::string& path, const std::vector<std::string>& prefixes,
                   const std::string& probe, std::string shape_context, c10::Device device,
                   at::ScalarType dtype);
  ~CheckpointReader();

  at::Tensor get(const std::string& name, const std::vector<int64_t>& shape) const;
  // A tensor beside the prefixed ones (lm_head.weight next to model.*), by its full name.
  at::Tensor get_unprefixed(const std::string& name, const std::vector<int64_t>& shape) const;
  // Several tensors (each checked as get() does) stacked along dim 0 into one
  // new tensor, their mapped pages then released: one matmul where the file
  // has several (q|k|v, gate|up). Undefined when `names` is empty.
  at::Tensor get_rows(const std::vector<std::pair<std::string, std::vector<int64_t>>>& parts) const;
  bool has(const std::string& name) const;
  const std::string& prefix() const { return prefix_; }
  const std::string& path() const;

 private:
  std::unique_ptr<io::SafetensorsCheckpoint> checkpoint_;
  std::string prefix_, context_;
  c10::Device device_;
  at::ScalarType dtype_;
};

// The safetensors weights of a model folder: model.safetensors or its index;
// InputError naming the folder (and pytorch_model.bin, which is not read).
std::string checkpoint_in(const std::string& dir);

}  // namespace saescope::model
