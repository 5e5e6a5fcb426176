#include "core/polysemy/morphy.h"

#include <algorithm>
#include <sstream>

#include "core/common/error.h"
#include "core/polysemy/text_files.h"

namespace saescope::polysemy {
namespace {

struct Rule {
  const char* suffix;
  const char* ending;
};

// The detachment table of WordNet 3.0's morph.c, in its order.
const std::vector<Rule>& rules(WordClass word_class) {
  static const std::vector<Rule> noun = {{"s", ""},     {"ses", "s"},   {"xes", "x"},
                                         {"zes", "z"},  {"ches", "ch"}, {"shes", "sh"},
                                         {"men", "man"}, {"ies", "y"}};
  static const std::vector<Rule> verb = {{"s", ""},   {"ies", "y"}, {"es", "e"},  {"es", ""},
                                         {"ed", "e"}, {"ed", ""},   {"ing", "e"}, {"ing", ""}};
  static const std::vector<Rule> adjective = {{"er", ""}, {"est", ""}, {"er", "e"}, {"est", "e"}};
  static const std::vector<Rule> none;
  switch (word_class) {
    case WordClass::noun: return noun;
    case WordClass::verb: return verb;
    case WordClass::adjective: return adjective;
    case WordClass::adverb: return none;
  }
  return none;
}

std::string underscores_to_spaces(std::string s) {
  std::replace(s.begin(), s.end(), '_', ' ');
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

const char* word_class_file_stem(WordClass word_class) {
  switch (word_class) {
    case WordClass::noun: return "noun";
    case WordClass::verb: return "verb";
    case WordClass::adjective: return "adj";
    case WordClass::adverb: return "adv";
  }
  return "noun";
}

Morphy Morphy::load(const std::string& wordnet_dir) {
  Morphy morphy;
  for (WordClass wc : {WordClass::noun, WordClass::verb, WordClass::adjective, WordClass::adverb}) {
    const std::string path = wordnet_dir + "/" + word_class_file_stem(wc) + ".exc";
    const std::string text = read_text_file(path);
    for (std::string_view line : split_lines(text)) {
      std::istringstream fields{std::string(line)};
      std::string inflected, base;
      if (!(fields >> inflected)) continue;
      while (fields >> base) morphy.add_exception(wc, inflected, base);
    }
  }
  return morphy;
}

void Morphy::add_exception(WordClass word_class, const std::string& inflected, const std::string& base) {
  auto& bases = exceptions_[static_cast<std::size_t>(word_class)][underscores_to_spaces(inflected)];
  const std::string b = underscores_to_spaces(base);
  if (std::find(bases.begin(), bases.end(), b) == bases.end()) bases.push_back(b);
}

std::vector<std::string> Morphy::base_forms(const std::string& word, WordClass word_class) const {
  std::vector<std::string> forms{word};
  auto add = [&forms](const std::string& form) {
    if (!form.empty() && std::find(forms.begin(), forms.end(), form) == forms.end()) forms.push_back(form);
  };
  const auto& table = exceptions_[static_cast<std::size_t>(word_class)];
  if (auto it = table.find(word); it != table.end())
    for (const auto& base : it->second) add(base);
  for (const Rule& rule : rules(word_class)) {
    const std::string suffix = rule.suffix;
    if (word.size() > suffix.size() && ends_with(word, suffix))
      add(word.substr(0, word.size() - suffix.size()) + rule.ending);
  }
  return forms;
}

}  // namespace saescope::polysemy
