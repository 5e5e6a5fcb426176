#include "core/polysemy/pseval_reader.h"

#include <cctype>

#include "core/common/json_file.h"
#include "core/polysemy/csv_records.h"
#include "core/polysemy/lenient_fields.h"
#include "core/polysemy/text_files.h"

namespace saescope::polysemy {
namespace {

bool is_blank(std::string_view s) {
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string trimmed(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::optional<CharSpan> read_location(const nlohmann::json& record, const char* key,
                                      const std::string& context, const std::string& file,
                                      std::size_t line, ReadReport& report,
                                      const ReadOptions& options) {
  const auto it = record.find(key);
  if (it == record.end()) return std::nullopt;
  const LocationField field = parse_location(*it);
  if (!field.error.empty()) {
    report_issue(report, options, file, line,
                 std::string(key) + ": " + field.error + "; location ignored", false);
    return std::nullopt;
  }
  if (!field.span) return std::nullopt;
  std::string why;
  auto span = span_in_context(*field.span, context, why);
  if (!span) report_issue(report, options, file, line, std::string(key) + ": " + why + "; location ignored", false);
  return span;
}

std::vector<WordPair> read_records(const std::vector<nlohmann::json>& records,
                                   const std::vector<std::size_t>& lines, const std::string& path,
                                   ReadReport& report, const ReadOptions& options) {
  std::vector<WordPair> pairs;
  for (std::size_t i = 0; i < records.size(); ++i) {
    ++report.records_seen;
    if (auto pair = pair_from_record(records[i], path, lines[i], report, options)) {
      pairs.push_back(std::move(*pair));
      ++report.records_kept;
    }
  }
  return pairs;
}

std::vector<WordPair> read_jsonl_text(const std::string& text, const std::string& path,
                                      ReadReport& report, const ReadOptions& options) {
  std::vector<WordPair> pairs;
  const auto lines = split_lines(text);
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
    if (auto pair = pair_from_record(record, path, i + 1, report, options)) {
      pairs.push_back(std::move(*pair));
      ++report.records_kept;
    }
  }
  return pairs;
}

}  // namespace

std::optional<WordPair> pair_from_record(const nlohmann::json& record, const std::string& file,
                                         std::size_t line, ReadReport& report,
                                         const ReadOptions& options) {
  if (!record.is_object()) {
    report_issue(report, options, file, line, "not a JSON object");
    return std::nullopt;
  }
  WordPair pair;
  struct Required {
    const char* key;
    std::string* into;
  };
  for (const Required& field : {Required{"context_1", &pair.context_1},
                                Required{"context_2", &pair.context_2},
                                Required{"target_word", &pair.target_word}}) {
    auto value = text_member(record, field.key);
    if (!value) {
      report_issue(report, options, file, line, std::string("missing field '") + field.key + "'");
      return std::nullopt;
    }
    if (is_blank(*value)) {
      report_issue(report, options, file, line, std::string("empty field '") + field.key + "'");
      return std::nullopt;
    }
    *field.into = *value;
  }
  pair.target_word = trimmed(pair.target_word);
  const auto label_it = record.find("label");
  if (label_it == record.end() || label_it->is_null()) {
    report_issue(report, options, file, line, "missing field 'label'");
    return std::nullopt;
  }
  const auto label = parse_label(*label_it);
  if (!label) {
    const std::string shown = label_it->is_string() ? label_it->get<std::string>() : label_it->dump();
    report_issue(report, options, file, line, "label '" + shown + "' is not 0/1 (or T/F, true/false)");
    return std::nullopt;
  }
  pair.same_sense = *label;
  pair.id = text_member(record, "id").value_or("");
  if (is_blank(pair.id)) pair.id = "line-" + std::to_string(line);
  pair.pos = text_member(record, "pos").value_or("");
  pair.language = text_member(record, "language").value_or("");
  pair.split = text_member(record, "split").value_or("");
  pair.sense_id_1 = text_member(record, "sense_id_1").value_or("");
  pair.sense_id_2 = text_member(record, "sense_id_2").value_or("");
  pair.span_1 = read_location(record, "target_word_location_1", pair.context_1, file, line, report, options);
  pair.span_2 = read_location(record, "target_word_location_2", pair.context_2, file, line, report, options);
  return pair;
}

std::vector<WordPair> read_pseval_jsonl(const std::string& path, ReadReport& report,
                                        const ReadOptions& options) {
  return read_jsonl_text(read_text_file(path), path, report, options);
}

std::vector<WordPair> read_pseval_json(const std::string& path, ReadReport& report,
                                       const ReadOptions& options) {
  const std::string text = read_text_file(path);
  nlohmann::json document;
  try {
    document = parse_json_bounded(text, path);
  } catch (const JsonError& e) {
    if (json_nested_deeper_than(text, kMaxJsonDepth)) throw;  // no line of it is readable either
    return read_jsonl_text(text, path, report, options);  // JSONL saved as .json
  }
  const nlohmann::json* array = nullptr;
  if (document.is_array()) {
    array = &document;
  } else if (document.is_object()) {
    // A single record is a one-line JSONL file.
    if (document.contains("context_1")) return read_jsonl_text(document.dump(), path, report, options);
    for (const auto& [key, value] : document.items())
      if (value.is_array()) {
        array = &value;
        break;
      }
  }
  if (!array) {
    report_issue(report, options, path, 0, "holds no array of records");
    return {};
  }
  std::vector<nlohmann::json> records;
  std::vector<std::size_t> numbers;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const nlohmann::json& item = (*array)[i];
    // Hugging Face viewer export: {"row_idx": 0, "row": {...}}
    if (item.is_object() && !item.contains("context_1") && item.contains("row") && item["row"].is_object())
      records.push_back(item["row"]);
    else
      records.push_back(item);
    numbers.push_back(i + 1);
  }
  return read_records(records, numbers, path, report, options);
}

std::vector<WordPair> read_pseval_csv(const std::string& path, ReadReport& report,
                                      const ReadOptions& options) {
  const CsvParse csv = parse_csv(read_text_file(path));
  if (csv.records.empty()) {
    if (!csv.error.empty()) report_issue(report, options, path, csv.error_line, csv.error);
    else report_issue(report, options, path, 0, "empty file: no header row");
    return {};
  }
  std::vector<std::string> header;
  for (const auto& name : csv.records[0].fields) header.push_back(trimmed(name));
  std::vector<WordPair> pairs;
  for (std::size_t r = 1; r < csv.records.size(); ++r) {
    const CsvRecord& row = csv.records[r];
    ++report.records_seen;
    if (row.fields.size() != header.size()) {
      report_issue(report, options, path, row.line,
                   "row has " + std::to_string(row.fields.size()) + " fields, the header has " +
                       std::to_string(header.size()));
      continue;
    }
    nlohmann::json record = nlohmann::json::object();
    for (std::size_t c = 0; c < header.size(); ++c)
      if (!header[c].empty()) record[header[c]] = row.fields[c];
    if (auto pair = pair_from_record(record, path, row.line, report, options)) {
      pairs.push_back(std::move(*pair));
      ++report.records_kept;
    }
  }
  if (!csv.error.empty()) {
    ++report.records_seen;
    report_issue(report, options, path, csv.error_line, csv.error + "; the rest of the file is unreadable");
  }
  return pairs;
}

}  // namespace saescope::polysemy
