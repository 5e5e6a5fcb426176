#include "core/store/csv_text.h"

namespace saescope::store {
namespace {

std::string csv_cell(const std::string& s) {
  const bool edge_space = !s.empty() && (s.front() == ' ' || s.back() == ' ');
  if (!edge_space && s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string quoted = "\"";
  for (char c : s) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace

std::string csv_record(const std::vector<std::string>& cells) {
  std::string out;
  for (std::size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + csv_cell(cells[i]);
  return out + "\n";
}

}  // namespace saescope::store
