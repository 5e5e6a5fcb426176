#pragma once
// What a dataset reader could not use. Readers keep going past bad lines (a
// published set with one broken row is still worth reading) and list every
// problem with its file and line, unless the caller asks for strict reading.
#include <cstddef>
#include <string>
#include <vector>

namespace saescope::polysemy {

struct ReadIssue {
  std::string file;
  std::size_t line = 0;  // 1-based; 0 = the file (or a split) as a whole
  std::string reason;
  bool skipped = true;   // false: the record was kept without the faulty part
};

struct ReadReport {
  std::vector<ReadIssue> issues;
  std::size_t records_seen = 0;  // non-blank records examined
  std::size_t records_kept = 0;
  std::size_t skipped_count() const;
};

struct ReadOptions {
  bool strict = false;  // the first problem throws InputError "file:line: reason"
  // Read only this split: a WiC folder's split, or (load_pair_dataset) the
  // pairs whose "split" field equals it. "" = everything.
  std::string split;
};

// "file:line: reason" (or "file: reason" for line 0).
std::string format_issue(const ReadIssue& issue);

// Appends the issue; in strict mode throws InputError instead.
void report_issue(ReadReport& report, const ReadOptions& options, const std::string& file,
                  std::size_t line, std::string reason, bool skipped = true);

}  // namespace saescope::polysemy
