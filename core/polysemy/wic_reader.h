#pragma once
// The original Word-in-Context release (Pilehvar & Camacho-Collados 2019): a
// folder of splits, each `<split>.data.txt` (tab separated: target lemma, POS
// "N"/"V", token indices "i-j", sentence 1, sentence 2 — sentences are
// space-tokenised, indices 0-based) beside `<split>.gold.txt` (one T/F per
// line, line k labels data line k). Usually train/, dev/, test/ subfolders.
#include <string>
#include <vector>

#include "core/polysemy/read_report.h"
#include "core/polysemy/word_pair.h"

namespace saescope::polysemy {

// Every `*.data.txt` under `dir` (searched recursively, read in path order),
// or only the split `options.split`. A split without its gold file is
// reported (line 0) and skipped: its pairs carry no label. Pair ids are
// "<split>-<line>", `split` is set, spans come from the token indices.
std::vector<WordPair> read_wic_folder(const std::string& dir, ReadReport& report,
                                      const ReadOptions& options = {});

// One split from its two files.
std::vector<WordPair> read_wic_split(const std::string& data_path, const std::string& gold_path,
                                     const std::string& split, ReadReport& report,
                                     const ReadOptions& options = {});

// The split names found under `dir` (from `<split>.data.txt`), sorted.
std::vector<std::string> wic_splits(const std::string& dir);

}  // namespace saescope::polysemy
