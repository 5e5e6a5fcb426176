#pragma once
// SHA-256 (FIPS 180-4), for content hashes that key cached results: a changed
// model, SAE or corpus file must never return a stale result. OpenSSL's
// libcrypto computes it (its SHA extensions / AVX2 code runs ~7x a portable
// loop: a 16 GB checkpoint must not cost minutes before anything else).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace saescope {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t size);
  void update(const std::string& s) { update(s.data(), s.size()); }
  std::string hex_digest();  // finalises; the object is spent afterwards

 private:
  void* ctx_;  // EVP_MD_CTX: kept out of this header
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
