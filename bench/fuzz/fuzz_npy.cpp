// numpy arrays (core/io/npy.h): an input starting "PK" is an .npz archive read
// from a file by read_npz; any other input is one .npy file's bytes for
// parse_npy. Every tensor read is copied whole, so each byte is touched.
#include <ATen/ATen.h>

#include "bench/fuzz/fuzz_common.h"
#include "core/io/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  saescope::fuzz::expect_input_errors_only([&] {
    if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
      const std::string& path = saescope::fuzz::write_temp(data, size, "npz");
      for (const auto& [key, t] : saescope::io::read_npz(path)) (void)t.clone();
    } else {
      const std::string bytes(reinterpret_cast<const char*>(data), size);
      (void)saescope::io::parse_npy(bytes, "fuzz.npy").clone();
    }
  });
  return 0;
}
