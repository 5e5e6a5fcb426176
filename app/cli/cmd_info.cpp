// `saescope-cli info`: versions, BLAS, threads, CUDA.
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "core/common/runtime_info.h"

namespace saescope::cli {
namespace {

int run_info(bool as_json) {
  RuntimeInfo info = runtime_info();
  if (as_json) {
    nlohmann::json j = {{"saescope", info.saescope_version},
                        {"libtorch", info.torch_version},
                        {"blas", info.blas_library},
                        {"blas_optimised", info.blas_is_optimised},
                        {"threads", info.intra_op_threads},
                        {"hardware_threads", info.hardware_threads},
                        {"cuda", info.cuda_available},
                        {"cuda_devices", info.cuda_device_count},
                        {"omp_wait_policy", std::getenv("OMP_WAIT_POLICY") ? std::getenv("OMP_WAIT_POLICY") : ""},
                        {"glibc_tunables", std::getenv("GLIBC_TUNABLES") ? std::getenv("GLIBC_TUNABLES") : ""}};
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "saescope  " << info.saescope_version << "\n"
            << "libtorch  " << info.torch_version << "\n"
            << "blas      " << (info.blas_library.empty() ? "(none mapped)" : info.blas_library)
            << (info.blas_is_optimised ? "" : "  [reference BLAS: install libopenblas0-pthread]")
            << "\n"
            << "threads   " << info.intra_op_threads << " of " << info.hardware_threads
            << " hardware threads\n"
            << "cuda      "
            << (info.cuda_available ? "available, " + std::to_string(info.cuda_device_count) +
                                          " device(s)"
                                    : std::string("not available"))
            << "\n";
  return 0;
}

const bool registered = register_command(
    "info", "Versions, BLAS library in use, threads, CUDA", [](CLI::App* sub) {
      auto as_json = std::make_shared<bool>(false);
      sub->add_flag("--json", *as_json, "Print as JSON");
      return [as_json] { return run_info(*as_json); };
    });

}  // namespace
}  // namespace saescope::cli
