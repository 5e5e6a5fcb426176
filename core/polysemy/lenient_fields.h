#pragma once
// Field readers shared by the dataset readers. Published sets come as JSONL,
// as pandas CSV (where a nested object becomes a JSON string or a Python dict
// repr such as "{'char_start': 3, 'char_end': 8}") and with labels written as
// 0/1, booleans or T/F: accept all of them, and say what was wrong otherwise.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/polysemy/word_pair.h"

namespace saescope::polysemy {

// A string member as text; numbers are printed; missing or null -> nullopt.
std::optional<std::string> text_member(const nlohmann::json& object, const char* key);

// 1/0, true/false, "1"/"0", "T"/"F", "true"/"false", "yes"/"no" (any case)
// -> same sense / different sense; anything else -> nullopt.
std::optional<bool> parse_label(const nlohmann::json& value);

// A location in code points, as written in the file (not yet checked).
struct RawSpan {
  long long start = 0;
  long long end = 0;
};

// How a location field reads: absent (missing, null, "", "nan", "None"),
// present and usable, or present but unreadable (reason in `error`).
struct LocationField {
  std::optional<RawSpan> span;
  std::string error;
};

// {char_start, char_end} as an object, as JSON text or Python-dict text, or a
// two-number array [start, end].
LocationField parse_location(const nlohmann::json& value);

// Checks a code-point span against `context` and converts it to bytes;
// nullopt with the reason in `why` when it does not fit.
std::optional<CharSpan> span_in_context(const RawSpan& raw, const std::string& context,
                                        std::string& why);

// Inverse for writers: a byte span back to code points of `context`.
RawSpan codepoint_span(const CharSpan& span, const std::string& context);

}  // namespace saescope::polysemy
