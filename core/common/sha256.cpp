#include "core/common/sha256.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include <openssl/evp.h>

#include "core/common/error.h"

namespace saescope {
namespace {

EVP_MD_CTX* ctx(void* p) { return static_cast<EVP_MD_CTX*>(p); }

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx(ctx_), EVP_sha256(), nullptr) != 1)
    throw InternalError("OpenSSL: cannot start a SHA-256 digest");
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx(ctx_)); }

void Sha256::update(const void* data, size_t size) {
  if (size && EVP_DigestUpdate(ctx(ctx_), data, size) != 1) throw InternalError("OpenSSL: SHA-256 update failed");
}

std::string Sha256::hex_digest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx(ctx_), digest, &n) != 1) throw InternalError("OpenSSL: SHA-256 final failed");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

std::string sha256_hex(const std::string& bytes) {
  Sha256 h;
  h.update(bytes);
  return h.hex_digest();
}

std::string sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open for hashing");
  Sha256 h;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.update(buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) throw InputError(path + ": read error while hashing");
  return h.hex_digest();
}

std::string sha256_tree(const std::string& path,
                        const std::function<std::string(const std::string&)>& file_hash) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path + ": no such file or folder");
  if (!fs::is_directory(path)) return file_hash(path);
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(path)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = fs::relative(e.path(), path).generic_string();
    if (rel.empty() || rel[0] == '.' || rel.find("/.") != std::string::npos) continue;
    files.push_back(rel);
  }
  std::sort(files.begin(), files.end());
  Sha256 h;
  for (const auto& rel : files) {
    h.update(rel);
    h.update("\n", 1);
    h.update(file_hash((fs::path(path) / rel).string()));
    h.update("\n", 1);
  }
  return h.hex_digest();
}

}  // namespace saescope
