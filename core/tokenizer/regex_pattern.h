#pragma once
// A Hugging Face tokenizer regex (written for Oniguruma) compiled with PCRE2.
// \s and \S become the Unicode White_Space property, which is what they mean
// in Oniguruma, Python `regex` and tiktoken; PCRE2's own \s adds U+180E.
// Invalid UTF-8 in a subject is allowed and never matched.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace saescope::tokenizer {

class RegexPattern {
 public:
  // InputError-free: throws std::invalid_argument with PCRE2's message; the
  // caller names the file.
  explicit RegexPattern(const std::string& pattern);
  ~RegexPattern();
  RegexPattern(const RegexPattern&) = delete;
  RegexPattern& operator=(const RegexPattern&) = delete;

  // Calls sink(begin, end) for each non-empty match, left to right, not
  // overlapping. Safe from several threads at once.
  void find_all(std::string_view text,
                const std::function<void(std::size_t, std::size_t)>& sink) const;

  bool uses_jit() const;

  // The matches of one text, one at a time, for loops that want no callback
  // per match (the pre-tokenizer's hot path).
  class Scanner {
   public:
    Scanner(const RegexPattern& pattern, std::string_view text);
    ~Scanner();
    Scanner(const Scanner&) = delete;
    Scanner& operator=(const Scanner&) = delete;
    bool next(std::size_t& begin, std::size_t& end);  // false when no match is left

   private:
    const RegexPattern& pattern_;
    std::string_view text_;
    std::size_t pos_ = 0;
    void* match_data_;
  };

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The pattern of HF's ByteLevel pre-tokenizer: GPT-2's, as published.
const std::string& gpt2_split_pattern();

// \s -> \p{White_Space}, \S -> \P{White_Space}, elsewhere unchanged.
std::string oniguruma_to_pcre2(std::string_view pattern);

}  // namespace saescope::tokenizer
