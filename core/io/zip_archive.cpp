// The zip reader: find the end-of-central-directory record (and its ZIP64
// twin), read every central header up front, so a bad archive fails at open;
// members are read, inflated and CRC-checked on demand. Layout: PKWARE's
// APPNOTE.TXT, sections 4.3 (records) and 4.5.3 (the ZIP64 extra field).
#include "core/io/zip_archive.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/common/error.h"
#include "core/io/mapped_file.h"

namespace saescope::io {
namespace {

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50,
                   kZip64EndSig = 0x06064b50, kZip64LocatorSig = 0x07064b50;
constexpr uint64_t kEndSize = 22, kCentralSize = 46, kLocalSize = 30, kLocatorSize = 20,
                   kZip64EndSize = 56;
// Deflate cannot expand a byte into more than ~1032 bytes: a declared size
// beyond that is a lie, refused before the output is allocated.
constexpr uint64_t kMaxDeflateRatio = 1032;

uint16_t le16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }
uint32_t le32(const uint8_t* p) { return uint32_t(le16(p)) | uint32_t(le16(p + 2)) << 16; }
uint64_t le64(const uint8_t* p) { return uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32; }

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw InputError(path + ": " + what);
}

std::string in_quotes(const std::string& s) { return "'" + s + "'"; }

std::string method_name(uint16_t m) {
  switch (m) {
    case 12: return "12 (bzip2)";
    case 14: return "14 (LZMA)";
    case 93: return "93 (Zstandard)";
    case 95: return "95 (XZ)";
    case 99: return "99 (AES encryption)";
    default: return std::to_string(m);
  }
}

// Flag bit 0: traditional encryption; bit 6: strong encryption.
bool encrypted(uint16_t flags) { return (flags & 0x41) != 0; }

bool safe_name(const std::string& name) {
  if (name.empty() || name[0] == '/' || name.find('\0') != std::string::npos) return false;
  size_t begin = 0;
  while (begin <= name.size()) {
    size_t end = name.find_first_of("/\\", begin);
    if (end == std::string::npos) end = name.size();
    if (name.compare(begin, end - begin, "..") == 0) return false;
    begin = end + 1;
  }
  return true;
}

// The last end-of-central-directory signature whose comment fits in the file
// (the record sits at the end, followed only by a comment of up to 64 KiB).
uint64_t find_end_record(const std::string& path, const uint8_t* data, uint64_t size) {
  const char* none = "not a zip archive (no end-of-central-directory record)";
  if (size < kEndSize) fail(path, none);
  const uint64_t lowest = size > kEndSize + 0xFFFF ? size - kEndSize - 0xFFFF : 0;
  for (uint64_t pos = size - kEndSize;; --pos) {
    if (le32(data + pos) == kEndSig && pos + kEndSize + le16(data + pos + 20) <= size) return pos;
    if (pos == lowest) break;
  }
  fail(path, none);
}

struct Directory {
  uint64_t count = 0, offset = 0, size = 0;
};

Directory read_end_records(const std::string& path, const uint8_t* data, uint64_t size) {
  const uint64_t end = find_end_record(path, data, size);
  const uint8_t* e = data + end;
  if (le16(e + 4) != 0 || le16(e + 6) != 0 || le16(e + 8) != le16(e + 10))
    fail(path, "a multi-disk (split) zip archive, which is not read");
  Directory dir{le16(e + 10), le32(e + 16), le32(e + 12)};
  const bool has_locator = end >= kLocatorSize && le32(data + end - kLocatorSize) == kZip64LocatorSig;
  if (has_locator) {
    const uint8_t* loc = data + end - kLocatorSize;
    const uint64_t at = le64(loc + 8);
    if (le32(loc + 4) != 0 || le32(loc + 16) > 1)
      fail(path, "a multi-disk (split) zip archive, which is not read");
    if (at > size || size - at < kZip64EndSize || le32(data + at) != kZip64EndSig)
      fail(path, "ZIP64 end-of-central-directory locator points to offset " + std::to_string(at) +
                     ", where there is no ZIP64 end record (file of " + std::to_string(size) + " bytes)");
    const uint8_t* z = data + at;
    if (le32(z + 16) != 0 || le32(z + 20) != 0 || le64(z + 24) != le64(z + 32))
      fail(path, "a multi-disk (split) zip archive, which is not read");
    dir = {le64(z + 32), le64(z + 48), le64(z + 40)};
  } else if (dir.count == 0xFFFF || dir.offset == 0xFFFFFFFF || dir.size == 0xFFFFFFFF) {
    fail(path, "end-of-central-directory record defers to a ZIP64 record that is missing");
  }
  if (dir.offset > size || dir.size > size - dir.offset)
    fail(path, "truncated: the central directory (" + std::to_string(dir.size) + " bytes at offset " +
                   std::to_string(dir.offset) + ") runs past the end of the file (" +
                   std::to_string(size) + " bytes)");
  if (dir.count > dir.size / kCentralSize)
    fail(path, "central directory claims " + std::to_string(dir.count) + " entries but holds only " +
                   std::to_string(dir.size) + " bytes");
  return dir;
}

// Values a 32-bit field defers to the ZIP64 extra field (id 1), in the order
// the fields appear: uncompressed size, compressed size, local header offset.
void apply_zip64_extra(const std::string& where, const uint8_t* extra, uint16_t length,
                       uint64_t* fields[3], bool wanted[3]) {
  for (uint32_t pos = 0; pos + 4 <= length;) {
    const uint16_t id = le16(extra + pos), n = le16(extra + pos + 2);
    if (pos + 4 + n > length) break;
    if (id == 1) {
      uint32_t at = pos + 4;
      for (int i = 0; i < 3; ++i) {
        if (!wanted[i]) continue;
        if (at + 8 > pos + 4u + n) fail(where, "ZIP64 extra field too short for its sizes");
        *fields[i] = le64(extra + at);
        wanted[i] = false;
        at += 8;
      }
    }
    pos += 4 + n;
  }
  if (wanted[0] || wanted[1] || wanted[2]) fail(where, "size field says ZIP64 but has no ZIP64 extra field");
}

uint32_t crc_of(const uint8_t* p, uint64_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (n > 0) {
    const uInt chunk = uInt(std::min<uint64_t>(n, UINT_MAX));
    crc = crc32(crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return uint32_t(crc);
}

// Raw deflate (no zlib header) into exactly `expected` bytes: one spare byte
// of output space tells "inflates to more than declared" from a clean end.
std::string inflate_raw(const std::string& where, const uint8_t* in, uint64_t in_size, uint64_t expected) {
  std::string out(expected + 1, '\0');
  z_stream s{};
  if (inflateInit2(&s, -MAX_WBITS) != Z_OK) throw InternalError(where + ": zlib inflateInit2 failed");
  uint64_t in_left = in_size, out_left = out.size();
  s.next_in = const_cast<Bytef*>(in);
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  int ret = Z_OK;
  while (ret != Z_STREAM_END) {
    const uInt give_in = uInt(std::min<uint64_t>(in_left, UINT_MAX));
    const uInt give_out = uInt(std::min<uint64_t>(out_left, UINT_MAX));
    s.avail_in = give_in;
    s.avail_out = give_out;
    ret = inflate(&s, Z_NO_FLUSH);
    in_left -= give_in - s.avail_in;
    out_left -= give_out - s.avail_out;
    if (ret == Z_STREAM_END) break;
    if (out_left == 0 || (ret == Z_BUF_ERROR && in_left == 0) || ret != Z_OK) {
      const std::string msg = s.msg ? s.msg : "";
      inflateEnd(&s);
      if (out_left == 0) fail(where, "inflates to more than its declared " + std::to_string(expected) + " bytes");
      if (ret == Z_OK || ret == Z_BUF_ERROR) fail(where, "deflated data ends before the end of its stream (truncated)");
      fail(where, "corrupt deflated data" + (msg.empty() ? std::string() : ": " + msg));
    }
  }
  inflateEnd(&s);
  const uint64_t produced = out.size() - out_left;
  if (produced != expected)
    fail(where, "inflates to " + std::to_string(produced) + " bytes, not its declared " + std::to_string(expected));
  out.resize(expected);
  return out;
}

}  // namespace

ZipArchive::~ZipArchive() = default;

std::unique_ptr<ZipArchive> ZipArchive::open(const std::string& path) {
  std::unique_ptr<ZipArchive> zip(new ZipArchive());
  zip->path_ = path;
  zip->file_ = MappedFile::map(path);
  const uint8_t* data = zip->file_->data();
  const uint64_t size = zip->file_->size();
  const Directory dir = read_end_records(path, data, size);

  uint64_t pos = dir.offset;
  const uint64_t dir_end = dir.offset + dir.size;
  for (uint64_t i = 0; i < dir.count; ++i) {
    const std::string at = "central directory entry " + std::to_string(i);
    if (dir_end - pos < kCentralSize || le32(data + pos) != kCentralSig)
      fail(path, "truncated or corrupt central directory (" + at + " is not a central header)");
    const uint8_t* h = data + pos;
    const uint16_t name_len = le16(h + 28), extra_len = le16(h + 30), comment_len = le16(h + 32);
    if (dir_end - pos - kCentralSize < uint64_t(name_len) + extra_len + comment_len)
      fail(path, "truncated central directory (" + at + " runs past its end)");
    Entry e;
    e.name.assign(reinterpret_cast<const char*>(h + kCentralSize), name_len);
    const std::string where = path + ": member " + in_quotes(e.name);
    if (!safe_name(e.name))
      fail(path, "member name " + in_quotes(e.name) + " is empty, absolute, holds NUL or a '..' component");
    if (zip->index_.count(e.name)) fail(path, "member name " + in_quotes(e.name) + " appears twice");
    const uint16_t flags = le16(h + 8);
    e.method = le16(h + 10);
    if (encrypted(flags) || e.method == 99) fail(where, "is encrypted, which is not read");
    if (e.method != 0 && e.method != 8)
      fail(where, "uses compression method " + method_name(e.method) +
                      "; only stored (0) and deflated (8) members are read");
    if (le16(h + 34) != 0 && le16(h + 34) != 0xFFFF) fail(path, "a multi-disk (split) zip archive, which is not read");
    e.crc = le32(h + 16);
    e.compressed = le32(h + 20);
    e.uncompressed = le32(h + 24);
    e.local_offset = le32(h + 42);
    uint64_t* fields[3] = {&e.uncompressed, &e.compressed, &e.local_offset};
    bool wanted[3] = {e.uncompressed == 0xFFFFFFFF, e.compressed == 0xFFFFFFFF, e.local_offset == 0xFFFFFFFF};
    apply_zip64_extra(where, h + kCentralSize + name_len, extra_len, fields, wanted);

    if (e.local_offset > size || e.compressed > size - e.local_offset)
      fail(where, "sizes point past the end of the file (" + std::to_string(e.compressed) +
                      " bytes at offset " + std::to_string(e.local_offset) + ", file of " +
                      std::to_string(size) + " bytes)");
    if (e.method == 0 && e.compressed != e.uncompressed)
      fail(where, "is stored but its compressed size " + std::to_string(e.compressed) +
                      " differs from its size " + std::to_string(e.uncompressed));
    if (e.method == 8 && e.uncompressed / kMaxDeflateRatio > e.compressed + 1)
      fail(where, "declares " + std::to_string(e.uncompressed) + " bytes, more than its " +
                      std::to_string(e.compressed) + " deflated bytes can hold");
    zip->index_[e.name] = zip->entries_.size();
    zip->entries_.push_back(std::move(e));
    pos += kCentralSize + name_len + extra_len + comment_len;
  }
  return zip;
}

std::vector<std::string> ZipArchive::names() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const Entry& e : entries_) out.push_back(e.name);
  return out;
}

bool ZipArchive::has(const std::string& name) const { return index_.count(name) != 0; }

const ZipArchive::Entry& ZipArchive::entry(const std::string& name) const {
  const auto it = index_.find(name);
  if (it == index_.end()) fail(path_, "has no member " + in_quotes(name));
  return entries_[it->second];
}

uint64_t ZipArchive::size(const std::string& name) const { return entry(name).uncompressed; }

std::string ZipArchive::read(const std::string& name) const {
  const Entry& e = entry(name);
  const std::string where = path_ + ": member " + in_quotes(name);
  const uint8_t* data = file_->data();
  const uint64_t size = file_->size();
  // The local header repeats the name and has its own extra field (torch pads
  // it to align tensor data): only its lengths are needed to find the data.
  if (size - e.local_offset < kLocalSize || le32(data + e.local_offset) != kLocalSig)
    fail(where, "has no local header at offset " + std::to_string(e.local_offset));
  const uint8_t* h = data + e.local_offset;
  const uint64_t name_len = le16(h + 26), extra_len = le16(h + 28);
  if (encrypted(le16(h + 6))) fail(where, "is encrypted, which is not read");
  const uint64_t begin = e.local_offset + kLocalSize + name_len + extra_len;
  if (begin > size || e.compressed > size - begin)
    fail(where, "data (" + std::to_string(e.compressed) + " bytes at offset " + std::to_string(begin) +
                    ") runs past the end of the file (" + std::to_string(size) + " bytes)");
  if (name_len != e.name.size() || std::memcmp(h + kLocalSize, e.name.data(), name_len) != 0)
    fail(where, "local header names a different member");

  std::string out = e.method == 0 ? std::string(reinterpret_cast<const char*>(data + begin), e.compressed)
                                  : inflate_raw(where, data + begin, e.compressed, e.uncompressed);
  const uint32_t crc = crc_of(reinterpret_cast<const uint8_t*>(out.data()), out.size());
  if (crc != e.crc) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "CRC-32 mismatch (0x%08x computed, 0x%08x recorded)", crc, e.crc);
    fail(where, std::string(buf) + ": the member is corrupt");
  }
  return out;
}

bool looks_like_zip(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  if (!in.read(magic, 4)) return false;
  return magic[0] == 'P' && magic[1] == 'K' &&
         ((magic[2] == 3 && magic[3] == 4) || (magic[2] == 5 && magic[3] == 6));
}

}  // namespace saescope::io
