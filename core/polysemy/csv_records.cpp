#include "core/polysemy/csv_records.h"

namespace saescope::polysemy {

CsvParse parse_csv(std::string_view text) {
  CsvParse out;
  std::size_t i = 0;
  std::size_t line = 1;
  const std::size_t n = text.size();
  while (i < n) {
    CsvRecord record;
    record.line = line;
    bool record_done = false;
    while (!record_done) {
      std::string field;
      if (i < n && text[i] == '"') {
        const std::size_t quote_line = line;
        ++i;
        bool closed = false;
        while (i < n) {
          const char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            closed = true;
            break;
          }
          if (c == '\n') ++line;
          field += c;
          ++i;
        }
        if (!closed) {
          out.error = "quoted field never closes";
          out.error_line = quote_line;
          return out;
        }
        // Lenient: text between a closing quote and the next separator is kept.
        while (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r') field += text[i++];
      } else {
        while (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r') field += text[i++];
      }
      record.fields.push_back(std::move(field));
      if (i < n && text[i] == ',') {
        ++i;
        continue;  // another field follows, possibly empty at end of text
      }
      if (i < n && text[i] == '\r') ++i;
      if (i < n && text[i] == '\n') ++i;
      ++line;
      record_done = true;
    }
    const bool blank = record.fields.size() == 1 && record.fields[0].empty();
    if (!blank) out.records.push_back(std::move(record));
  }
  return out;
}

}  // namespace saescope::polysemy
