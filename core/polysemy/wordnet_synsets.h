#pragma once
// WordNet 3.0 data files (wndb(5)): data.noun, data.verb, data.adj, data.adv.
// Each line: synset_offset lex_filenum ss_type w_cnt (hex) {word lex_id}...
// p_cnt {pointer}... [frames] | gloss. Lines starting with two spaces are
// the licence header. The gloss holds the definition(s) and, in double quotes,
// example sentences — the raw material of a sense-labelled polysemy set.
#include <string>
#include <vector>

#include "core/polysemy/morphy.h"

namespace saescope::polysemy {

struct Synset {
  std::string offset;  // 8 digits, as in the file
  char ss_type = 'n';  // n v a s r (s = adjective satellite)
  WordClass word_class = WordClass::noun;
  std::vector<std::string> lemmas;  // as written ('_' between words), markers such as "(p)" removed
  std::string definition;
  std::vector<std::string> examples;
};

struct GlossParts {
  std::string definition;  // the text before the first quote, without trailing ';'
  std::vector<std::string> examples;  // each "..." segment, trimmed; an unclosed quote is dropped
};

GlossParts split_gloss(const std::string& gloss);

// Every synset of one data file; a malformed line is an InputError naming the
// file and line (the database is either intact or not worth sampling).
std::vector<Synset> read_synsets(const std::string& data_path, WordClass word_class);

}  // namespace saescope::polysemy
