#pragma once
// The published PS-Eval set (gouki510/Wic_data_for_SAE-Eval) and anything
// written in its field names: id, context_1, context_2, target_word, pos,
// target_word_location_1/2 ({char_start, char_end} in code points, end
// exclusive), language, label (1 same meaning / 0 different), optional split.
// Required: context_1, context_2, target_word, label. A location that does not
// read or does not fit its context is reported and dropped; the pair is kept
// (the runner finds the word by tokenising anyway).
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/polysemy/read_report.h"
#include "core/polysemy/word_pair.h"

namespace saescope::polysemy {

// One line per JSON object; blank lines are ignored.
std::vector<WordPair> read_pseval_jsonl(const std::string& path, ReadReport& report,
                                        const ReadOptions& options = {});

// A .json file: an array of objects, or an object holding one (e.g. {"rows":
// [{"row": {...}}]} as the Hugging Face viewer exports it). For arrays the
// issue's `line` is the record number (1-based). Falls back to JSONL when the
// file is not one JSON document.
std::vector<WordPair> read_pseval_json(const std::string& path, ReadReport& report,
                                       const ReadOptions& options = {});

// A CSV file with a header row naming the fields (extra columns, such as a
// pandas index, are ignored).
std::vector<WordPair> read_pseval_csv(const std::string& path, ReadReport& report,
                                      const ReadOptions& options = {});

// One record -> pair, reporting what is wrong with it against file:line.
std::optional<WordPair> pair_from_record(const nlohmann::json& record, const std::string& file,
                                         std::size_t line, ReadReport& report,
                                         const ReadOptions& options);

}  // namespace saescope::polysemy
