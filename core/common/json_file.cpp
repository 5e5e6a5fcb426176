#include "core/common/json_file.h"

#include "core/common/file_bytes.h"

namespace saescope {
namespace {

// nlohmann's what() starts with "[json.exception.parse_error.101] ": the
// reader of an error message needs only what follows.
std::string without_exception_id(const std::string& what) {
  const size_t at = what.find("] ");
  return at == std::string::npos ? what : what.substr(at + 2);
}

template <typename Json>
Json parse_bounded(std::string_view text, const std::string& where, int max_depth) {
  if (json_nested_deeper_than(text, max_depth))
    throw JsonError(where, "JSON nested deeper than " + std::to_string(max_depth) + " levels");
  try {
    return Json::parse(text.data(), text.data() + text.size());
  } catch (const nlohmann::json::parse_error& e) {
    throw JsonError(where, "not valid JSON (" + without_exception_id(e.what()) + ")");
  } catch (const nlohmann::json::out_of_range& e) {  // 1e999: no double holds it
    throw JsonError(where, "not valid JSON: a number too large for a double (" +
                               without_exception_id(e.what()) + ")");
  }
}

}  // namespace

bool json_nested_deeper_than(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;  // the escaped character cannot end the string
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;  // unbalanced closers are the parser's to report
    }
  }
  return false;
}

nlohmann::json parse_json_bounded(std::string_view text, const std::string& where, int max_depth) {
  return parse_bounded<nlohmann::json>(text, where, max_depth);
}

nlohmann::ordered_json parse_ordered_json_bounded(std::string_view text, const std::string& where,
                                                  int max_depth) {
  return parse_bounded<nlohmann::ordered_json>(text, where, max_depth);
}

nlohmann::json read_json_file(const std::string& path, int max_depth) {
  return parse_json_bounded(read_file_bytes(path), path, max_depth);
}

}  // namespace saescope
