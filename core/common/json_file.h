#pragma once
// Every JSON document SAEScope reads from a user's file or a workspace goes
// through here. nlohmann parses deep nesting fine but copies, compares and
// dumps recursively, so a hostile file nested 10^5 levels deep overflows the
// stack long after parsing; the nesting is therefore bounded before parsing.
// Parse failures (syntax, a number too large for a double) become JsonError,
// an InputError that names the file.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/common/error.h"

namespace saescope {

// Far deeper than any real config, header or dataset record.
constexpr int kMaxJsonDepth = 512;

// An InputError "<where>: <reason>"; reason() alone suits readers that report
// a bad line with their own file:line prefix.
class JsonError : public InputError {
 public:
  JsonError(const std::string& where, const std::string& reason)
      : InputError(where + ": " + reason), reason_(reason) {}
  const std::string& reason() const { return reason_; }

 private:
  std::string reason_;
};

// True when brackets (outside strings, escapes honoured) nest deeper than
// `max_depth`; no recursion, stops at the first level too deep.
bool json_nested_deeper_than(std::string_view text, int max_depth);

// Parses `text`; JsonError naming `where` (a file, "file: line 3", ...) when
// it nests deeper than `max_depth` or is not valid JSON.
nlohmann::json parse_json_bounded(std::string_view text, const std::string& where,
                                  int max_depth = kMaxJsonDepth);
// The same, keeping the keys' order (safetensors headers lay tensors out in it).
nlohmann::ordered_json parse_ordered_json_bounded(std::string_view text, const std::string& where,
                                                  int max_depth = kMaxJsonDepth);

// Reads and parses a whole JSON file: InputError naming it when it is a
// folder, missing or unreadable, then as parse_json_bounded.
nlohmann::json read_json_file(const std::string& path, int max_depth = kMaxJsonDepth);

}  // namespace saescope
