// The polysemy dataset readers (core/polysemy): the input's first byte picks
// the reader, the rest is the file. 0: a WiC split (<split>.data.txt, then
// "\n#gold\n", then <split>.gold.txt); 1: PS-Eval JSONL; 2: PS-Eval JSON; 3:
// PS-Eval CSV; 4: sense-labelled occurrences JSONL; 5-8: WordNet data.noun,
// .verb, .adj, .adv lines. Bit 7 reads strictly (the first problem throws).
// Checked: every span a reader keeps (UTF-8 bytes, word_pair.h) fits its
// context (as the readers promise: a location that does not fit is reported
// and dropped).
#include <string_view>

#include "bench/fuzz/fuzz_common.h"
#include "core/polysemy/occurrence_reader.h"
#include "core/polysemy/pseval_reader.h"
#include "core/polysemy/read_report.h"
#include "core/polysemy/wic_reader.h"
#include "core/polysemy/wordnet_synsets.h"

namespace {
using namespace saescope::polysemy;

void check_span(const std::optional<CharSpan>& span, const std::string& context) {
  if (!span) return;
  if (span->start > span->end || span->end > context.size()) {
    std::fprintf(stderr, "FINDING: span [%zu, %zu) does not fit its context\n", span->start, span->end);
    std::abort();
  }
}
void check(const std::vector<WordPair>& pairs) {
  for (const WordPair& p : pairs) {
    check_span(p.span_1, p.context_1);
    check_span(p.span_2, p.context_2);
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int kind = data[0] & 0x7f;
  ReadOptions options;
  options.strict = data[0] & 0x80;
  ++data, --size;
  ReadReport report;
  saescope::fuzz::expect_input_errors_only([&] {
    switch (kind) {
      case 0: {
        const std::string_view input(reinterpret_cast<const char*>(data), size);
        const std::string_view sep = "\n#gold\n";
        const size_t cut = input.find(sep);
        const std::string_view text = input.substr(0, cut), gold = cut == std::string_view::npos ? "" : input.substr(cut + sep.size());
        const std::string& data_path = saescope::fuzz::write_temp(reinterpret_cast<const uint8_t*>(text.data()), text.size(), "dev.data.txt");
        const std::string& gold_path = saescope::fuzz::write_temp(reinterpret_cast<const uint8_t*>(gold.data()), gold.size(), "dev.gold.txt");
        check(read_wic_split(data_path, gold_path, "dev", report, options));
        break;
      }
      case 1: check(read_pseval_jsonl(saescope::fuzz::write_temp(data, size, "pseval.jsonl"), report, options)); break;
      case 2: check(read_pseval_json(saescope::fuzz::write_temp(data, size, "pseval.json"), report, options)); break;
      case 3: check(read_pseval_csv(saescope::fuzz::write_temp(data, size, "pseval.csv"), report, options)); break;
      case 4:
        for (const SenseOccurrence& o : read_occurrences_jsonl(saescope::fuzz::write_temp(data, size, "occ.jsonl"), report, options))
          check_span(o.span, o.context);
        break;
      case 5: case 6: case 7: case 8:
        for (const Synset& s : read_synsets(saescope::fuzz::write_temp(data, size, "data.wn"), WordClass(kind - 5)))
          (void)split_gloss(s.definition);
        break;
      default: break;
    }
    for (const ReadIssue& issue : report.issues) (void)format_issue(issue);
  });
  return 0;
}
