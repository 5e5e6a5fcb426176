#include "core/polysemy/sense_label.h"

#include <cctype>

namespace saescope::polysemy {
namespace {

std::string pos_abbreviation(std::string pos, const std::string& sense_id) {
  if (pos.empty() && sense_id.size() > 2 && sense_id[sense_id.size() - 2] == '-')
    pos = sense_id.substr(sense_id.size() - 1);
  if (pos.empty()) return "";
  switch (std::tolower(static_cast<unsigned char>(pos[0]))) {
    case 'n': return "n.";
    case 'v': return "v.";
    case 'a': case 's': case 'j': return "adj.";
    case 'r': return "adv.";
    default: return "";
  }
}

// At most `max` bytes, cut before a word, never inside a UTF-8 sequence.
std::string cut(const std::string& text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  const std::size_t space = text.rfind(' ', end);
  if (space != std::string::npos && space > max / 2) end = space;
  while (end > 0 && (text[end - 1] == ' ' || text[end - 1] == ',' || text[end - 1] == ';')) --end;
  return text.substr(0, end) + "\xE2\x80\xA6";  // …
}

}  // namespace

std::string sense_label(const std::string& word, const std::string& sense_id, const std::string& gloss,
                        std::size_t max_chars, const std::string& pos) {
  if (gloss.empty()) return sense_id;
  const std::string p = pos_abbreviation(pos, sense_id);
  const std::string head = word + (p.empty() ? "" : " (" + p + ")") + ": ";
  return head + cut(gloss, max_chars > head.size() + 8 ? max_chars - head.size() : 8);
}

}  // namespace saescope::polysemy
