#pragma once
// RFC 4180 CSV as pandas and spreadsheets write it: comma separated, fields in
// double quotes may hold commas, newlines and "" (an escaped quote). Each
// record keeps the line it starts on, so readers can name bad rows.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace saescope::polysemy {

struct CsvRecord {
  std::size_t line = 0;  // 1-based line where the record starts
  std::vector<std::string> fields;
};

struct CsvParse {
  std::vector<CsvRecord> records;  // blank lines are dropped
  // Set when a quoted field never closes: the records before it are still
  // returned, the rest of the text is unusable.
  std::string error;
  std::size_t error_line = 0;
};

CsvParse parse_csv(std::string_view text);

}  // namespace saescope::polysemy
