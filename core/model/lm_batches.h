#pragma once
// What a language model trains on: a JSONL corpus as one token stream, and
// batches of windows cut from it.
//
// The stream is every document's tokens followed by <|endoftext|>, as GPT-2
// was trained. A training batch is drawn from (seed, step) alone, not from a
// generator's running state, so a run resumed at step s draws exactly the
// batches an uninterrupted run would have.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace saescope::tokenizer {
class BpeTokenizer;
}

namespace saescope::model {

struct TokenStream {
  std::vector<int32_t> ids;
  int64_t documents = 0;
  std::string source;  // the file it was read from, for messages
};

// Reads `jsonl` (one {"text": "..."} object per line; blank lines skipped)
// and encodes the documents on `threads` threads (special tokens in the text
// stay plain text). InputError naming the file and line for a line that is
// not such an object, or when the file holds no document.
TokenStream tokenize_corpus(const std::string& jsonl, const tokenizer::BpeTokenizer& tokenizer,
                            int threads = 1);

// [batch, context + 1] int64: windows starting at positions drawn uniformly
// from the stream by a generator seeded with (seed, step); inputs are
// [:, :-1], targets [:, 1:]. InputError when the stream is shorter than a window.
at::Tensor random_windows(const TokenStream& stream, int64_t batch, int64_t context, uint64_t seed,
                          int64_t step);

// [n, context + 1] int64: windows spread evenly over the stream (the same
// every call: the validation set). Fewer than n when the stream is short.
at::Tensor spaced_windows(const TokenStream& stream, int64_t n, int64_t context);

}  // namespace saescope::model
