#include "core/tokenizer/bpe_tokenizer.h"

#include <optional>

#include "core/common/error.h"
#include "core/tokenizer/added_tokens.h"
#include "core/tokenizer/bpe_model.h"
#include "core/tokenizer/byte_level_alphabet.h"
#include "core/tokenizer/normalizer.h"
#include "core/tokenizer/pre_tokenizer.h"
#include "core/tokenizer/tokenizer_files.h"

namespace saescope::tokenizer {
namespace {

const std::string kEndOfText = "<|endoftext|>";

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
}

// What the decoder makes of one vocabulary string.
std::string decoded_token(const std::string& raw, const DecoderSpec& decoder) {
  std::string text = raw;
  for (const DecoderSpec::Step& step : decoder.steps) {
    switch (step.kind) {
      case DecoderSpec::Step::Kind::ByteLevel:
        text = alphabet_to_bytes(text).value_or(text);
        break;
      case DecoderSpec::Step::Kind::Replace:
        replace_all(text, step.pattern, step.content);
        break;
      case DecoderSpec::Step::Kind::ByteFallback:
        if (const auto b = byte_fallback_value(text)) text = std::string(1, *b);
        break;
    }
  }
  return text;
}

std::vector<const AddedToken*> select(const BpeVocabulary& v, bool normalized, bool with_special) {
  std::vector<const AddedToken*> out;
  for (const AddedToken& t : v.added_tokens)
    if (t.normalized == normalized && (with_special || !t.special)) out.push_back(&t);
  return out;
}

}  // namespace

struct BpeTokenizer::Impl {
  explicit Impl(TokenizerSpec s);

  TokenizerSpec spec;
  std::vector<std::string> token_bytes;  // id -> the bytes it stands for (decode)
  std::vector<std::string> token_text;   // id -> the normalized text it covers (offsets)
  std::vector<bool> special;
  TokenId eot = -1;
  Normalizer normalizer;
  PreTokenizer pre_tokenizer;
  std::optional<BpeModel> model;
  // Added tokens found in the raw text / the normalized text; with and
  // without the special ones.
  AddedTokenMatcher raw_all, raw_plain, normalized_all, normalized_plain;

  template <bool kOffsets>
  void encode_into(std::string_view text, const EncodeOptions& options, Encoding& out) const;
  template <bool kOffsets>
  void encode_gap(std::string_view gap, std::size_t base, bool allow_special, Encoding& out) const;
};

BpeTokenizer::Impl::Impl(TokenizerSpec s)
    : spec(std::move(s)), normalizer(spec.normalizer), pre_tokenizer(spec.pre_tokenizer) {
  const BpeVocabulary& v = spec.vocab;
  const std::size_t size = v.raw_by_id.size();
  // vocab.json files carry <|endoftext|> as an ordinary entry; it is special.
  const auto eot_it = v.id_by_raw.find(kEndOfText);
  if (eot_it != v.id_by_raw.end()) {
    bool listed = false;
    for (const AddedToken& t : v.added_tokens) listed = listed || t.id == eot_it->second;
    if (!listed) spec.vocab.added_tokens.push_back({kEndOfText, eot_it->second, true});
  }
  eot = eot_it != v.id_by_raw.end() ? eot_it->second : spec.eos_id;

  special.assign(size, false);
  token_bytes.resize(size);
  token_text.resize(size);
  for (std::size_t id = 0; id < size; ++id) {
    const std::string& raw = v.raw_by_id[id];
    token_bytes[id] = decoded_token(raw, spec.decoder);
    if (spec.byte_level) token_text[id] = alphabet_to_bytes(raw).value_or(raw);
    else if (const auto b = byte_fallback_value(raw); b && spec.byte_fallback) token_text[id] = *b;
    else token_text[id] = raw;
  }
  // HF's decoder runs over added tokens too: gemma's "▁▁▁▁" decodes to four spaces.
  for (const AddedToken& t : v.added_tokens) {
    token_bytes[t.id] = decoded_token(t.content, spec.decoder);
    token_text[t.id] = t.content;
    special[t.id] = t.special;
  }
  model.emplace(spec, token_text);
  raw_all = AddedTokenMatcher(select(v, false, true));
  raw_plain = AddedTokenMatcher(select(v, false, false));
  normalized_all = AddedTokenMatcher(select(v, true, true));
  normalized_plain = AddedTokenMatcher(select(v, true, false));
}

BpeTokenizer::BpeTokenizer(TokenizerSpec spec) {
  const std::string source = spec.vocab.source;
  try {
    impl_ = std::make_unique<Impl>(std::move(spec));
  } catch (const std::invalid_argument& e) {  // a regex PCRE2 cannot compile
    throw InputError(source + ": " + e.what());
  }
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

// One stretch of text between raw added tokens: normalize, find normalized
// added tokens, pre-tokenize, run the model on each piece.
template <bool kOffsets>
void BpeTokenizer::Impl::encode_gap(std::string_view gap, std::size_t base, bool allow_special,
                                    Encoding& out) const {
  if (gap.empty()) return;
  NormalizedText text(gap, base);
  normalizer.apply(text);
  std::vector<PreToken> pieces;
  const AddedTokenMatcher& added = allow_special ? normalized_all : normalized_plain;
  std::size_t pos = 0;
  for (const auto& m : added.find_all(text.text())) {
    if (pos < m.begin) pieces.push_back({{pos, m.begin}, -1});
    pieces.push_back({{m.begin, m.end}, m.token->id});
    pos = m.end;
  }
  if (pos < text.text().size()) pieces.push_back({{pos, text.text().size()}, -1});
  std::vector<std::uint32_t> lengths;
  const auto handle = [&](const PreToken& p) {
    if (p.added >= 0) {
      out.ids.push_back(p.added);
      if (kOffsets) out.offsets.push_back(text.original_span(p.span.begin, p.span.end));
      return;
    }
    const std::string_view piece = text.text().substr(p.span.begin, p.span.end - p.span.begin);
    lengths.clear();
    model->encode(piece, out.ids, kOffsets ? &lengths : nullptr);
    if (!kOffsets) return;
    std::size_t at = p.span.begin;
    for (std::uint32_t len : lengths) {
      out.offsets.push_back(text.original_span(at, at + len));
      at += len;
    }
  };
  pre_tokenizer.run(text, pieces, handle);
}

template <bool kOffsets>
void BpeTokenizer::Impl::encode_into(std::string_view text, const EncodeOptions& options,
                                     Encoding& out) const {
  out.ids.reserve(text.size() / 3 + 1);
  if (kOffsets) out.offsets.reserve(text.size() / 3 + 1);
  if (options.add_special_tokens)
    for (TokenId id : spec.special_prefix) {
      out.ids.push_back(id);
      if (kOffsets) out.offsets.push_back({0, 0});
    }
  std::size_t pos = 0;
  for (const auto& m : (options.allow_special ? raw_all : raw_plain).find_all(text)) {
    encode_gap<kOffsets>(text.substr(pos, m.begin - pos), pos, options.allow_special, out);
    out.ids.push_back(m.token->id);
    if (kOffsets) out.offsets.push_back({m.begin, m.end});
    pos = m.end;
  }
  encode_gap<kOffsets>(text.substr(pos), pos, options.allow_special, out);
  if (options.add_special_tokens)
    for (TokenId id : spec.special_suffix) {
      out.ids.push_back(id);
      if (kOffsets) out.offsets.push_back({text.size(), text.size()});
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
  const DecoderSpec& d = impl_->spec.decoder;
  std::size_t cut = 0;
  for (std::size_t i = 0; i < d.strip_start && !d.strip_content.empty() &&
                          text.compare(cut, d.strip_content.size(), d.strip_content) == 0;
       ++i)
    cut += d.strip_content.size();
  return text.substr(cut);
}

const std::string& BpeTokenizer::token_string(TokenId id) const {
  if (id < 0 || id >= vocab_size() || impl_->spec.vocab.raw_by_id[id].empty())
    throw InputError("token id " + std::to_string(id) + " is not in the vocabulary of " +
                     impl_->spec.vocab.source + " (size " + std::to_string(vocab_size()) + ")");
  return impl_->token_bytes[id];
}

const std::string& BpeTokenizer::raw_token_string(TokenId id) const {
  token_string(id);  // checks the id
  return impl_->spec.vocab.raw_by_id[id];
}

std::optional<TokenId> BpeTokenizer::token_id(std::string_view raw) const {
  const auto it = impl_->spec.vocab.id_by_raw.find(std::string(raw));
  if (it == impl_->spec.vocab.id_by_raw.end()) return std::nullopt;
  return it->second;
}

TokenId BpeTokenizer::vocab_size() const {
  return static_cast<TokenId>(impl_->spec.vocab.raw_by_id.size());
}
TokenId BpeTokenizer::eot_id() const { return impl_->eot; }
bool BpeTokenizer::is_special(TokenId id) const {
  return id >= 0 && id < vocab_size() && impl_->special[id];
}
const std::string& BpeTokenizer::source() const { return impl_->spec.vocab.source; }

void BpeTokenizer::clear_cache() const { impl_->model->clear_cache(); }

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
