#include "core/tokenizer/bpe_model.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "core/common/error.h"
#include "core/tokenizer/byte_level_alphabet.h"
#include "core/tokenizer/utf8.h"

namespace saescope::tokenizer {
namespace {

// English text has a few tens of thousands of distinct pre-tokens; the bound
// only keeps adversarial input (random strings) from growing the cache forever.
constexpr std::size_t kMaxCacheEntries = 1 << 20;
// Longer pieces (runs of one character, blobs, gemma's whole texts) hardly
// ever repeat: not cached.
constexpr std::size_t kMaxCachedPiece = 256;
const std::string kMarker = "\xE2\x96\x81";  // U+2581 '▁', SentencePiece's space

bool ends_with(std::string_view s, std::string_view end) {
  return s.size() >= end.size() && s.substr(s.size() - end.size()) == end;
}

// The last UTF-8 character of s.
std::string_view last_char(std::string_view s) {
  std::size_t start = s.size() - 1;
  while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  return s.substr(start);
}

std::string hex_byte(int b) {
  char hex[8];
  std::snprintf(hex, sizeof hex, "<0x%02X>", b);
  return hex;
}

}  // namespace

std::optional<char> byte_fallback_value(std::string_view raw) {
  if (raw.size() != 6 || raw.substr(0, 3) != "<0x" || raw[5] != '>') return std::nullopt;
  const std::string hex(raw.substr(3, 2));
  char* end = nullptr;
  const long value = std::strtol(hex.c_str(), &end, 16);
  if (end != hex.c_str() + 2) return std::nullopt;
  return static_cast<char>(value);
}

BpeModel::BpeModel(const TokenizerSpec& spec, const std::vector<std::string>& token_text)
    : token_text_(token_text),
      id_by_raw_(spec.vocab.id_by_raw),
      byte_level_(spec.byte_level),
      byte_fallback_(spec.byte_fallback),
      fuse_unk_(spec.fuse_unk),
      unk_(spec.unk_id) {
  const BpeVocabulary& v = spec.vocab;
  byte_token_.fill(-1);
  for (int b = 0; b < 256; ++b) {
    const std::string raw = byte_level_ ? byte_to_alphabet_utf8(static_cast<std::uint8_t>(b))
                                        : hex_byte(b);
    const auto it = v.id_by_raw.find(raw);
    if (it != v.id_by_raw.end()) byte_token_[b] = it->second;
    else if (byte_level_)
      throw InputError(v.source + ": the vocabulary has no token for byte " +
                       hex_byte(b).substr(1, 4) +
                       " (\"" + raw + "\"); not a GPT-2-style byte-level BPE vocabulary");
  }
  for (const MergeRule& r : v.merges) merges_.add(r.left, r.right, r.merged);
  split_at_marker_ = !byte_level_ && !v.ignore_merges;
  for (const MergeRule& r : v.merges) {
    const std::string& left = v.raw_by_id[r.left];
    if (v.raw_by_id[r.right].rfind(kMarker, 0) != 0 || left.empty() || ends_with(left, kMarker))
      continue;
    // A byte or unknown token stands for other text than its name: no cuts.
    if (r.left == unk_ || byte_fallback_value(left)) split_at_marker_ = false;
    const std::string c(last_char(left));
    if (std::find(joins_marker_.begin(), joins_marker_.end(), c) == joins_marker_.end())
      joins_marker_.push_back(c);  // gemma 3 has one such rule: ">" + "▁</"
  }
  if (v.ignore_merges) {
    std::vector<bool> added(v.raw_by_id.size(), false);
    for (const AddedToken& t : v.added_tokens) added[t.id] = true;
    for (const auto& [raw, id] : v.id_by_raw)
      if (!added[id]) whole_piece_.emplace(byte_level_ ? token_text_[id] : raw, id);
  }
}

void BpeModel::byte_symbols(std::string_view piece, std::vector<TokenId>& ids,
                            std::vector<std::uint32_t>& lengths) const {
  for (char c : piece) {
    ids.push_back(byte_token_[static_cast<std::uint8_t>(c)]);
    lengths.push_back(1);
  }
}

void BpeModel::char_symbols(std::string_view piece, std::vector<TokenId>& ids,
                            std::vector<std::uint32_t>& lengths, bool& has_unk) const {
  bool previous_unk = false;
  std::string ch;
  for (std::size_t pos = 0; pos < piece.size();) {
    const std::size_t valid = valid_utf8_sequence_length(piece, pos);
    const std::size_t len = valid ? valid : 1;
    ch.assign(piece.substr(pos, len));
    pos += len;
    if (valid) {
      const auto it = id_by_raw_.find(ch);
      if (it != id_by_raw_.end()) {
        ids.push_back(it->second);
        lengths.push_back(static_cast<std::uint32_t>(len));
        previous_unk = false;
        continue;
      }
    }
    bool all_bytes = byte_fallback_;
    for (char c : ch) all_bytes = all_bytes && byte_token_[static_cast<std::uint8_t>(c)] >= 0;
    if (all_bytes) {
      for (char c : ch) {
        ids.push_back(byte_token_[static_cast<std::uint8_t>(c)]);
        lengths.push_back(1);
      }
      previous_unk = false;
    } else if (unk_ >= 0) {
      has_unk = true;
      if (fuse_unk_ && previous_unk) {
        lengths.back() += static_cast<std::uint32_t>(len);
      } else {
        ids.push_back(unk_);
        lengths.push_back(static_cast<std::uint32_t>(len));
      }
      previous_unk = true;
    }  // no unknown token: HF drops the character
  }
}

void BpeModel::symbols(std::string_view piece, std::vector<TokenId>& ids,
                       std::vector<std::uint32_t>& lengths, bool& has_unk) const {
  if (!byte_level_) {
    char_symbols(piece, ids, lengths, has_unk);
    merges_.apply(ids, &lengths);
    return;
  }
  // Byte-level: an invalid UTF-8 byte is a token of its own; the valid runs
  // between them merge separately.
  std::vector<TokenId> run_ids;
  std::vector<std::uint32_t> run_lengths;
  std::size_t run = 0;
  const auto flush = [&](std::size_t end) {
    if (run == end) return;
    run_ids.clear();
    run_lengths.clear();
    byte_symbols(piece.substr(run, end - run), run_ids, run_lengths);
    merges_.apply(run_ids, &run_lengths);
    ids.insert(ids.end(), run_ids.begin(), run_ids.end());
    lengths.insert(lengths.end(), run_lengths.begin(), run_lengths.end());
  };
  for (std::size_t pos = 0; pos < piece.size();) {
    const std::size_t len = valid_utf8_sequence_length(piece, pos);
    if (len) {
      pos += len;
      continue;
    }
    flush(pos);
    ids.push_back(byte_token_[static_cast<std::uint8_t>(piece[pos])]);
    lengths.push_back(1);
    run = ++pos;
  }
  flush(piece.size());
}

bool BpeModel::cached(std::string_view piece, std::vector<TokenId>& ids) const {
  const std::string key(piece);  // no allocation: short pieces fit the small-string buffer
  std::lock_guard<std::mutex> lock(cache_mutex_);
  const auto it = cache_.find(key);
  if (it == cache_.end()) return false;
  ids.insert(ids.end(), it->second.begin(), it->second.end());
  return true;
}

bool BpeModel::splits_before(std::string_view piece, std::size_t pos) const {
  if (pos == 0 || piece.compare(pos, kMarker.size(), kMarker) != 0) return false;
  const std::string_view before = last_char(piece.substr(0, pos));
  if (before == kMarker) return false;
  for (const std::string& c : joins_marker_)
    if (before == c) return false;
  return true;
}

void BpeModel::encode(std::string_view piece, std::vector<TokenId>& ids,
                      std::vector<std::uint32_t>* lengths) const {
  if (!whole_piece_.empty()) {
    const auto whole = whole_piece_.find(std::string(piece));
    if (whole != whole_piece_.end()) {
      ids.push_back(whole->second);
      if (lengths) lengths->push_back(static_cast<std::uint32_t>(token_text_[whole->second].size()));
      return;
    }
  }
  if (!split_at_marker_ || piece.size() <= kMaxCachedPiece) return encode_word(piece, ids, lengths);
  std::size_t word = 0;
  for (std::size_t pos = piece.find(kMarker, 1); pos != std::string_view::npos;
       pos = piece.find(kMarker, pos + kMarker.size()))
    if (splits_before(piece, pos)) {
      encode_word(piece.substr(word, pos - word), ids, lengths);
      word = pos;
    }
  encode_word(piece.substr(word), ids, lengths);
}

void BpeModel::encode_word(std::string_view piece, std::vector<TokenId>& ids,
                           std::vector<std::uint32_t>* lengths) const {
  const std::size_t first = ids.size();
  const auto add_lengths = [&] {
    if (lengths)
      for (std::size_t i = first; i < ids.size(); ++i)
        lengths->push_back(static_cast<std::uint32_t>(token_text_[ids[i]].size()));
  };
  const bool cacheable = piece.size() <= kMaxCachedPiece;
  if (cacheable && cached(piece, ids)) return add_lengths();
  std::vector<TokenId> out;
  std::vector<std::uint32_t> out_lengths;
  bool has_unk = false;
  symbols(piece, out, out_lengths, has_unk);
  ids.insert(ids.end(), out.begin(), out.end());
  if (lengths) lengths->insert(lengths->end(), out_lengths.begin(), out_lengths.end());
  // An unknown token covers a varying span, so its pieces are not cached.
  if (!cacheable || has_unk) return;
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() >= kMaxCacheEntries) cache_.clear();
  cache_.emplace(std::string(piece), std::move(out));
}

void BpeModel::clear_cache() const {
  std::lock_guard<std::mutex> lock(cache_mutex_);
  cache_.clear();
}

}  // namespace saescope::tokenizer
