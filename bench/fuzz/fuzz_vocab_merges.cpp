// GPT-2's vocab.json + merges.txt (core/tokenizer/tokenizer_files.h): the input
// is both files, split at the first "\n#merges.txt\n"; the tokenizer built
// from them then encodes and decodes a fixed text.
#include <string_view>

#include "bench/fuzz/fuzz_common.h"
#include "core/tokenizer/bpe_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace saescope::tokenizer;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string_view sep = "\n#merges.txt\n";
  const size_t cut = input.find(sep);
  const std::string_view vocab = input.substr(0, cut);
  const std::string_view merges = cut == std::string_view::npos ? std::string_view() : input.substr(cut + sep.size());
  const std::string& vocab_path = saescope::fuzz::write_temp(
      reinterpret_cast<const uint8_t*>(vocab.data()), vocab.size(), "vocab.json");
  const std::string& merges_path = saescope::fuzz::write_temp(
      reinterpret_cast<const uint8_t*>(merges.data()), merges.size(), "merges.txt");
  saescope::fuzz::expect_input_errors_only([&] {
    const BpeTokenizer t = BpeTokenizer::from_vocab_and_merges(vocab_path, merges_path);
    const Encoding e = t.encode("the <|endoftext|> thé 12 don't\n\xff", {true, true});
    if (e.offsets.size() != e.ids.size()) std::abort();
    (void)t.decode(e.ids);
  });
  return 0;
}
