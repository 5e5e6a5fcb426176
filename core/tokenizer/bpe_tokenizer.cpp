#include "core/tokenizer/bpe_tokenizer.h"

#include <array>
#include <cstdio>
#include <mutex>
#include <unordered_map>

#include "core/common/error.h"
#include "core/tokenizer/bpe_merges.h"
#include "core/tokenizer/bpe_vocabulary.h"
#include "core/tokenizer/byte_level_alphabet.h"
#include "core/tokenizer/pretokenizer.h"
#include "core/tokenizer/tokenizer_files.h"

namespace saescope::tokenizer {
namespace {

// English text has a few tens of thousands of distinct pre-tokens; the bound
// only keeps adversarial input (random strings) from growing the cache forever.
constexpr std::size_t kMaxCacheEntries = 1 << 20;
// Longer pieces (runs of one character, blobs) hardly ever repeat: not cached.
constexpr std::size_t kMaxCachedPiece = 256;
const std::string kEndOfText = "<|endoftext|>";

}  // namespace

struct BpeTokenizer::Impl {
  BpeVocabulary vocab;
  std::vector<std::string> token_bytes;  // id -> the bytes it stands for
  std::vector<bool> special;
  std::array<TokenId, 256> byte_token{};
  BpeMerges merges;
  std::unordered_map<std::string, TokenId> id_by_bytes;  // only with ignore_merges
  TokenId eot = -1;
  Pretokenizer pretokenizer;

  mutable std::mutex cache_mutex;
  mutable std::unordered_map<std::string, std::vector<TokenId>> cache;

  template <bool kOffsets>
  void encode_into(std::string_view text, const EncodeOptions& options, Encoding& out) const;
  template <bool kOffsets>
  void encode_ordinary(std::string_view text, std::size_t base, Encoding& out) const;
  std::vector<TokenId> bpe(std::string_view piece) const;
  bool cached_bpe(std::string_view piece, std::vector<TokenId>& out) const;  // appends on a hit
};

BpeTokenizer::BpeTokenizer(BpeVocabulary vocabulary) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.vocab = std::move(vocabulary);
  const BpeVocabulary& v = m.vocab;
  const auto size = v.raw_by_id.size();

  // vocab.json files carry <|endoftext|> as an ordinary entry; it is special.
  const auto eot = v.id_by_raw.find(kEndOfText);
  if (eot != v.id_by_raw.end()) {
    m.eot = eot->second;
    bool listed = false;
    for (const AddedToken& t : v.added_tokens) listed = listed || t.id == m.eot;
    if (!listed) m.vocab.added_tokens.push_back({kEndOfText, m.eot, true});
  }
  m.special.assign(size, false);
  m.token_bytes.resize(size);
  for (std::size_t id = 0; id < size; ++id)
    m.token_bytes[id] = alphabet_to_bytes(v.raw_by_id[id]).value_or(v.raw_by_id[id]);
  for (const AddedToken& t : v.added_tokens) {
    m.token_bytes[t.id] = t.content;
    m.special[t.id] = t.special;
  }

  for (int b = 0; b < 256; ++b) {
    const std::string raw = byte_to_alphabet_utf8(static_cast<std::uint8_t>(b));
    const auto it = v.id_by_raw.find(raw);
    if (it == v.id_by_raw.end()) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", b);
      throw InputError(v.source + ": the vocabulary has no token for byte " + hex + " (\"" + raw +
                       "\"); not a GPT-2-style byte-level BPE vocabulary");
    }
    m.byte_token[b] = it->second;
  }
  for (const MergeRule& r : v.merges) m.merges.add(r.left, r.right, r.merged);
  if (v.ignore_merges)
    for (const auto& [raw, id] : v.id_by_raw)
      if (!m.special[id]) m.id_by_bytes.emplace(m.token_bytes[id], id);
}

BpeTokenizer::BpeTokenizer(BpeTokenizer&&) noexcept = default;
BpeTokenizer& BpeTokenizer::operator=(BpeTokenizer&&) noexcept = default;
BpeTokenizer::~BpeTokenizer() = default;

BpeTokenizer BpeTokenizer::from_vocab_and_merges(const std::filesystem::path& vocab_json,
                                                 const std::filesystem::path& merges_txt) {
  return BpeTokenizer(read_vocab_and_merges(vocab_json, merges_txt));
}

BpeTokenizer BpeTokenizer::from_tokenizer_json(const std::filesystem::path& tokenizer_json) {
  return BpeTokenizer(read_tokenizer_json(tokenizer_json));
}

std::vector<TokenId> BpeTokenizer::Impl::bpe(std::string_view piece) const {
  if (!id_by_bytes.empty()) {
    const auto whole = id_by_bytes.find(std::string(piece));
    if (whole != id_by_bytes.end()) return {whole->second};
  }
  std::vector<TokenId> symbols;
  symbols.reserve(piece.size());
  for (char c : piece) symbols.push_back(byte_token[static_cast<std::uint8_t>(c)]);
  merges.apply(symbols);
  return symbols;
}

bool BpeTokenizer::Impl::cached_bpe(std::string_view piece, std::vector<TokenId>& out) const {
  const std::string key(piece);  // no allocation: short pieces fit the small-string buffer
  std::lock_guard<std::mutex> lock(cache_mutex);
  const auto it = cache.find(key);
  if (it == cache.end()) return false;
  out.insert(out.end(), it->second.begin(), it->second.end());
  return true;
}

template <bool kOffsets>
void BpeTokenizer::Impl::encode_ordinary(std::string_view text, std::size_t base,
                                         Encoding& out) const {
  pretokenizer.split(text, [&](std::size_t begin, std::size_t end, bool invalid_byte) {
    if (invalid_byte) {
      out.ids.push_back(byte_token[static_cast<std::uint8_t>(text[begin])]);
      if (kOffsets) out.offsets.push_back({base + begin, base + end});
      return;
    }
    const std::size_t first = out.ids.size();
    const std::string_view piece = text.substr(begin, end - begin);
    if (piece.size() > kMaxCachedPiece) {
      const std::vector<TokenId> ids = bpe(piece);
      out.ids.insert(out.ids.end(), ids.begin(), ids.end());
    } else if (!cached_bpe(piece, out.ids)) {
      std::vector<TokenId> ids = bpe(piece);
      out.ids.insert(out.ids.end(), ids.begin(), ids.end());
      std::lock_guard<std::mutex> lock(cache_mutex);
      if (cache.size() >= kMaxCacheEntries) cache.clear();
      cache.emplace(std::string(piece), std::move(ids));
    }
    if (kOffsets) {
      std::size_t pos = base + begin;
      for (std::size_t i = first; i < out.ids.size(); ++i) {
        const std::size_t len = token_bytes[out.ids[i]].size();
        out.offsets.push_back({pos, pos + len});
        pos += len;
      }
    }
  });
}

template <bool kOffsets>
void BpeTokenizer::Impl::encode_into(std::string_view text, const EncodeOptions& options,
                                     Encoding& out) const {
  out.ids.reserve(text.size() / 3 + 1);
  if (kOffsets) out.offsets.reserve(text.size() / 3 + 1);
  // Added tokens to cut out of the text first: non-special ones always (as
  // HF does), special ones only when asked for.
  struct Cut {
    const AddedToken* token;
    std::size_t next;  // its next occurrence at or after the scan position
  };
  std::vector<Cut> cuts;
  for (const AddedToken& t : vocab.added_tokens)
    if (options.allow_special || !t.special) cuts.push_back({&t, text.find(t.content)});

  std::size_t pos = 0;
  while (true) {
    const Cut* best = nullptr;
    for (Cut& c : cuts) {
      if (c.next != std::string_view::npos && c.next < pos) c.next = text.find(c.token->content, pos);
      if (c.next == std::string_view::npos) continue;
      if (!best || c.next < best->next ||
          (c.next == best->next && c.token->content.size() > best->token->content.size()))
        best = &c;
    }
    const std::size_t end = best ? best->next : text.size();
    encode_ordinary<kOffsets>(text.substr(pos, end - pos), pos, out);
    if (!best) break;
    out.ids.push_back(best->token->id);
    pos = end + best->token->content.size();
    if (kOffsets) out.offsets.push_back({end, pos});
  }
}

Encoding BpeTokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  Encoding out;
  impl_->encode_into<true>(text, options, out);
  return out;
}

std::vector<TokenId> BpeTokenizer::encode_ids(std::string_view text,
                                              const EncodeOptions& options) const {
  Encoding out;
  impl_->encode_into<false>(text, options, out);
  return std::move(out.ids);
}

std::string BpeTokenizer::decode(const std::vector<TokenId>& ids) const {
  std::string text;
  for (TokenId id : ids) text += token_string(id);
  return text;
}

const std::string& BpeTokenizer::token_string(TokenId id) const {
  if (id < 0 || id >= vocab_size() || impl_->vocab.raw_by_id[id].empty())
    throw InputError("token id " + std::to_string(id) + " is not in the vocabulary of " +
                     impl_->vocab.source + " (size " + std::to_string(vocab_size()) + ")");
  return impl_->token_bytes[id];
}

const std::string& BpeTokenizer::raw_token_string(TokenId id) const {
  token_string(id);  // checks the id
  return impl_->vocab.raw_by_id[id];
}

std::optional<TokenId> BpeTokenizer::token_id(std::string_view raw) const {
  const auto it = impl_->vocab.id_by_raw.find(std::string(raw));
  if (it == impl_->vocab.id_by_raw.end()) return std::nullopt;
  return it->second;
}

TokenId BpeTokenizer::vocab_size() const {
  return static_cast<TokenId>(impl_->vocab.raw_by_id.size());
}
TokenId BpeTokenizer::eot_id() const { return impl_->eot; }
bool BpeTokenizer::is_special(TokenId id) const {
  return id >= 0 && id < vocab_size() && impl_->special[id];
}
const std::string& BpeTokenizer::source() const { return impl_->vocab.source; }

void BpeTokenizer::clear_cache() const {
  std::lock_guard<std::mutex> lock(impl_->cache_mutex);
  impl_->cache.clear();
}

BpeTokenizer load_tokenizer(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir))
    throw InputError(dir.string() + ": not a folder (expected a model folder with tokenizer.json "
                                    "or vocab.json + merges.txt)");
  if (fs::exists(dir / "tokenizer.json"))
    return BpeTokenizer::from_tokenizer_json(dir / "tokenizer.json");
  if (fs::exists(dir / "vocab.json") && fs::exists(dir / "merges.txt"))
    return BpeTokenizer::from_vocab_and_merges(dir / "vocab.json", dir / "merges.txt");
  throw InputError(dir.string() +
                   ": holds neither tokenizer.json nor vocab.json + merges.txt");
}

}  // namespace saescope::tokenizer
