#pragma once
// What a tokenizer.json (or vocab.json + merges.txt) says, read and checked,
// as plain data: the vocabulary and merges, the normalizer and pre-tokenizer
// steps, how tokens decode, and what "add special tokens" adds. Produced by
// tokenizer_files.h; BpeTokenizer is built from it.
#include <string>
#include <vector>

#include "core/tokenizer/bpe_vocabulary.h"

namespace saescope::tokenizer {

struct TextPattern {
  std::string text;   // a literal string, or a regex (Oniguruma syntax)
  bool regex = false;
};

struct NormalizerStep {
  enum class Kind { NFC, NFD, NFKC, NFKD, Lowercase, Replace, Prepend, Strip };
  Kind kind = Kind::NFC;
  TextPattern pattern;   // Replace
  std::string content;   // Replace: the replacement; Prepend: what is prepended
  bool strip_left = false, strip_right = false;  // Strip
};

// HF's SplitDelimiterBehavior.
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

struct PreTokenizerStep {
  enum class Kind { Split, ByteLevel, Metaspace };
  Kind kind = Kind::Split;
  // Split (also Digits, Whitespace, WhitespaceSplit, written as a Split)
  TextPattern pattern;
  SplitBehavior behavior = SplitBehavior::Isolated;
  bool invert = false;
  // ByteLevel
  bool add_prefix_space = false;
  bool use_regex = true;
  // Metaspace
  std::string replacement = "\xE2\x96\x81";  // U+2581 '▁'
  enum class Prepend { Always, First, Never } prepend = Prepend::Always;
  bool split = true;
};

// How token strings become text: the per-token steps, then what decode()
// strips from the start of the whole text.
struct DecoderSpec {
  struct Step {
    enum class Kind { ByteLevel, Replace, ByteFallback } kind;
    std::string pattern, content;  // Replace
  };
  std::vector<Step> steps;
  std::string strip_content;       // Strip after Fuse, or Metaspace's " "
  std::size_t strip_start = 0;     // how many leading strip_content to remove
};

struct TokenizerSpec {
  BpeVocabulary vocab;
  std::vector<NormalizerStep> normalizer;
  std::vector<PreTokenizerStep> pre_tokenizer;
  DecoderSpec decoder;
  // The model: byte-level BPE (GPT-2 style) or character BPE (SentencePiece
  // style, with <0xNN> byte fallback and an unknown token).
  bool byte_level = true;
  bool byte_fallback = false;
  bool fuse_unk = false;
  TokenId unk_id = -1;
  // encode(..., add_special_tokens): ids before and after the text.
  std::vector<TokenId> special_prefix, special_suffix;
  TokenId eos_id = -1;  // tokenizer_config.json's eos_token, -1 if none
};

}  // namespace saescope::tokenizer
