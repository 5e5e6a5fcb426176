#include "core/model/model_options.h"

#include <ATen/Context.h>
#include <c10/util/Exception.h>

#include "core/common/error.h"

namespace saescope::model {

c10::Device parse_device(const std::string& text) {
  c10::Device device(c10::kCPU);
  try {
    device = c10::Device(text);
  } catch (const c10::Error&) {
    throw InputError("device '" + text + "' is not valid: use cpu, cuda or cuda:N");
  }
  if (!device.is_cpu() && !device.is_cuda())
    throw InputError("device '" + text + "' is not supported: use cpu, cuda or cuda:N");
  if (device.is_cuda() && !at::hasCUDA())
    throw InputError("device '" + text + "': this build of LibTorch has no CUDA (or no GPU is visible)");
  return device;
}

at::ScalarType parse_dtype(const std::string& text) {
  if (text == "float32") return at::kFloat;
  if (text == "bfloat16") return at::kBFloat16;
  throw InputError("dtype '" + text + "' is not supported: use float32 or bfloat16");
}

std::string dtype_name(at::ScalarType dtype) {
  switch (dtype) {
    case at::kFloat: return "float32";
    case at::kBFloat16: return "bfloat16";
    case at::kHalf: return "float16";
    default: return c10::toString(dtype);
  }
}

}  // namespace saescope::model
