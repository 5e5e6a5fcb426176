#pragma once
// One entry point for every pair source: give it a path, get pairs and a
// report of what could not be used.
//   folder            -> the WiC release (wic_reader.h)
//   .jsonl            -> PS-Eval fields, or sense-labelled occurrences when the
//                        first record has "sense_id" and "context" (pairs are
//                        then formed by make_sense_pairs with default options)
//   .json             -> PS-Eval array/export (pseval_reader.h)
//   .csv              -> PS-Eval CSV
#include <string>
#include <vector>

#include "core/polysemy/read_report.h"
#include "core/polysemy/sense_occurrence.h"
#include "core/polysemy/word_pair.h"

namespace saescope::polysemy {

enum class DatasetKind { wic_folder, pseval_jsonl, pseval_json, pseval_csv, occurrences_jsonl };

const char* dataset_kind_name(DatasetKind kind);

// InputError when the path does not exist or its extension is unknown.
DatasetKind detect_dataset_kind(const std::string& path);

struct PairDataset {
  DatasetKind kind = DatasetKind::pseval_jsonl;
  std::vector<WordPair> pairs;
  std::vector<SenseOccurrence> occurrences;  // only for occurrences_jsonl
  ReadReport report;
};

PairDataset load_pair_dataset(const std::string& path, const ReadOptions& options = {});

}  // namespace saescope::polysemy
