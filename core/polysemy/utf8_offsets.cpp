#include "core/polysemy/utf8_offsets.h"

namespace saescope::polysemy {
namespace {
// A code point starts at every byte that is not a continuation byte 10xxxxxx.
// Malformed text still gets a consistent count: each stray byte is one unit.
bool starts_codepoint(unsigned char c) { return (c & 0xC0) != 0x80; }
}  // namespace

std::optional<std::size_t> byte_offset_of_codepoint(std::string_view text, std::size_t codepoint) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!starts_codepoint(static_cast<unsigned char>(text[i]))) continue;
    if (seen == codepoint) return i;
    ++seen;
  }
  if (seen == codepoint) return text.size();
  return std::nullopt;
}

std::size_t codepoint_offset_of_byte(std::string_view text, std::size_t byte) {
  std::size_t n = 0;
  const std::size_t stop = byte < text.size() ? byte : text.size();
  for (std::size_t i = 0; i < stop; ++i)
    n += starts_codepoint(static_cast<unsigned char>(text[i])) ? 1 : 0;
  return n;
}

}  // namespace saescope::polysemy
