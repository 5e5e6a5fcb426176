#include "core/common/runtime_info.h"

#include <ATen/Parallel.h>
#include <ATen/Context.h>
#include <fstream>
#include <thread>
#include <torch/version.h>

namespace saescope {
namespace {

// The BLAS that LibTorch actually calls is whatever libblas.so.3 the dynamic
// linker mapped (Debian's alternatives choose it), so read it from our maps.
std::string mapped_blas_library() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    std::string path = line.substr(slash);
    auto base = path.substr(path.rfind('/') + 1);
    if (base.find("blas") != std::string::npos || base.find("mkl") != std::string::npos)
      return path;
  }
  return "";
}

}  // namespace

RuntimeInfo runtime_info() {
  RuntimeInfo info;
  info.saescope_version = SAESCOPE_VERSION;
  info.torch_version = std::to_string(TORCH_VERSION_MAJOR) + "." +
                       std::to_string(TORCH_VERSION_MINOR) + "." +
                       std::to_string(TORCH_VERSION_PATCH);
  info.blas_library = mapped_blas_library();
  const auto& b = info.blas_library;
  info.blas_is_optimised = b.find("openblas") != std::string::npos ||
                           b.find("mkl") != std::string::npos ||
                           b.find("blis") != std::string::npos;
  info.intra_op_threads = at::get_num_threads();
  info.hardware_threads = static_cast<int>(std::thread::hardware_concurrency());
  info.cuda_available = at::hasCUDA();
  info.cuda_device_count = info.cuda_available ? static_cast<int>(at::getNumGPUs()) : 0;
  return info;
}

void set_engine_threads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::thread::hardware_concurrency());
  if (threads > 0) at::set_num_threads(threads);
}

}  // namespace saescope
