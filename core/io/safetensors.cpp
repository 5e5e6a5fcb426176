// Reading one safetensors file: validate the whole header up front (so a bad
// file fails at open, naming the file and tensor), then hand out tensors that
// alias the memory-mapped bytes.
#include "core/io/safetensors.h"

#include <ATen/ATen.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/common/json_file.h"
#include "core/io/mapped_file.h"
#include "core/io/safetensors_dtype.h"

namespace saescope::io {
namespace {

using ordered_json = nlohmann::ordered_json;  // keeps the header's key order: spans are checked in it

constexpr uint64_t kLengthPrefix = 8;

std::string in_quotes(const std::string& s) { return "'" + s + "'"; }

// Non-negative integer that fits int64 (shape dims and offsets both must);
// rejects floats such as 2.0 and negative numbers.
bool as_count(const ordered_json& v, uint64_t& out) {
  if (!v.is_number_unsigned()) return false;
  out = v.get<uint64_t>();
  return out <= static_cast<uint64_t>(INT64_MAX);
}

std::map<std::string, std::string> parse_metadata(const std::string& path, const ordered_json& j) {
  if (!j.is_object())
    throw InputError(path + ": __metadata__ is not a JSON object of strings (it is " +
                     std::string(j.type_name()) + ")");
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : j.items()) {
    if (!value.is_string())
      throw InputError(path + ": __metadata__ key " + in_quotes(key) + " is not a string (it is " +
                       std::string(value.type_name()) + ": " + value.dump() + ")");
    out[key] = value.get<std::string>();
  }
  return out;
}

TensorInfo parse_entry(const std::string& path, const std::string& name, const ordered_json& j,
                       uint64_t data_size) {
  const std::string where = path + ": tensor " + in_quotes(name) + ": ";
  if (!j.is_object())
    throw InputError(where + "entry is not a JSON object (it is " + std::string(j.type_name()) + ")");
  for (const char* field : {"dtype", "shape", "data_offsets"})
    if (!j.contains(field)) throw InputError(where + "missing field \"" + field + "\"");

  TensorInfo info;
  info.name = name;
  if (!j["dtype"].is_string()) throw InputError(where + "dtype is not a string: " + j["dtype"].dump());
  info.dtype = j["dtype"].get<std::string>();
  const auto spec = dtype_from_name(info.dtype);
  if (!spec)
    throw InputError(where + "unknown dtype " + in_quotes(info.dtype) + " (known: " +
                     known_dtype_names() + ")");

  const auto& shape = j["shape"];
  if (!shape.is_array()) throw InputError(where + "shape is not an array: " + shape.dump());
  uint64_t numel = 1;
  bool overflow = false;
  for (const auto& d : shape) {
    uint64_t dim = 0;
    if (!as_count(d, dim))
      throw InputError(where + "shape " + shape.dump() + " holds " + d.dump() +
                       ", not an integer in [0, 2^63)");
    info.shape.push_back(static_cast<int64_t>(dim));
    overflow = overflow || __builtin_mul_overflow(numel, dim, &numel);
  }

  const auto& offsets = j["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 || !as_count(offsets[0], info.begin) ||
      !as_count(offsets[1], info.end))
    throw InputError(where + "data_offsets must be [begin, end] with integers in [0, 2^63), not " +
                     offsets.dump());
  if (info.begin > info.end)
    throw InputError(where + "data_offsets begin " + std::to_string(info.begin) + " > end " +
                     std::to_string(info.end));
  if (info.end > data_size)
    throw InputError(where + "data_offsets [" + std::to_string(info.begin) + ", " +
                     std::to_string(info.end) + ") lie outside the data area of " +
                     std::to_string(data_size) + " bytes (file truncated?)");
  uint64_t nbytes = 0;
  if (overflow || __builtin_mul_overflow(numel, spec->element_size, &nbytes) ||
      nbytes != info.end - info.begin)
    throw InputError(where + "data_offsets span " + std::to_string(info.end - info.begin) +
                     " bytes but dtype " + info.dtype + " x shape " + shape.dump() + " needs " +
                     (overflow ? std::string("more than 2^64") : std::to_string(nbytes)));
  return info;
}

}  // namespace

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  std::shared_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  file->mapping_ = MappedFile::map(path);
  const uint8_t* bytes = file->mapping_->data();
  const uint64_t size = file->mapping_->size();

  if (size < kLengthPrefix)
    throw InputError(path + ": " + std::to_string(size) +
                     " bytes long, too short for the 8-byte header length of a safetensors file");
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes, sizeof header_len);  // little-endian host (see safetensors_dtype.cpp)
  if (header_len > size - kLengthPrefix)
    throw InputError(path + ": header length " + std::to_string(header_len) +
                     " runs past the end of the file (" + std::to_string(size) +
                     " bytes): not a safetensors file, or truncated");

  const ordered_json header = parse_ordered_json_bounded(
      std::string_view(reinterpret_cast<const char*>(bytes + kLengthPrefix), header_len),
      path + ": header");
  if (!header.is_object())
    throw InputError(path + ": header is a JSON " + std::string(header.type_name()) +
                     ", not an object mapping tensor names to entries");

  file->data_ = bytes + kLengthPrefix + header_len;
  file->data_size_ = size - kLengthPrefix - header_len;

  const TensorInfo* previous = nullptr;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      file->metadata_ = parse_metadata(path, entry);
      continue;
    }
    TensorInfo info = parse_entry(path, name, entry, file->data_size_);
    // Spans must follow the header's order without sharing a byte, as every
    // writer lays them out; anything else means a corrupt or crafted header.
    if (previous && info.begin < previous->end) {
      const bool overlap = info.begin < previous->end && previous->begin < info.end;
      throw InputError(path + ": tensor " + in_quotes(name) + ": data_offsets [" +
                       std::to_string(info.begin) + ", " + std::to_string(info.end) + ") " +
                       (overlap ? "overlap" : "are out of order with") + " those of tensor " +
                       in_quotes(previous->name) + " [" + std::to_string(previous->begin) + ", " +
                       std::to_string(previous->end) + ")" +
                       (overlap ? "" : ": spans must follow the header's order"));
    }
    file->index_[name] = file->tensors_.size();
    file->tensors_.push_back(std::move(info));
    previous = &file->tensors_.back();
  }
  return file;
}

SafetensorsFile::~SafetensorsFile() = default;

bool SafetensorsFile::has(const std::string& name) const { return index_.count(name) > 0; }

const TensorInfo& SafetensorsFile::info(const std::string& name) const {
  const auto it = index_.find(name);
  if (it == index_.end()) throw InputError(path_ + ": no tensor named " + in_quotes(name));
  return tensors_[it->second];
}

void SafetensorsFile::release(const std::string& name) const {
  const TensorInfo& ti = info(name);
  mapping_->release(static_cast<uint64_t>(data_ - mapping_->data()) + ti.begin, ti.end - ti.begin);
}

bool SafetensorsFile::is_zero_copy(const std::string& name) const {
  const TensorInfo& ti = info(name);
  const DtypeSpec spec = *dtype_from_name(ti.dtype);
  const auto addr = reinterpret_cast<uintptr_t>(data_ + ti.begin);
  return spec.zero_copy && ti.end > ti.begin && addr % spec.element_size == 0;
}

at::Tensor SafetensorsFile::tensor(const std::string& name) const {
  const TensorInfo& ti = info(name);
  const DtypeSpec spec = *dtype_from_name(ti.dtype);  // validated at open
  const auto options = at::TensorOptions().dtype(spec.torch).device(at::kCPU);
  if (ti.end == ti.begin) return at::empty(ti.shape, options);  // nothing to alias
  if (is_zero_copy(name)) {
    auto keep_alive = mapping_;  // the tensor's storage owns a share of the mapping
    return at::from_blob(mapping_->mutable_data() + (data_ - mapping_->data()) + ti.begin,
                         ti.shape, [keep_alive](void*) {}, options);
  }
  at::Tensor out = at::empty(ti.shape, options);
  if (!decode_widened(spec, data_ + ti.begin, static_cast<size_t>(out.numel()), out.data_ptr()))
    throw InputError(path_ + ": tensor " + in_quotes(name) +
                     ": U64 value above 9223372036854775807 does not fit int64");
  return out;
}

}  // namespace saescope::io
