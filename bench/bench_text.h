#pragma once
// What the text benchmarks share, without LibTorch: English prose every
// Debian system has, and running a baseline command for its output.
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace bench {

// Debian's licence texts (/usr/share/common-licenses), in a fixed order;
// empty when the folder is missing.
inline std::string common_licenses_text() {
  std::string text;
  for (const char* name : {"GPL-3", "GPL-2", "GPL-1", "LGPL-3", "LGPL-2.1", "LGPL-2", "Apache-2.0",
                           "Artistic", "GFDL-1.3", "GFDL-1.2", "MPL-2.0", "MPL-1.1", "CC0-1.0", "BSD"}) {
    std::ifstream in(std::filesystem::path("/usr/share/common-licenses") / name, std::ios::binary);
    if (!in) continue;
    std::ostringstream s;
    s << in.rdbuf();
    text += s.str() + "\n";
  }
  return text;
}

// `once` repeated, with the copy number between copies, up to `megabytes`.
inline std::string repeated_text(const std::string& once, double megabytes) {
  std::string text;
  for (int copy = 1; !once.empty() && text.size() < megabytes * 1e6; ++copy)
    text += once + "\n(copy " + std::to_string(copy) + ")\n\n";
  return text;
}

// Runs `command` and returns what it wrote to stdout ("" if it cannot start).
inline std::string run_command(const std::string& command) {
  std::string out;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    std::array<char, 4096> buffer;
    while (std::size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
    pclose(pipe);
  }
  return out;
}

}  // namespace bench
