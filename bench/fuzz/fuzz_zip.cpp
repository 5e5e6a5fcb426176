// ZipArchive (core/io/zip_archive.h) on arbitrary files: the central directory,
// every member's size and its inflated, CRC-checked bytes.
#include "bench/fuzz/fuzz_common.h"
#include "core/io/zip_archive.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = saescope::fuzz::write_temp(data, size, "zip");
  saescope::fuzz::expect_input_errors_only([&] {
    (void)saescope::io::looks_like_zip(path);
    auto zip = saescope::io::ZipArchive::open(path);
    for (const std::string& name : zip->names()) {
      if (!zip->has(name)) std::abort();
      const uint64_t declared = zip->size(name);
      saescope::fuzz::expect_input_errors_only([&] {
        const std::string bytes = zip->read(name);
        if (bytes.size() != declared) {
          std::fprintf(stderr, "FINDING: member '%s' read %zu bytes, declared %llu\n", name.c_str(),
                       bytes.size(), (unsigned long long)declared);
          std::abort();
        }
      });
    }
  });
  return 0;
}
