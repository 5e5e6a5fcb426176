#pragma once
// GPT-2's byte-level BPE tokenizer, exact to the byte: the tests check its ids
// against tiktoken's r50k_base and the npm gpt-tokenizer (see README.md).
//
// Text is UTF-8 bytes. Pre-tokenisation uses GPT-2's regex with \s meaning
// Unicode White_Space (as in Python `regex`, tiktoken, HF tokenizers).
//
// Invalid UTF-8 is never rejected and never altered: every byte that is not
// part of a well-formed sequence becomes its own single-byte token (GPT-2 has
// one for each of the 256 bytes), and the valid text on either side is split
// as if the text ended/began at that byte. So decode(encode(b)) == b for any
// bytes b, and offsets stay offsets into the caller's buffer. (tiktoken and
// the JS gpt-tokenizer take Unicode strings and cannot see invalid bytes;
// callers that want their "replace with U+FFFD" behaviour do it before.)
//
// Special tokens (<|endoftext|>, and a tokenizer.json's special added tokens)
// are recognised in text only with EncodeOptions::allow_special; otherwise
// "<|endoftext|>" is encoded as the 13 characters it is made of.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace saescope::tokenizer {

using TokenId = std::int32_t;

// Byte range [begin, end) of the encoded text that one token stands for.
struct ByteSpan {
  std::size_t begin = 0;
  std::size_t end = 0;
  bool operator==(const ByteSpan& o) const { return begin == o.begin && end == o.end; }
};

struct Encoding {
  std::vector<TokenId> ids;
  std::vector<ByteSpan> offsets;  // one per id; contiguous, covering the text
};

struct EncodeOptions {
  bool allow_special = false;  // recognise "<|endoftext|>" etc. as special tokens
};

struct BpeVocabulary;

class BpeTokenizer {
 public:
  static BpeTokenizer from_vocab_and_merges(const std::filesystem::path& vocab_json,
                                            const std::filesystem::path& merges_txt);
  static BpeTokenizer from_tokenizer_json(const std::filesystem::path& tokenizer_json);
  explicit BpeTokenizer(BpeVocabulary vocabulary);  // checks it is byte-level BPE

  BpeTokenizer(BpeTokenizer&&) noexcept;
  BpeTokenizer& operator=(BpeTokenizer&&) noexcept;
  ~BpeTokenizer();

  // Thread-safe; calls share one cache of BPE results per pre-token.
  Encoding encode(std::string_view text, const EncodeOptions& options = {}) const;
  std::vector<TokenId> encode_ids(std::string_view text, const EncodeOptions& options = {}) const;

  // The bytes the ids stand for, concatenated. Ids that split a character
  // give invalid UTF-8 here, as they do in GPT-2. InputError for an id
  // outside the vocabulary.
  std::string decode(const std::vector<TokenId>& ids) const;

  // The bytes one token stands for (" the" for id 262); may be part of a
  // UTF-8 character.
  const std::string& token_string(TokenId id) const;
  // The token as written in the vocabulary ("Ġthe" for id 262).
  const std::string& raw_token_string(TokenId id) const;
  // The id of a vocabulary string (raw form, e.g. "Ġthe").
  std::optional<TokenId> token_id(std::string_view raw) const;

  TokenId vocab_size() const;  // one past the largest id (50257 for GPT-2)
  TokenId eot_id() const;      // id of "<|endoftext|>" (50256), -1 if there is none
  bool is_special(TokenId id) const;
  const std::string& source() const;  // the file(s) it was read from

  // Empties the per-pre-token cache (benchmarks measure a cold start with it).
  void clear_cache() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads the tokenizer of a HF model folder: tokenizer.json when present,
// else vocab.json + merges.txt. InputError naming the folder when it holds
// neither.
BpeTokenizer load_tokenizer(const std::filesystem::path& dir);

}  // namespace saescope::tokenizer
