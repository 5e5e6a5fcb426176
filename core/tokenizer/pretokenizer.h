#pragma once
// GPT-2's pre-tokenisation: the text is cut into words, numbers, punctuation
// runs and whitespace runs by one regular expression, and BPE then runs on
// each piece separately. Implemented with PCRE2 (kept out of this header).
#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

namespace saescope::tokenizer {

class Pretokenizer {
 public:
  // Called for each piece [begin, end) of the text, in order, covering it
  // contiguously. `invalid_byte` marks a single byte that is not part of
  // well-formed UTF-8: the pattern never matches one, and the text on either
  // side of it is split as if the text ended/began there.
  using PieceSink = std::function<void(std::size_t begin, std::size_t end, bool invalid_byte)>;

  Pretokenizer();  // compiles the pattern (JIT when PCRE2 has it)
  ~Pretokenizer();
  Pretokenizer(const Pretokenizer&) = delete;
  Pretokenizer& operator=(const Pretokenizer&) = delete;

  // Safe to call from several threads at once.
  void split(std::string_view text, const PieceSink& sink) const;

  bool uses_jit() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace saescope::tokenizer
