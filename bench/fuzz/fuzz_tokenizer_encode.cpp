// The tokenizer on arbitrary bytes (core/tokenizer/bpe_tokenizer.h): GPT-2's
// real vocabulary (resources/demo/model) encodes the input after its first
// byte (bit 0: allow_special). Checked, as bpe_tokenizer.h promises for any
// bytes: the offsets cover the text contiguously, each token's bytes are its
// slice of the text, encode_ids agrees and decode(encode(b)) == b.
#include <string>
#include <string_view>

#include "bench/fuzz/fuzz_common.h"
#include "core/tokenizer/bpe_tokenizer.h"

namespace {
void fail(const char* what) {
  std::fprintf(stderr, "FINDING: %s\n", what);
  std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace saescope::tokenizer;
  static const BpeTokenizer gpt2 = BpeTokenizer::from_vocab_and_merges(
      SAESCOPE_SOURCE_DIR "/resources/demo/model/vocab.json", SAESCOPE_SOURCE_DIR "/resources/demo/model/merges.txt");
  if (size == 0) return 0;
  const bool special = data[0] & 1;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  saescope::fuzz::expect_input_errors_only([&] {
    const Encoding e = gpt2.encode(text, {special, false});
    if (e.offsets.size() != e.ids.size()) fail("offsets and ids differ in number");
    size_t pos = 0;
    for (size_t i = 0; i < e.ids.size(); ++i) {
      if (e.offsets[i].begin != pos || e.offsets[i].end <= e.offsets[i].begin || e.offsets[i].end > text.size())
        fail("offsets do not cover the text contiguously");
      if (text.substr(pos, e.offsets[i].end - pos) != gpt2.token_string(e.ids[i]))
        fail("a token's bytes differ from its slice of the text");
      pos = e.offsets[i].end;
    }
    if (pos != text.size()) fail("offsets stop before the end of the text");
    if (gpt2.encode_ids(text, {special, false}) != e.ids) fail("encode_ids differs from encode");
    if (gpt2.decode(e.ids) != text) fail("decode(encode(b)) != b");
  });
  return 0;
}
