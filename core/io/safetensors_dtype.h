#pragma once
// The safetensors dtype vocabulary and how each name maps onto LibTorch.
// Most dtypes alias the file's bytes directly; the rest (unsigned integers
// wider than a byte, 8-bit floats) have no LibTorch 1.13 counterpart and are
// decoded into a wider dtype that holds every value.
#include <c10/core/ScalarType.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace saescope::io {

struct DtypeSpec {
  const char* name;          // as written in a safetensors header
  size_t element_size;       // bytes per element in the file
  c10::ScalarType torch;     // dtype of the tensor handed out
  bool zero_copy;            // true: the file's bytes are the tensor's bytes
};

// nullopt for a name the format does not define (or we cannot read).
std::optional<DtypeSpec> dtype_from_name(const std::string& name);

// The safetensors name for a LibTorch dtype, or nullopt when the format has
// none (complex, quantised).
std::optional<std::string> dtype_name_of(c10::ScalarType type);

// Decodes `count` elements of a copy-path dtype from `src` (any alignment)
// into `dst`, which holds `count` elements of spec.torch. Returns false when
// a value does not fit the wider dtype (U64 above INT64_MAX).
bool decode_widened(const DtypeSpec& spec, const uint8_t* src, size_t count, void* dst);

// A comma-separated list of every dtype name, for error messages.
const std::string& known_dtype_names();

}  // namespace saescope::io
