#pragma once
// Shared by the libFuzzer harnesses (bench/fuzz/fuzz_*.cpp). A harness feeds
// arbitrary bytes to one parser: an InputError (JsonError is one) is the
// parser refusing bad input, the expected outcome. Any other exception, a
// crash, a sanitizer report, a hang or an allocation over the limit that
// run.sh sets (-rss_limit_mb / -malloc_limit_mb 2048) is a finding.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "core/common/error.h"

namespace saescope::fuzz {

// A file under /dev/shm unique to this process (one per suffix), removed at exit.
inline const std::string& temp_path(const std::string& suffix) {
  static const std::string base = "/dev/shm/saescope-fuzz-" + std::to_string(::getpid()) + "-";
  static std::string paths[8];
  static int used = 0;
  for (int i = 0; i < used; ++i)
    if (paths[i] == base + suffix) return paths[i];
  if (used == 8) std::abort();
  paths[used] = base + suffix;
  static bool registered = false;
  if (!registered) {
    registered = true;
    std::atexit([] {
      for (int i = 0; i < used; ++i) ::unlink(paths[i].c_str());
    });
  }
  return paths[used++];
}

// Writes the input to temp_path(suffix) and returns that path.
inline const std::string& write_temp(const uint8_t* data, size_t size, const std::string& suffix) {
  const std::string& path = temp_path(suffix);
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

// Runs `body`; an InputError is the expected refusal. Anything else is
// reported with its message and aborts, so libFuzzer saves the input.
template <class F>
void expect_input_errors_only(F&& body) {
  try {
    body();
  } catch (const InputError& e) {
    // refused: fine. SAESCOPE_FUZZ_VERBOSE=1 shows why (to check that seeds read).
    static const bool verbose = std::getenv("SAESCOPE_FUZZ_VERBOSE") != nullptr;
    if (verbose) std::fprintf(stderr, "refused: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FINDING: exception other than InputError: %s\n", e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "FINDING: non-std exception\n");
    std::abort();
  }
}

}  // namespace saescope::fuzz
