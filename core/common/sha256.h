#pragma once
// SHA-256 (FIPS 180-4), for content hashes that key cached results: a changed
// model, SAE or corpus file must never return a stale result.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace saescope {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  void update(const std::string& s) { update(s.data(), s.size()); }
  std::string hex_digest();  // finalises; the object is spent afterwards

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t total_ = 0;
};

std::string sha256_hex(const std::string& bytes);
// Hash of a file's bytes (streamed); throws InputError naming the file if unreadable.
std::string sha256_file(const std::string& path);

// Content hash of a file, or of a folder: its regular files' relative names and
// hashes, sorted (hidden files skipped). `file_hash` hashes one file (a cache
// may stand in for sha256_file). InputError when the path does not exist.
std::string sha256_tree(const std::string& path,
                        const std::function<std::string(const std::string&)>& file_hash = sha256_file);

}  // namespace saescope
