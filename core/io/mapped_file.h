#pragma once
// A whole file mapped into memory. Shared ownership lets tensors that alias the
// bytes keep the mapping alive after the object that opened it is gone.
#include <cstdint>
#include <memory>
#include <string>

namespace saescope::io {

class MappedFile {
 public:
  // Maps `path` copy-on-write (MAP_PRIVATE, readable and writable): an
  // accidental in-place op on an aliasing tensor then changes only this
  // process's copy of a page instead of crashing or touching the file.
  // Throws InputError naming the file when it cannot be opened or mapped.
  static std::shared_ptr<const MappedFile> map(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  uint8_t* mutable_data() const { return data_; }  // for from_blob; see map()
  uint64_t size() const { return size_; }
  // Gives the pages of [offset, offset + length) back to the kernel (they are
  // read again from the file if touched): after a tensor was converted, its
  // mapped bytes need not stay resident. Whole pages inside the range only.
  void release(uint64_t offset, uint64_t length) const;

 private:
  MappedFile() = default;
  uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace saescope::io
