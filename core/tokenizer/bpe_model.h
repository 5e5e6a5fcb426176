#pragma once
// The BPE model: one piece of normalized, pre-tokenized text in, token ids
// out. Byte-level (GPT-2, llama 3, Qwen): a piece starts as one symbol per
// byte; an invalid UTF-8 byte stays a token of its own. Character-level
// (SentencePiece-style: gemma, llama 2): a piece starts as one symbol per
// character; a character outside the vocabulary becomes its <0xNN> byte
// tokens (byte_fallback) or the unknown token (consecutive ones fused with
// fuse_unk). Then the merge rules run, lowest rank first.
#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/tokenizer/bpe_merges.h"
#include "core/tokenizer/tokenizer_spec.h"

namespace saescope::tokenizer {

// The byte a byte-fallback token stands for: "<0xE6>" -> 0xE6; nullopt for
// any other vocabulary string.
std::optional<char> byte_fallback_value(std::string_view raw);

class BpeModel {
 public:
  // `token_text` (id -> the bytes of normalized text a token covers: "▁the"
  // for a SentencePiece-style token, one byte for <0xNN>) and `spec` must
  // outlive this.
  BpeModel(const TokenizerSpec& spec, const std::vector<std::string>& token_text);

  // Appends the piece's ids, and with `lengths` each token's length in bytes
  // of the piece. Thread-safe; calls share a cache of results per piece.
  void encode(std::string_view piece, std::vector<TokenId>& ids,
              std::vector<std::uint32_t>* lengths) const;

  void clear_cache() const;

 private:
  void encode_word(std::string_view word, std::vector<TokenId>& ids,
                   std::vector<std::uint32_t>* lengths) const;
  bool splits_before(std::string_view piece, std::size_t pos) const;
  void symbols(std::string_view piece, std::vector<TokenId>& ids,
               std::vector<std::uint32_t>& lengths, bool& has_unk) const;
  void byte_symbols(std::string_view piece, std::vector<TokenId>& ids,
                    std::vector<std::uint32_t>& lengths) const;
  void char_symbols(std::string_view piece, std::vector<TokenId>& ids,
                    std::vector<std::uint32_t>& lengths, bool& has_unk) const;
  bool cached(std::string_view piece, std::vector<TokenId>& ids) const;

  const std::vector<std::string>& token_text_;  // id -> normalized text it stands for
  const std::unordered_map<std::string, TokenId>& id_by_raw_;
  bool byte_level_, byte_fallback_, fuse_unk_;
  TokenId unk_;
  std::array<TokenId, 256> byte_token_{};  // byte-level alphabet, or <0xNN>; -1 if none
  BpeMerges merges_;
  std::unordered_map<std::string, TokenId> whole_piece_;  // ignore_merges: piece -> its token
  // SentencePiece-style text is one long piece (gemma, llama 2). Where no
  // merge rule can join a symbol ending in some character c to one starting
  // with '▁', BPE never merges across "c▁", so the piece is cut there into
  // words that merge alone and are cached: the same ids, far less work.
  bool split_at_marker_ = false;
  std::vector<std::string> joins_marker_;  // the characters c that a rule does join to '▁'

  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<TokenId>> cache_;
};

}  // namespace saescope::tokenizer
