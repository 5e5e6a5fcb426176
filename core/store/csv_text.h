#pragma once
// The CSV the workspace's tables are exported as (RFC 4180), written in one
// place so every export quotes alike.
#include <string>
#include <vector>

namespace saescope::store {

// One record and its newline. A cell is quoted (quotes doubled) when it holds
// a comma, a quote or a line break, or begins or ends with a space, which
// spreadsheets would otherwise trim (a token such as " bank").
std::string csv_record(const std::vector<std::string>& cells);

}  // namespace saescope::store
