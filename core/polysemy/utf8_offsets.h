#pragma once
// Python (and so every published JSON/CSV dataset) counts string positions in
// code points; C++ strings index UTF-8 bytes. These convert between the two.
#include <cstddef>
#include <optional>
#include <string_view>

namespace saescope::polysemy {

// Byte offset of the code point with index `codepoint` (== size() for the
// position just past the end); nullopt when the text has fewer code points.
std::optional<std::size_t> byte_offset_of_codepoint(std::string_view text, std::size_t codepoint);

// Number of code points that start before `byte` (bytes past the end count as the end).
std::size_t codepoint_offset_of_byte(std::string_view text, std::size_t byte);

}  // namespace saescope::polysemy
