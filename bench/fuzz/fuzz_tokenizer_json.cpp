// tokenizer.json (core/tokenizer/tokenizer_files.h, bpe_tokenizer.h): an
// arbitrary file loaded as a BPE tokenizer, which then encodes and decodes a
// few fixed texts and the input's own last bytes.
#include <string_view>

#include "bench/fuzz/fuzz_common.h"
#include "core/tokenizer/bpe_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace saescope::tokenizer;
  const std::string& path = saescope::fuzz::write_temp(data, size, "tokenizer.json");
  saescope::fuzz::expect_input_errors_only([&] {
    const BpeTokenizer t = BpeTokenizer::from_tokenizer_json(path);
    const std::string_view tail(reinterpret_cast<const char*>(data) + (size > 48 ? size - 48 : 0),
                                size > 48 ? 48 : size);
    for (std::string_view text : {std::string_view("the <|endoftext|> <s> thé 12 don't\n\xff\xc3"), tail}) {
      for (bool special : {false, true}) {
        const Encoding e = t.encode(text, {special, special});
        if (e.offsets.size() != e.ids.size()) std::abort();
        for (const TokenId id : e.ids) (void)t.token_string(id);
        (void)t.decode(e.ids);
      }
    }
    (void)t.vocab_size();
  });
  return 0;
}
