// Writing safetensors: validate everything that can be known up front, then
// stream the header and each tensor's bytes through an AtomicFileWriter so a
// failure at any point leaves the previous file as it was.
#include <ATen/ATen.h>

#include <nlohmann/json.hpp>
#include <set>

#include "core/common/error.h"
#include "core/io/atomic_file.h"
#include "core/io/safetensors.h"
#include "core/io/safetensors_dtype.h"

namespace saescope::io {

void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    const std::string where = path + ": tensor '" + name + "': ";
    if (name == "__metadata__") throw InputError(where + "name is reserved for metadata");
    if (!seen.insert(name).second) throw InputError(where + "name given twice");
    if (!t.defined()) throw InputError(where + "undefined tensor");
    const auto dtype = dtype_name_of(t.scalar_type());
    if (!dtype)
      throw InputError(where + "dtype " + std::string(c10::toString(t.scalar_type())) +
                       " has no safetensors equivalent");
    const uint64_t nbytes = static_cast<uint64_t>(t.numel()) * t.element_size();
    header[name] = {{"dtype", *dtype}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }

  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {  // e.g. a name or value that is not UTF-8
    throw InputError(path + ": cannot write the header: " + e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // data starts 8-byte aligned
  const uint64_t header_len = text.size();

  AtomicFileWriter out(path);
  out.write(&header_len, sizeof header_len);  // little-endian host
  out.write(text.data(), text.size());
  for (const auto& [name, t] : tensors) {
    // One tensor at a time on the CPU, so a GPU checkpoint never needs a full host copy.
    at::Tensor cpu;
    try {
      cpu = t.is_sparse() ? t.to_dense() : t;
      cpu = cpu.to(at::kCPU).resolve_conj().resolve_neg().contiguous();
    } catch (const c10::Error& e) {  // e.g. a meta tensor: it has no bytes to write
      throw InputError(path + ": tensor '" + name + "': cannot be copied to the CPU: " +
                       e.what_without_backtrace());
    }
    out.write(cpu.data_ptr(), static_cast<size_t>(cpu.numel()) * cpu.element_size());
  }
  out.commit();
}

}  // namespace saescope::io
