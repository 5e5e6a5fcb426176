#include "core/polysemy/pair_dataset.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/common/json_file.h"
#include "core/polysemy/occurrence_reader.h"
#include "core/polysemy/pseval_reader.h"
#include "core/polysemy/sense_pairs.h"
#include "core/polysemy/text_files.h"
#include "core/polysemy/wic_reader.h"

namespace saescope::polysemy {
namespace {

namespace fs = std::filesystem;

// True when the first non-blank, parseable line looks like an occurrence.
bool looks_like_occurrences(const std::string& path) {
  const std::string text = read_text_file(path);
  for (std::string_view line : split_lines(text)) {
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    try {
      const auto record = parse_json_bounded(line, path);
      if (!record.is_object()) continue;
      return record.contains("sense_id") && record.contains("context") && !record.contains("context_1");
    } catch (const JsonError&) {
      continue;
    }
  }
  return false;
}

}  // namespace

const char* dataset_kind_name(DatasetKind kind) {
  switch (kind) {
    case DatasetKind::wic_folder: return "wic-folder";
    case DatasetKind::pseval_jsonl: return "pseval-jsonl";
    case DatasetKind::pseval_json: return "pseval-json";
    case DatasetKind::pseval_csv: return "pseval-csv";
    case DatasetKind::occurrences_jsonl: return "occurrences-jsonl";
  }
  return "unknown";
}

DatasetKind detect_dataset_kind(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path + ": no such file or folder");
  if (fs::is_directory(path, ec)) return DatasetKind::wic_folder;
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".jsonl" || ext == ".ndjson")
    return looks_like_occurrences(path) ? DatasetKind::occurrences_jsonl : DatasetKind::pseval_jsonl;
  if (ext == ".json") return DatasetKind::pseval_json;
  if (ext == ".csv") return DatasetKind::pseval_csv;
  throw InputError(path + ": unknown dataset kind (expected a WiC folder, .jsonl, .json or .csv)");
}

PairDataset load_pair_dataset(const std::string& path, const ReadOptions& options) {
  PairDataset data;
  data.kind = detect_dataset_kind(path);
  switch (data.kind) {
    case DatasetKind::wic_folder: data.pairs = read_wic_folder(path, data.report, options); break;
    case DatasetKind::pseval_jsonl: data.pairs = read_pseval_jsonl(path, data.report, options); break;
    case DatasetKind::pseval_json: data.pairs = read_pseval_json(path, data.report, options); break;
    case DatasetKind::pseval_csv: data.pairs = read_pseval_csv(path, data.report, options); break;
    case DatasetKind::occurrences_jsonl:
      data.occurrences = read_occurrences_jsonl(path, data.report, options);
      data.pairs = make_sense_pairs(data.occurrences).pairs;
      break;
  }
  if (!options.split.empty() && data.kind != DatasetKind::wic_folder) {
    std::set<std::string> present;
    for (const auto& pair : data.pairs) present.insert(pair.split);
    if (!present.count(options.split)) {
      std::string known;
      for (const auto& s : present) known += (known.empty() ? "" : ", ") + (s.empty() ? "(none)" : s);
      throw InputError(path + ": no pair has split '" + options.split + "' (found: " + known + ")");
    }
    data.pairs.erase(std::remove_if(data.pairs.begin(), data.pairs.end(),
                                    [&](const WordPair& p) { return p.split != options.split; }),
                     data.pairs.end());
  }
  return data;
}

}  // namespace saescope::polysemy
