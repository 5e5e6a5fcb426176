#pragma once
// Where and in which precision a model runs, and which TransformerLens weight
// processing it gets. Parsed from the strings users type (CLI, GUI).
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <string>

namespace saescope::model {

struct ModelOptions {
  c10::Device device = c10::Device(c10::kCPU);
  at::ScalarType dtype = at::kFloat;     // float32 or bfloat16
  bool center_writing_weights = false;   // see center_writing_weights() in gpt2_weights.h
  // TransformerLens's fold_value_biases: b_V moved into b_O (families with
  // value biases: GPT-2, NeoX, Qwen 2), so hook_v and hook_z lose it and
  // nothing after attention changes.
  bool fold_value_biases = false;
};

// "cpu", "cuda", "cuda:N". InputError for anything else, or for CUDA when this
// LibTorch was built without it.
c10::Device parse_device(const std::string& text);

// "float32" or "bfloat16"; InputError otherwise.
at::ScalarType parse_dtype(const std::string& text);
std::string dtype_name(at::ScalarType dtype);

}  // namespace saescope::model
