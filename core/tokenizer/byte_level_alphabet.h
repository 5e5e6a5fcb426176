#pragma once
// GPT-2's byte-level alphabet: every byte value is shown in vocab.json and
// merges.txt as one printable Unicode character (0x20 ' ' becomes U+0120 'Ġ'),
// so that a vocabulary of text strings can hold arbitrary bytes. This is
// `bytes_to_unicode()` of OpenAI's encoder.py, reproduced exactly.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace saescope::tokenizer {

// The character (a code point) that stands for `byte` in vocabulary strings.
char32_t byte_to_alphabet_char(std::uint8_t byte);

// The UTF-8 text of that character, e.g. "Ġ" for 0x20.
std::string byte_to_alphabet_utf8(std::uint8_t byte);

// Decodes a vocabulary string back to the bytes it stands for; nullopt when
// it holds a character outside the alphabet or is not valid UTF-8 (an added
// token such as a special one, which is its own text).
std::optional<std::string> alphabet_to_bytes(std::string_view vocab_string);

}  // namespace saescope::tokenizer
