// safetensors files (core/io/safetensors.h): the header and every tensor's
// bytes, copied whole so each byte is touched.
#include <ATen/ATen.h>

#include "bench/fuzz/fuzz_common.h"
#include "core/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = saescope::fuzz::write_temp(data, size, "safetensors");
  saescope::fuzz::expect_input_errors_only([&] {
    auto file = saescope::io::SafetensorsFile::open(path);
    (void)file->metadata();
    for (const auto& info : file->tensors()) {
      if (!file->has(info.name)) std::abort();
      (void)file->is_zero_copy(info.name);
      saescope::fuzz::expect_input_errors_only([&] { (void)file->tensor(info.name).clone(); });
      file->release(info.name);
    }
  });
  return 0;
}
