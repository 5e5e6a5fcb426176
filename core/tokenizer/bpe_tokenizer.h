#pragma once
// A Hugging Face BPE tokenizer, exact to the id: GPT-2's vocab.json +
// merges.txt, or any tokenizer.json with a BPE model — byte-level (GPT-2,
// GPT-NeoX, llama 3, Qwen 2/3) or SentencePiece-style with byte fallback
// (gemma 2/3, llama 2). The pipeline is HF's: added tokens are cut out of
// the text, the rest is normalized, split by the pre-tokenizer and merged by
// the model. Tests check the ids against HF's own `tokenizers` on the real
// files (see README.md).
//
// Text is UTF-8 bytes. Invalid UTF-8 is never rejected and never altered: in
// a byte-level tokenizer each byte that is not part of a well-formed sequence
// becomes its own single-byte token, in a SentencePiece-style one its <0xNN>
// token (or the unknown token), and normalizers pass it through; so
// decode(encode(b)) == b for any bytes b, and offsets stay offsets into the
// caller's buffer. (HF's tokenizers take Unicode strings and cannot see
// invalid bytes.)
//
// Special added tokens (<|endoftext|>, <bos>, ...) are recognised in text only
// with EncodeOptions::allow_special, as HF does; otherwise they are encoded as
// the characters they are made of. Non-special added tokens always are.
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
  bool allow_special = false;       // recognise "<|endoftext|>" etc. as special tokens
  bool add_special_tokens = false;  // add what HF's encode() adds by default (BOS, ...)
};

struct TokenizerSpec;

class BpeTokenizer {
 public:
  static BpeTokenizer from_vocab_and_merges(const std::filesystem::path& vocab_json,
                                            const std::filesystem::path& merges_txt);
  static BpeTokenizer from_tokenizer_json(const std::filesystem::path& tokenizer_json);
  explicit BpeTokenizer(TokenizerSpec spec);  // InputError when the spec cannot work

  BpeTokenizer(BpeTokenizer&&) noexcept;
  BpeTokenizer& operator=(BpeTokenizer&&) noexcept;
  ~BpeTokenizer();

  // Thread-safe; calls share one cache of BPE results per pre-token.
  Encoding encode(std::string_view text, const EncodeOptions& options = {}) const;
  std::vector<TokenId> encode_ids(std::string_view text, const EncodeOptions& options = {}) const;

  // The bytes the ids stand for, concatenated, less what the decoder strips
  // from the start (llama 2's prefix space). Ids that split a character give
  // invalid UTF-8 here, as they do in GPT-2 and for <0xNN> tokens. InputError
  // for an id outside the vocabulary.
  std::string decode(const std::vector<TokenId>& ids) const;

  // The bytes one token stands for (" the" for GPT-2's id 262 and for
  // gemma's "▁the"); may be part of a UTF-8 character.
  const std::string& token_string(TokenId id) const;
  // The token as written in the vocabulary ("Ġthe", "▁the").
  const std::string& raw_token_string(TokenId id) const;
  // The id of a vocabulary string (raw form, e.g. "Ġthe").
  std::optional<TokenId> token_id(std::string_view raw) const;

  TokenId vocab_size() const;  // one past the largest id (50257 for GPT-2)
  // The document separator: "<|endoftext|>" (GPT-2's 50256) when the
  // vocabulary has it, else tokenizer_config.json's eos_token; -1 if neither.
  TokenId eot_id() const;
  bool is_special(TokenId id) const;
  const std::string& source() const;  // the file(s) it was read from

  // Empties the per-pre-token cache (benchmarks measure a cold start with it).
  void clear_cache() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads the tokenizer of a HF model folder: tokenizer.json (with
// tokenizer_config.json) when present, else vocab.json + merges.txt.
// InputError naming the folder when it holds neither.
BpeTokenizer load_tokenizer(const std::filesystem::path& dir);

}  // namespace saescope::tokenizer
