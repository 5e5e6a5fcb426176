// .npy: a magic string, a version, a Python dict literal describing the array,
// then the raw data. The dict is parsed by a small strict reader rather than
// anything Python-like: only a dict of three known keys with string, bool and
// integer-tuple values is accepted. Format: numpy/lib/format.py.
#include "core/io/npy.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "core/common/error.h"
#include "core/io/zip_archive.h"

namespace saescope::io {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw InputError(where + ": " + what);
}

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

// A cursor over the header dict, e.g. "{'descr': '<f4', 'fortran_order':
// False, 'shape': (3, 4), }" padded with spaces and a newline.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& where) : s_(text), where_(where) {}

  Header parse() {
    Header h;
    bool seen[3] = {false, false, false};
    expect('{');
    while (true) {
      skip_spaces();
      if (peek() == '}') break;
      const std::string key = string_literal();
      expect(':');
      skip_spaces();
      int slot = -1;
      if (key == "descr") {
        if (peek() == '[') bad("a structured dtype (descr is a list of fields), which is not read");
        h.descr = string_literal();
        slot = 0;
      } else if (key == "fortran_order") {
        h.fortran_order = boolean();
        slot = 1;
      } else if (key == "shape") {
        h.shape = shape();
        slot = 2;
      } else {
        bad("header has an unknown key '" + key + "'");
      }
      if (seen[slot]) bad("header repeats the key '" + key + "'");
      seen[slot] = true;
      skip_spaces();
      if (peek() != ',') break;
      ++i_;
    }
    expect('}');
    skip_spaces();
    if (i_ != s_.size()) bad("header has text after its closing '}'");
    if (!seen[0] || !seen[1] || !seen[2]) bad("header lacks one of 'descr', 'fortran_order', 'shape'");
    return h;
  }

 private:
  [[noreturn]] void bad(const std::string& what) { fail(where_, what + " (header: " + s_ + ")"); }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_spaces() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  void expect(char c) {
    skip_spaces();
    if (peek() != c) bad(std::string("malformed header: expected '") + c + "' at character " + std::to_string(i_));
    ++i_;
  }
  std::string string_literal() {
    const char quote = peek();
    if (quote != '\'' && quote != '"') bad("malformed header: expected a quoted string at character " + std::to_string(i_));
    const size_t end = s_.find(quote, i_ + 1);
    if (end == std::string::npos) bad("malformed header: unterminated string");
    std::string out = s_.substr(i_ + 1, end - i_ - 1);
    if (out.find('\\') != std::string::npos) bad("malformed header: escapes in a string");
    i_ = end + 1;
    return out;
  }
  bool boolean() {
    if (s_.compare(i_, 4, "True") == 0) return i_ += 4, true;
    if (s_.compare(i_, 5, "False") == 0) return i_ += 5, false;
    bad("fortran_order is not True or False");
  }
  // "()", "(5,)", "(3, 4)" or "(3, 4,)"; Python 2's "3L" suffix tolerated.
  std::vector<int64_t> shape() {
    std::vector<int64_t> dims;
    expect('(');
    bool trailing_comma = false;
    while (true) {
      skip_spaces();
      if (peek() == ')') break;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) bad("shape holds something other than non-negative integers");
      uint64_t v = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        if (v > (uint64_t(INT64_MAX) - 9) / 10) bad("shape holds a dimension too large");
        v = v * 10 + uint64_t(s_[i_++] - '0');
      }
      if (peek() == 'L') ++i_;
      dims.push_back(int64_t(v));
      if (dims.size() > 64) bad("shape has more than 64 dimensions");
      skip_spaces();
      trailing_comma = peek() == ',';
      if (!trailing_comma) break;
      ++i_;
    }
    expect(')');
    if (dims.size() == 1 && !trailing_comma) bad("shape is not a tuple");
    return dims;
  }

  const std::string& s_;
  const std::string& where_;
  size_t i_ = 0;
};

struct Dtype {
  bool big_endian = false;
  size_t item_size = 0;
  char kind = 0;                 // 'f', 'i', 'u', 'b'
  at::ScalarType torch = at::kFloat;
  bool widened = false;          // unsigned wider than a byte: decoded into a wider signed type
};

Dtype parse_descr(const std::string& descr, const std::string& where) {
  const std::string plain = "; read are little- and big-endian f2, f4, f8, i1-i8, u1-u8 and b1";
  if (descr.size() < 2) fail(where, "unknown dtype '" + descr + "'" + plain);
  const char order = descr[0], kind = descr[1];
  if (kind == 'O')
    fail(where, "an object array (dtype '" + descr + "'): it holds pickled Python objects, which are not read");
  if (kind == 'V')
    fail(where, "a structured or non-standard dtype ('" + descr + "', e.g. ml_dtypes' bfloat16), which is not read");
  if (kind == 'U' || kind == 'S' || kind == 'a' || kind == 'c' || kind == 'M' || kind == 'm')
    fail(where, "dtype '" + descr + "' (strings, complex numbers or dates) is not read" + plain);
  const std::string digits = descr.substr(2);
  if (digits.empty() || digits.size() > 2 || !std::all_of(digits.begin(), digits.end(), ::isdigit) ||
      (order != '<' && order != '>' && order != '|'))
    fail(where, "unknown dtype '" + descr + "'" + plain);
  Dtype d;
  d.big_endian = order == '>';
  d.item_size = size_t(std::stoi(digits));
  d.kind = kind;
  if (order == '|' && d.item_size != 1) fail(where, "dtype '" + descr + "' has no byte order" + plain);
  using at::ScalarType;
  const auto pick = [&](std::initializer_list<std::pair<size_t, ScalarType>> options) {
    for (const auto& [size, type] : options)
      if (size == d.item_size) return d.torch = type, true;
    return false;
  };
  bool ok = false;
  if (kind == 'f') ok = pick({{2, ScalarType::Half}, {4, ScalarType::Float}, {8, ScalarType::Double}});
  if (kind == 'i') ok = pick({{1, ScalarType::Char}, {2, ScalarType::Short}, {4, ScalarType::Int}, {8, ScalarType::Long}});
  if (kind == 'u') ok = pick({{1, ScalarType::Byte}, {2, ScalarType::Int}, {4, ScalarType::Long}, {8, ScalarType::Long}});
  if (kind == 'b') ok = pick({{1, ScalarType::Bool}});
  if (!ok) fail(where, "unknown dtype '" + descr + "'" + plain);
  d.widened = kind == 'u' && d.item_size > 1;
  return d;
}

uint64_t load_unsigned(const uint8_t* p, size_t size, bool big_endian) {
  uint64_t v = 0;
  for (size_t b = 0; b < size; ++b) v |= uint64_t(p[big_endian ? size - 1 - b : b]) << (8 * b);
  return v;
}

// Fills `out` (contiguous, `count` elements of d.torch) from the file's bytes.
void decode(const Dtype& d, const uint8_t* src, int64_t count, at::Tensor& out, const std::string& where) {
  if (count == 0) return;  // an empty tensor may have no buffer at all
  uint8_t* dst = static_cast<uint8_t*>(out.data_ptr());
  if (d.widened) {
    for (int64_t i = 0; i < count; ++i) {
      const uint64_t v = load_unsigned(src + i * d.item_size, d.item_size, d.big_endian);
      if (v > uint64_t(INT64_MAX)) fail(where, "a u8 value above 2^63-1, which int64 cannot hold");
      if (d.torch == at::kInt)
        reinterpret_cast<int32_t*>(dst)[i] = int32_t(v);
      else
        reinterpret_cast<int64_t*>(dst)[i] = int64_t(v);
    }
    return;
  }
  std::memcpy(dst, src, size_t(count) * d.item_size);
  if (d.big_endian && d.item_size > 1)
    for (int64_t i = 0; i < count; ++i) std::reverse(dst + i * d.item_size, dst + (i + 1) * d.item_size);
  if (d.kind == 'b')  // a bool byte other than 0 or 1 is undefined behaviour in LibTorch
    for (int64_t i = 0; i < count; ++i) dst[i] = dst[i] != 0;
}

}  // namespace

at::Tensor parse_npy(const std::string& bytes, const std::string& where) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  if (bytes.size() < kMagicSize + 4 || std::memcmp(data, kMagic, kMagicSize) != 0)
    fail(where, "not a .npy array (no \\x93NUMPY magic)");
  const int major = data[6], minor = data[7];
  if (major < 1 || major > 3 || minor != 0)
    fail(where, ".npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                    " is not read (1.0, 2.0 and 3.0 are)");
  const size_t len_size = major == 1 ? 2 : 4;
  if (bytes.size() < kMagicSize + 2 + len_size) fail(where, "truncated .npy header");
  const uint64_t header_len = load_unsigned(data + 8, len_size, false);
  const uint64_t data_begin = kMagicSize + 2 + len_size + header_len;
  if (data_begin > bytes.size())
    fail(where, "header of " + std::to_string(header_len) + " bytes runs past the end (" +
                    std::to_string(bytes.size()) + " bytes)");
  const std::string text = bytes.substr(kMagicSize + 2 + len_size, header_len);
  const Header h = HeaderParser(text, where).parse();
  const Dtype d = parse_descr(h.descr, where);

  uint64_t count = 1;
  for (int64_t dim : h.shape)
    if (__builtin_mul_overflow(count, uint64_t(dim), &count)) fail(where, "shape's element count overflows");
  uint64_t expected = 0;
  const uint64_t have = bytes.size() - data_begin;
  const bool overflow = __builtin_mul_overflow(count, uint64_t(d.item_size), &expected);
  if (overflow || expected != have)
    fail(where, "holds " + std::to_string(have) + " data bytes; shape and dtype '" + h.descr + "' need " +
                    (overflow ? std::string("more than 2^64") : std::to_string(expected)));

  // Fortran order is C order of the reversed shape; permuting back and making
  // the result contiguous gives the array numpy means.
  std::vector<int64_t> stored_shape = h.shape;
  if (h.fortran_order) std::reverse(stored_shape.begin(), stored_shape.end());
  at::Tensor out = at::empty(stored_shape, at::TensorOptions().dtype(d.torch));
  decode(d, data + data_begin, int64_t(count), out, where);
  if (h.fortran_order && h.shape.size() > 1) {
    std::vector<int64_t> order(h.shape.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = int64_t(order.size() - 1 - i);
    out = out.permute(order).contiguous();
  }
  return out;
}

std::vector<std::pair<std::string, at::Tensor>> read_npz(const std::string& path) {
  const auto zip = ZipArchive::open(path);
  std::vector<std::pair<std::string, at::Tensor>> out;
  const std::string suffix = ".npy";
  for (const std::string& name : zip->names()) {
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
      throw InputError(path + ": member '" + name + "' is not a .npy array (an .npz holds <key>.npy members)");
    out.emplace_back(name.substr(0, name.size() - suffix.size()), parse_npy(zip->read(name), path + ": " + name));
  }
  return out;
}

}  // namespace saescope::io
