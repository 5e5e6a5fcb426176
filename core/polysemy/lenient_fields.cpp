#include "core/polysemy/lenient_fields.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "core/polysemy/utf8_offsets.h"

namespace saescope::polysemy {
namespace {

std::string lower_trimmed(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  std::string out = s.substr(b, e - b);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The integer that follows `key` in free text: skips quotes, colons, '=' and
// spaces, so JSON text, Python dict repr and "key=3" all read.
std::optional<long long> integer_after(const std::string& text, const std::string& key) {
  const std::size_t at = text.find(key);
  if (at == std::string::npos) return std::nullopt;
  std::size_t i = at + key.size();
  while (i < text.size() && (text[i] == '\'' || text[i] == '"' || text[i] == ':' ||
                             text[i] == '=' || text[i] == ' ' || text[i] == '\t'))
    ++i;
  std::size_t j = i;
  if (j < text.size() && text[j] == '-') ++j;
  const std::size_t digits = j;
  while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
  if (j == digits) return std::nullopt;
  return std::strtoll(text.substr(i, j - i).c_str(), nullptr, 10);
}

LocationField location_from_text(const std::string& text) {
  const std::string low = lower_trimmed(text);
  if (low.empty() || low == "nan" || low == "none" || low == "null" || low == "{}") return {};
  const auto start = integer_after(text, "char_start");
  const auto end = integer_after(text, "char_end");
  if (start && end) return {RawSpan{*start, *end}, {}};
  // "[3, 8]" or "(3, 8)"
  if (low.front() == '[' || low.front() == '(') {
    const auto a = integer_after(text, text.substr(0, 1));
    const std::size_t comma = text.find(',');
    if (a && comma != std::string::npos) {
      const auto b = integer_after(text, ",");
      if (b) return {RawSpan{*a, *b}, {}};
    }
  }
  return {std::nullopt, "unreadable location '" + text.substr(0, 60) + "'"};
}

}  // namespace

std::optional<std::string> text_member(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<long long>());
  return it->dump();
}

std::optional<bool> parse_label(const nlohmann::json& value) {
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_number_integer()) {
    const long long v = value.get<long long>();
    if (v == 0 || v == 1) return v == 1;
    return std::nullopt;
  }
  if (value.is_number_float()) {
    const double v = value.get<double>();
    if (v == 0.0 || v == 1.0) return v == 1.0;
    return std::nullopt;
  }
  if (!value.is_string()) return std::nullopt;
  const std::string s = lower_trimmed(value.get<std::string>());
  if (s == "1" || s == "1.0" || s == "t" || s == "true" || s == "yes") return true;
  if (s == "0" || s == "0.0" || s == "f" || s == "false" || s == "no") return false;
  return std::nullopt;
}

LocationField parse_location(const nlohmann::json& value) {
  if (value.is_null()) return {};
  if (value.is_object()) {
    const auto s = value.find("char_start");
    const auto e = value.find("char_end");
    if (s == value.end() || e == value.end())
      return {std::nullopt, "location object lacks char_start or char_end"};
    if (!s->is_number_integer() || !e->is_number_integer()) {
      // Numbers written as strings: fall back to text parsing.
      return location_from_text(value.dump());
    }
    return {RawSpan{s->get<long long>(), e->get<long long>()}, {}};
  }
  if (value.is_array()) {
    if (value.size() == 2 && value[0].is_number_integer() && value[1].is_number_integer())
      return {RawSpan{value[0].get<long long>(), value[1].get<long long>()}, {}};
    return {std::nullopt, "location array is not [start, end]"};
  }
  if (value.is_string()) return location_from_text(value.get<std::string>());
  return {std::nullopt, "location is neither an object nor text"};
}

std::optional<CharSpan> span_in_context(const RawSpan& raw, const std::string& context,
                                        std::string& why) {
  if (raw.start < 0 || raw.end <= raw.start) {
    why = "location [" + std::to_string(raw.start) + ", " + std::to_string(raw.end) +
          ") is empty or negative";
    return std::nullopt;
  }
  const auto b = byte_offset_of_codepoint(context, static_cast<std::size_t>(raw.start));
  const auto e = byte_offset_of_codepoint(context, static_cast<std::size_t>(raw.end));
  if (!b || !e) {
    why = "location [" + std::to_string(raw.start) + ", " + std::to_string(raw.end) +
          ") lies past the end of the context (" +
          std::to_string(codepoint_offset_of_byte(context, context.size())) + " characters)";
    return std::nullopt;
  }
  return CharSpan{*b, *e};
}

RawSpan codepoint_span(const CharSpan& span, const std::string& context) {
  return RawSpan{static_cast<long long>(codepoint_offset_of_byte(context, span.start)),
                 static_cast<long long>(codepoint_offset_of_byte(context, span.end))};
}

}  // namespace saescope::polysemy
