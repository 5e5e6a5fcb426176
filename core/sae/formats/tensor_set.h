#pragma once
// A reader's tensors from one file, taken by name: a missing tensor, a wrong
// shape or a tensor no reader took is an InputError naming the file.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace saescope::sae {

class TensorSet {
 public:
  TensorSet(std::string file, std::vector<std::pair<std::string, at::Tensor>> tensors);
  static TensorSet from_safetensors(const std::string& path);

  const std::string& file() const { return file_; }
  bool has(const std::string& name) const;
  // The first of `names` present (releases differ in case: W_enc / w_enc),
  // as float32; InputError naming the file and listing what it holds.
  at::Tensor take(std::initializer_list<const char*> names);
  at::Tensor take(const char* name) { return take({name}); }
  // As take(), or undefined when none is present.
  at::Tensor take_optional(std::initializer_list<const char*> names);
  // The tensor as stored, any dtype (integer buffers such as a top-k's `k`),
  // marked taken; undefined when absent.
  at::Tensor take_raw(const std::string& name);
  // Checks a taken tensor's shape: "FILE: tensor `NAME` has shape [..], expected [..]".
  void expect_shape(const at::Tensor& t, const char* name, std::vector<int64_t> shape) const;
  // How `name` is stored ("float32", "bfloat16", ...), as SaeConfig::dtype
  // says it; "float32" for a name the file lacks.
  std::string stored_dtype(const std::string& name) const;
  // InputError when tensors remain that no reader took (the file is not what
  // its layout says: another architecture, another release).
  void expect_all_taken(const std::string& what) const;

 private:
  std::string file_;
  std::vector<std::pair<std::string, at::Tensor>> tensors_;
  std::vector<bool> taken_;
};

std::string shape_string(at::IntArrayRef shape);

}  // namespace saescope::sae
