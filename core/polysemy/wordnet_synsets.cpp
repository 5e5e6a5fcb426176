#include "core/polysemy/wordnet_synsets.h"

#include <cctype>
#include <sstream>

#include "core/common/error.h"
#include "core/polysemy/text_files.h"

namespace saescope::polysemy {
namespace {

std::string trim(const std::string& s, const char* extra = "") {
  auto drop = [extra](char c) {
    return std::isspace(static_cast<unsigned char>(c)) || std::string(extra).find(c) != std::string::npos;
  };
  std::size_t b = 0, e = s.size();
  while (b < e && drop(s[b])) ++b;
  while (e > b && drop(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// Adjective lemmas may carry a syntactic marker: "galore(ip)", "ready_to_hand(p)".
std::string strip_marker(std::string lemma) {
  for (const char* marker : {"(ip)", "(p)", "(a)"}) {
    const std::string m = marker;
    if (lemma.size() > m.size() && lemma.compare(lemma.size() - m.size(), m.size(), m) == 0) {
      lemma.resize(lemma.size() - m.size());
      break;
    }
  }
  return lemma;
}

}  // namespace

GlossParts split_gloss(const std::string& gloss) {
  GlossParts parts;
  const std::size_t first_quote = gloss.find('"');
  parts.definition = trim(gloss.substr(0, first_quote), ";");
  std::size_t at = first_quote;
  while (at != std::string::npos) {
    const std::size_t close = gloss.find('"', at + 1);
    if (close == std::string::npos) break;
    std::string example = trim(gloss.substr(at + 1, close - at - 1));
    if (!example.empty()) parts.examples.push_back(std::move(example));
    at = gloss.find('"', close + 1);
  }
  return parts;
}

std::vector<Synset> read_synsets(const std::string& data_path, WordClass word_class) {
  const std::string text = read_text_file(data_path);
  const auto lines = split_lines(text);
  std::vector<Synset> synsets;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (line.empty() || line.substr(0, 2) == "  ") continue;  // licence header
    auto bad = [&](const std::string& why) {
      return InputError(data_path + ":" + std::to_string(i + 1) + ": " + why);
    };
    const std::size_t bar = line.find('|');
    if (bar == std::string_view::npos) throw bad("no '|' before the gloss");
    std::istringstream head{std::string(line.substr(0, bar))};
    Synset synset;
    std::string lex_filenum, ss_type, w_cnt;
    if (!(head >> synset.offset >> lex_filenum >> ss_type >> w_cnt)) throw bad("truncated synset header");
    if (synset.offset.size() != 8 || ss_type.size() != 1 || std::string("nvasr").find(ss_type[0]) == std::string::npos)
      throw bad("not a synset line (offset '" + synset.offset + "', type '" + ss_type + "')");
    synset.ss_type = ss_type[0];
    synset.word_class = word_class;
    unsigned long count = 0;
    try {
      count = std::stoul(w_cnt, nullptr, 16);
    } catch (const std::exception&) {
      throw bad("word count '" + w_cnt + "' is not hexadecimal");
    }
    for (unsigned long w = 0; w < count; ++w) {
      std::string lemma, lex_id;
      if (!(head >> lemma >> lex_id)) throw bad("fewer words than the count " + w_cnt);
      synset.lemmas.push_back(strip_marker(lemma));
    }
    GlossParts gloss = split_gloss(std::string(line.substr(bar + 1)));
    synset.definition = std::move(gloss.definition);
    synset.examples = std::move(gloss.examples);
    synsets.push_back(std::move(synset));
  }
  return synsets;
}

}  // namespace saescope::polysemy
