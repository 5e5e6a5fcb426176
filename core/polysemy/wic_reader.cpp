#include "core/polysemy/wic_reader.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <optional>

#include "core/common/error.h"
#include "core/polysemy/text_files.h"

namespace saescope::polysemy {
namespace {

namespace fs = std::filesystem;
constexpr const char* kDataSuffix = ".data.txt";

std::vector<std::string_view> split_on(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t begin = 0;
  while (true) {
    const std::size_t at = s.find(sep, begin);
    if (at == std::string_view::npos) {
      parts.push_back(s.substr(begin));
      return parts;
    }
    parts.push_back(s.substr(begin, at - begin));
    begin = at + 1;
  }
}

std::string trimmed(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::optional<std::size_t> parse_index(std::string_view s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  std::size_t v = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    v = v * 10 + static_cast<std::size_t>(c - '0');
  }
  return v;
}

// The byte span of the index-th space-separated token.
std::optional<CharSpan> token_span(const std::string& sentence, std::size_t index) {
  std::size_t token = 0;
  std::size_t i = 0;
  while (i < sentence.size()) {
    while (i < sentence.size() && sentence[i] == ' ') ++i;
    if (i >= sentence.size()) break;
    std::size_t end = i;
    while (end < sentence.size() && sentence[end] != ' ') ++end;
    if (token == index) return CharSpan{i, end};
    ++token;
    i = end;
  }
  return std::nullopt;
}

std::size_t token_count(const std::string& sentence) {
  std::size_t n = 0;
  while (token_span(sentence, n)) ++n;
  return n;
}

std::map<std::string, fs::path> find_data_files(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InputError(dir + ": not a folder");
  std::map<std::string, fs::path> by_split;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string name = it->path().filename().string();
    const std::size_t suffix = std::string(kDataSuffix).size();
    if (name.size() <= suffix || name.compare(name.size() - suffix, suffix, kDataSuffix) != 0) continue;
    const std::string split = name.substr(0, name.size() - suffix);
    // Two files of one split name (a copy in a subfolder): keep the first by path.
    auto [pos, inserted] = by_split.emplace(split, it->path());
    if (!inserted && it->path() < pos->second) pos->second = it->path();
  }
  if (ec) throw InputError(dir + ": cannot list (" + ec.message() + ")");
  return by_split;
}

}  // namespace

std::vector<std::string> wic_splits(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& [split, path] : find_data_files(dir)) names.push_back(split);
  return names;
}

std::vector<WordPair> read_wic_split(const std::string& data_path, const std::string& gold_path,
                                     const std::string& split, ReadReport& report,
                                     const ReadOptions& options) {
  const std::string data_text = read_text_file(data_path);
  const std::string gold_text = read_text_file(gold_path);
  const auto data_lines = split_lines(data_text);
  const auto gold_lines = split_lines(gold_text);
  std::vector<WordPair> pairs;
  for (std::size_t i = 0; i < data_lines.size(); ++i) {
    const std::size_t line = i + 1;
    if (trimmed(data_lines[i]).empty()) continue;
    ++report.records_seen;
    const auto fields = split_on(data_lines[i], '\t');
    if (fields.size() != 5) {
      report_issue(report, options, data_path, line,
                   "expected 5 tab-separated fields, found " + std::to_string(fields.size()));
      continue;
    }
    WordPair pair;
    pair.target_word = trimmed(fields[0]);
    pair.pos = trimmed(fields[1]);
    pair.context_1 = trimmed(fields[3]);
    pair.context_2 = trimmed(fields[4]);
    if (pair.target_word.empty() || pair.context_1.empty() || pair.context_2.empty()) {
      report_issue(report, options, data_path, line, "empty target word or sentence");
      continue;
    }
    const std::string index_field = trimmed(fields[2]);  // indices view into it: keep it alive
    const auto indices = split_on(index_field, '-');
    const auto i1 = indices.size() == 2 ? parse_index(indices[0]) : std::nullopt;
    const auto i2 = indices.size() == 2 ? parse_index(indices[1]) : std::nullopt;
    if (!i1 || !i2) {
      report_issue(report, options, data_path, line,
                   "index field '" + std::string(fields[2]) + "' is not \"i-j\"");
      continue;
    }
    pair.span_1 = token_span(pair.context_1, *i1);
    pair.span_2 = token_span(pair.context_2, *i2);
    if (!pair.span_1 || !pair.span_2) {
      const bool first = !pair.span_1;
      report_issue(report, options, data_path, line,
                   "token index " + std::to_string(first ? *i1 : *i2) + " past the end of sentence " +
                       (first ? "1" : "2") + " (" +
                       std::to_string(token_count(first ? pair.context_1 : pair.context_2)) +
                       " tokens)");
      continue;
    }
    if (i >= gold_lines.size()) {
      report_issue(report, options, data_path, line,
                   "no gold label: " + gold_path + " has only " + std::to_string(gold_lines.size()) +
                       " lines");
      continue;
    }
    const std::string gold = trimmed(gold_lines[i]);
    if (gold != "T" && gold != "F") {
      report_issue(report, options, gold_path, line, "gold label '" + gold + "' is not T or F");
      continue;
    }
    pair.same_sense = gold == "T";
    pair.id = split + "-" + std::to_string(line);
    pair.language = "en";
    pair.split = split;
    pairs.push_back(std::move(pair));
    ++report.records_kept;
  }
  for (std::size_t i = data_lines.size(); i < gold_lines.size(); ++i)
    if (!trimmed(gold_lines[i]).empty())
      report_issue(report, options, gold_path, i + 1, "gold label without a data line");
  return pairs;
}

std::vector<WordPair> read_wic_folder(const std::string& dir, ReadReport& report,
                                      const ReadOptions& options) {
  const auto files = find_data_files(dir);
  if (files.empty()) throw InputError(dir + ": no *.data.txt file (not a WiC folder)");
  if (!options.split.empty() && !files.count(options.split)) {
    std::string known;
    for (const auto& [split, path] : files) known += (known.empty() ? "" : ", ") + split;
    throw InputError(dir + ": no split '" + options.split + "' (found: " + known + ")");
  }
  std::vector<WordPair> pairs;
  for (const auto& [split, data_path] : files) {
    if (!options.split.empty() && split != options.split) continue;
    const fs::path gold_path = data_path.parent_path() / (split + ".gold.txt");
    std::error_code ec;
    if (!fs::is_regular_file(gold_path, ec)) {
      report_issue(report, options, data_path.string(), 0,
                   "no gold file " + gold_path.filename().string() + "; split '" + split + "' skipped");
      continue;
    }
    auto part = read_wic_split(data_path.string(), gold_path.string(), split, report, options);
    pairs.insert(pairs.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  return pairs;
}

}  // namespace saescope::polysemy
