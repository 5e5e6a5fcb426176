#include "core/io/safetensors_dtype.h"

#include <cmath>
#include <cstring>
#include <limits>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian; this reader aliases it, so it needs a little-endian host"
#endif

namespace saescope::io {
namespace {

using c10::ScalarType;

// Widening choices: U16 -> int32 and U32 -> int64 hold every value; U64 ->
// int64 holds all but the top half (rejected per value); 8-bit floats -> F32
// exactly.
constexpr DtypeSpec kSpecs[] = {
    {"F64", 8, ScalarType::Double, true},     {"F32", 4, ScalarType::Float, true},
    {"F16", 2, ScalarType::Half, true},       {"BF16", 2, ScalarType::BFloat16, true},
    {"I64", 8, ScalarType::Long, true},       {"I32", 4, ScalarType::Int, true},
    {"I16", 2, ScalarType::Short, true},      {"I8", 1, ScalarType::Char, true},
    {"U8", 1, ScalarType::Byte, true},        {"BOOL", 1, ScalarType::Bool, true},
    {"U16", 2, ScalarType::Int, false},       {"U32", 4, ScalarType::Long, false},
    {"U64", 8, ScalarType::Long, false},      {"F8_E4M3", 1, ScalarType::Float, false},
    {"F8_E5M2", 1, ScalarType::Float, false},
};

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));  // any alignment
  return v;
}

// E4M3 "FN" (the variant safetensors and PyTorch mean): bias 7, no
// infinities, S.1111.111 is NaN.
float f8_e4m3_to_float(uint8_t b) {
  const int sign = b >> 7, exp = (b >> 3) & 0xF, man = b & 0x7;
  if (exp == 0xF && man == 0x7) return std::numeric_limits<float>::quiet_NaN();
  const float mag = exp == 0 ? std::ldexp(man / 8.0f, -6) : std::ldexp(1.0f + man / 8.0f, exp - 7);
  return sign ? -mag : mag;
}

// E5M2: IEEE-style half with a 2-bit mantissa (bias 15, inf and NaN).
float f8_e5m2_to_float(uint8_t b) {
  const int sign = b >> 7, exp = (b >> 2) & 0x1F, man = b & 0x3;
  float mag;
  if (exp == 0x1F)
    mag = man == 0 ? std::numeric_limits<float>::infinity() : std::numeric_limits<float>::quiet_NaN();
  else if (exp == 0)
    mag = std::ldexp(man / 4.0f, -14);
  else
    mag = std::ldexp(1.0f + man / 4.0f, exp - 15);
  return sign ? -mag : mag;
}

}  // namespace

std::optional<DtypeSpec> dtype_from_name(const std::string& name) {
  for (const auto& s : kSpecs)
    if (name == s.name) return s;
  return std::nullopt;
}

std::optional<std::string> dtype_name_of(c10::ScalarType type) {
  for (const auto& s : kSpecs)
    if (s.zero_copy && s.torch == type) return std::string(s.name);
  return std::nullopt;
}

bool decode_widened(const DtypeSpec& spec, const uint8_t* src, size_t count, void* dst) {
  const std::string name = spec.name;
  if (name == "U16") {
    auto* out = static_cast<int32_t*>(dst);
    for (size_t i = 0; i < count; ++i) out[i] = load<uint16_t>(src + 2 * i);
  } else if (name == "U32") {
    auto* out = static_cast<int64_t*>(dst);
    for (size_t i = 0; i < count; ++i) out[i] = load<uint32_t>(src + 4 * i);
  } else if (name == "U64") {
    auto* out = static_cast<int64_t*>(dst);
    for (size_t i = 0; i < count; ++i) {
      const uint64_t v = load<uint64_t>(src + 8 * i);
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
      out[i] = static_cast<int64_t>(v);
    }
  } else if (name == "F8_E4M3" || name == "F8_E5M2") {
    float table[256];
    for (int b = 0; b < 256; ++b)
      table[b] = name == "F8_E4M3" ? f8_e4m3_to_float(uint8_t(b)) : f8_e5m2_to_float(uint8_t(b));
    auto* out = static_cast<float*>(dst);
    for (size_t i = 0; i < count; ++i) out[i] = table[src[i]];
  } else {
    // A zero-copy dtype reached here because its bytes are misaligned: the
    // widened type is the type itself, so a plain copy decodes it.
    std::memcpy(dst, src, count * spec.element_size);
  }
  return true;
}

const std::string& known_dtype_names() {
  static const std::string names = [] {
    std::string s;
    for (const auto& spec : kSpecs) s += (s.empty() ? "" : ", ") + std::string(spec.name);
    return s;
  }();
  return names;
}

}  // namespace saescope::io
