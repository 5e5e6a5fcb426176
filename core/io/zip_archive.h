#pragma once
// A read-only zip reader for the containers SAE weights ship in: numpy's .npz
// and PyTorch's torch.save files are both zip archives. Reads what numpy and
// torch write (stored or deflated members, ZIP64 for big members and archives,
// an archive comment) and refuses the rest with an InputError naming the file
// and the fault: encrypted members, other compression methods, multi-disk
// archives, member names with a `..` component, leading '/' or NUL, repeated
// names, size fields that point past the end of the file, a deflated member
// that does not inflate to exactly its declared size, a CRC-32 mismatch.
// Every size is checked against the file's size before anything is allocated.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace saescope::io {

class MappedFile;

class ZipArchive {
 public:
  // Reads the central directory; InputError naming `path` for any fault.
  static std::unique_ptr<ZipArchive> open(const std::string& path);
  ~ZipArchive();

  const std::string& path() const { return path_; }
  std::vector<std::string> names() const;  // in archive (central directory) order
  bool has(const std::string& name) const;
  uint64_t size(const std::string& name) const;  // uncompressed; InputError if absent
  // The whole member, inflated and CRC-checked; InputError naming the file and
  // the member for an absent member or any fault in its bytes.
  std::string read(const std::string& name) const;

 private:
  struct Entry {
    std::string name;
    uint16_t method = 0;  // 0 stored, 8 deflated
    uint32_t crc = 0;
    uint64_t compressed = 0, uncompressed = 0;
    uint64_t local_offset = 0;  // of the local header
  };

  ZipArchive() = default;
  const Entry& entry(const std::string& name) const;
  std::string path_;
  std::shared_ptr<const MappedFile> file_;
  std::vector<Entry> entries_;
  std::map<std::string, size_t> index_;
};

// True when the file starts like a zip archive: "PK\3\4" (a first local
// header) or "PK\5\6" (an empty archive). False for unreadable files.
bool looks_like_zip(const std::string& path);

}  // namespace saescope::io
