#pragma once
// What the engine runs on: versions, BLAS library, threads, CUDA. Printed by
// `saescope-cli info` and shown in the GUI's About box.
#include <string>

namespace saescope {

struct RuntimeInfo {
  std::string saescope_version;
  std::string torch_version;
  std::string blas_library;   // resolved path of the BLAS actually mapped into the process
  bool blas_is_optimised = false;  // false for the reference BLAS (~30x slower)
  int intra_op_threads = 0;
  int hardware_threads = 0;
  bool cuda_available = false;
  int cuda_device_count = 0;
};

RuntimeInfo runtime_info();

// Threads = cores unless the user chose; called once at start by the apps.
void set_engine_threads(int threads /* <= 0 means all cores */);

}  // namespace saescope
