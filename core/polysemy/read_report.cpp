#include "core/polysemy/read_report.h"

#include "core/common/error.h"

namespace saescope::polysemy {

std::size_t ReadReport::skipped_count() const {
  std::size_t n = 0;
  for (const auto& issue : issues) n += issue.skipped ? 1 : 0;
  return n;
}

std::string format_issue(const ReadIssue& issue) {
  std::string where = issue.file;
  if (issue.line > 0) where += ":" + std::to_string(issue.line);
  return where + ": " + issue.reason;
}

void report_issue(ReadReport& report, const ReadOptions& options, const std::string& file,
                  std::size_t line, std::string reason, bool skipped) {
  ReadIssue issue{file, line, std::move(reason), skipped};
  if (options.strict) throw InputError(format_issue(issue));
  report.issues.push_back(std::move(issue));
}

}  // namespace saescope::polysemy
