#include "core/polysemy/occurrence_reader.h"

#include <cctype>

#include <nlohmann/json.hpp>

#include "core/common/json_file.h"
#include "core/polysemy/lenient_fields.h"
#include "core/polysemy/text_files.h"

namespace saescope::polysemy {
namespace {

bool is_blank(std::string_view s) {
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  return true;
}

std::optional<SenseOccurrence> occurrence_from_record(const nlohmann::json& record,
                                                      const std::string& path, std::size_t line,
                                                      ReadReport& report,
                                                      const ReadOptions& options) {
  if (!record.is_object()) {
    report_issue(report, options, path, line, "not a JSON object");
    return std::nullopt;
  }
  SenseOccurrence occ;
  for (auto [key, into] : {std::pair<const char*, std::string*>{"word", &occ.word},
                           {"sense_id", &occ.sense_id},
                           {"context", &occ.context}}) {
    auto value = text_member(record, key);
    if (!value || is_blank(*value)) {
      report_issue(report, options, path, line,
                   std::string(value ? "empty" : "missing") + " field '" + key + "'");
      return std::nullopt;
    }
    *into = *value;
  }
  occ.pos = text_member(record, "pos").value_or("");
  occ.gloss = text_member(record, "gloss").value_or("");
  const auto start = record.find("char_start");
  const auto end = record.find("char_end");
  const bool has_start = start != record.end() && !start->is_null();
  const bool has_end = end != record.end() && !end->is_null();
  if (has_start && has_end) {
    if (!start->is_number_integer() || !end->is_number_integer()) {
      report_issue(report, options, path, line, "char_start/char_end are not integers; location ignored",
                   false);
    } else {
      std::string why;
      occ.span = span_in_context(RawSpan{start->get<long long>(), end->get<long long>()}, occ.context, why);
      if (!occ.span) report_issue(report, options, path, line, why + "; location ignored", false);
    }
  } else if (has_start != has_end) {
    report_issue(report, options, path, line,
                 std::string("has ") + (has_start ? "char_start without char_end" : "char_end without char_start") +
                     "; location ignored",
                 false);
  }
  return occ;
}

}  // namespace

std::vector<SenseOccurrence> read_occurrences_jsonl(const std::string& path, ReadReport& report,
                                                    const ReadOptions& options) {
  const std::string text = read_text_file(path);
  const auto lines = split_lines(text);
  std::vector<SenseOccurrence> out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (is_blank(lines[i])) continue;
    ++report.records_seen;
    nlohmann::json record;
    try {
      record = parse_json_bounded(lines[i], path);
    } catch (const JsonError& e) {
      report_issue(report, options, path, i + 1, e.reason());
      continue;
    }
    if (auto occ = occurrence_from_record(record, path, i + 1, report, options)) {
      out.push_back(std::move(*occ));
      ++report.records_kept;
    }
  }
  return out;
}

}  // namespace saescope::polysemy
