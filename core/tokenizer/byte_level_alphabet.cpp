#include "core/tokenizer/byte_level_alphabet.h"

#include "core/tokenizer/utf8.h"

namespace saescope::tokenizer {
namespace {

// Printable Latin-1 bytes stand for themselves; the other 68 bytes are given
// the code points 256, 257, ... in byte order (encoder.py's construction).
struct Alphabet {
  std::array<char32_t, 256> to_char{};
  std::array<std::int16_t, 324> to_byte{};  // code point -> byte, -1 if none

  Alphabet() {
    to_byte.fill(-1);
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      to_char[b] = printable ? static_cast<char32_t>(b) : next++;
      to_byte[to_char[b]] = static_cast<std::int16_t>(b);
    }
  }
};

const Alphabet& alphabet() {
  static const Alphabet a;
  return a;
}

}  // namespace

char32_t byte_to_alphabet_char(std::uint8_t byte) { return alphabet().to_char[byte]; }

std::string byte_to_alphabet_utf8(std::uint8_t byte) {
  std::string out;
  append_utf8(out, byte_to_alphabet_char(byte));
  return out;
}

std::optional<std::string> alphabet_to_bytes(std::string_view vocab_string) {
  std::string bytes;
  bytes.reserve(vocab_string.size());
  std::size_t pos = 0;
  while (pos < vocab_string.size()) {
    const std::size_t len = valid_utf8_sequence_length(vocab_string, pos);
    if (len == 0) return std::nullopt;
    const char32_t cp = decode_utf8_at(vocab_string, pos, len);
    if (cp >= alphabet().to_byte.size() || alphabet().to_byte[cp] < 0) return std::nullopt;
    bytes.push_back(static_cast<char>(alphabet().to_byte[cp]));
    pos += len;
  }
  return bytes;
}

}  // namespace saescope::tokenizer
