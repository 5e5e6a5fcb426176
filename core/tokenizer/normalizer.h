#pragma once
// A tokenizer.json's normalizer: NFC, NFD, NFKC, NFKD, Lowercase (ICU),
// Replace (string or regex), Prepend, Strip, in sequence. Each step rewrites
// the text through NormalizedText, so offsets still point into the original.
// Invalid UTF-8 bytes pass through every step unchanged.
#include <memory>
#include <vector>

#include "core/tokenizer/normalized_text.h"
#include "core/tokenizer/tokenizer_spec.h"

namespace saescope::tokenizer {

class RegexPattern;

class Normalizer {
 public:
  explicit Normalizer(std::vector<NormalizerStep> steps);  // std::invalid_argument on a bad regex
  ~Normalizer();
  Normalizer(Normalizer&&) noexcept;
  Normalizer& operator=(Normalizer&&) noexcept;

  bool empty() const { return steps_.empty(); }
  void apply(NormalizedText& text) const;

 private:
  std::vector<NormalizerStep> steps_;
  std::vector<std::unique_ptr<RegexPattern>> regexes_;  // per step; null unless a regex Replace
};

}  // namespace saescope::tokenizer
