#pragma once
// The report's word pages: for the SAE whose features separate senses best
// (the highest NMI over its words, weighted by their sense-labelled
// occurrences), its best and worst separated words among those whose NMI
// means something (two senses seen at least twice, 8 occurrences; the bar is
// lowered when too few words pass), each with its senses named for people and its
// occurrences (word, gold sense, argmax feature and the sense that feature
// mostly fires for). Chosen here, from the store, so the app's Export and
// the headless report show the same pages; the UI only draws them.
#include <cstdint>
#include <string>
#include <vector>

namespace saescope::store {
class Workspace;
}

namespace saescope::polysemy {

struct WordPageOccurrence {
  std::string before, word, after;  // the context around the word (UTF-8)
  int sense = -1;                   // gold sense: index into WordPage::senses
  int64_t feature = -1;             // argmax feature; -1: all-zero code
  int feature_sense = -1;           // the sense that feature mostly fires for, or -1
};

struct WordPage {
  std::string word;
  std::string sae;   // the SAE's folder, as registered
  std::string hook;
  bool best = true;  // among the best separated (else the worst)
  double nmi = 0, purity = 0;
  int64_t occurrences = 0;
  std::vector<std::string> senses;  // "bank (n.): sloping land beside a body of water"
  std::vector<WordPageOccurrence> rows;  // at most max_rows, every sense shown
};

// Up to `per_end` best and `per_end` worst words (by NMI; all of them, best
// first, when there are fewer than 2·per_end). Empty when no PS-Eval result
// holds sense-labelled occurrences.
std::vector<WordPage> report_word_pages(store::Workspace& ws, int per_end = 4, int max_rows = 14);

}  // namespace saescope::polysemy
