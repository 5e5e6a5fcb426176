#pragma once
// The few UTF-8 primitives the tokenizer needs, strict as RFC 3629 (no
// overlong forms, no surrogates, nothing above U+10FFFF) — the same rules
// PCRE2 applies in UTF mode.
#include <cstddef>
#include <string>
#include <string_view>

namespace saescope::tokenizer {

// Length (1–4) of the well-formed UTF-8 sequence starting at `pos`, or 0
// when the byte there does not start one.
std::size_t valid_utf8_sequence_length(std::string_view text, std::size_t pos);

// The code point of the well-formed sequence of `len` bytes at `pos`.
char32_t decode_utf8_at(std::string_view text, std::size_t pos, std::size_t len);

void append_utf8(std::string& out, char32_t cp);

// True when the whole of `text` is well-formed UTF-8.
bool is_valid_utf8(std::string_view text);

}  // namespace saescope::tokenizer
