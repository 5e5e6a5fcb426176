// The corpus readers (core/corpus/corpus_windows.h): the input's first byte
// picks the format (bit 0: .jsonl, else plain text) and the context length
// (2 + bits 1-4), the rest is the corpus file. Its documents are read, then
// cut into windows with GPT-2's tokenizer (resources/demo/model): counted,
// read to the end, and re-read after a seek, which must give the same windows.
#include "bench/fuzz/fuzz_common.h"
#include "core/corpus/corpus_windows.h"
#include "core/tokenizer/bpe_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace saescope;
  static const tokenizer::BpeTokenizer gpt2 = tokenizer::BpeTokenizer::from_vocab_and_merges(
      SAESCOPE_SOURCE_DIR "/resources/demo/model/vocab.json", SAESCOPE_SOURCE_DIR "/resources/demo/model/merges.txt");
  if (size == 0) return 0;
  const bool jsonl = data[0] & 1;
  analysis::CorpusOptions options;
  options.context = 2 + ((data[0] >> 1) & 15);
  options.prepend_bos = !(data[0] & 0x20);
  const std::string& path = fuzz::write_temp(data + 1, size - 1, jsonl ? "corpus.jsonl" : "corpus.txt");
  fuzz::expect_input_errors_only([&] {
    analysis::CorpusDocuments docs(path);
    std::string text;
    while (docs.next(text)) {
    }
    analysis::CorpusWindows windows(path, gpt2, options);
    const analysis::WindowCount count = windows.count();
    std::vector<analysis::TokenWindow> all;
    for (auto batch = windows.next(3); !batch.empty(); batch = windows.next(3))
      all.insert(all.end(), batch.begin(), batch.end());
    if (int64_t(all.size()) != count.windows) {
      std::fprintf(stderr, "FINDING: count() says %lld windows, next() gave %zu\n", (long long)count.windows, all.size());
      std::abort();
    }
    if (!all.empty()) {
      windows.seek(all.size() / 2);
      const auto again = windows.next(1);
      if (again.size() != 1 || again[0].tokens != all[all.size() / 2].tokens) {
        std::fprintf(stderr, "FINDING: seek(%zu) gave another window\n", all.size() / 2);
        std::abort();
      }
    }
  });
  return 0;
}
