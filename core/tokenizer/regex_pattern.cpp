#include "core/tokenizer/regex_pattern.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdexcept>

#include "core/common/error.h"
#include "core/tokenizer/utf8.h"

namespace saescope::tokenizer {
namespace {

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof buffer);
  return reinterpret_cast<const char*>(buffer);
}

}  // namespace

const std::string& gpt2_split_pattern() {
  static const std::string pattern =
      R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
  return pattern;
}

std::string oniguruma_to_pcre2(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size() + 32);
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      const char next = pattern[++i];
      if (next == 's') out += "\\p{White_Space}";
      else if (next == 'S') out += "\\P{White_Space}";
      else (out += '\\') += next;  // any other escape, including "\\\\", kept whole
      continue;
    }
    out += pattern[i];
  }
  return out;
}

struct RegexPattern::Impl {
  pcre2_code* code = nullptr;
  bool jit = false;
};

RegexPattern::RegexPattern(const std::string& pattern) : impl_(std::make_unique<Impl>()) {
  const std::string translated = oniguruma_to_pcre2(pattern);
  int error = 0;
  PCRE2_SIZE error_offset = 0;
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                              PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error,
                              &error_offset, nullptr);
  if (!impl_->code)
    throw std::invalid_argument("regex " + pattern + " is not supported (PCRE2: " +
                                pcre2_message(error) + " at offset " +
                                std::to_string(error_offset) + ")");
  impl_->jit = pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE) == 0;
}

RegexPattern::~RegexPattern() {
  if (impl_) pcre2_code_free(impl_->code);
}

bool RegexPattern::uses_jit() const { return impl_->jit; }

RegexPattern::Scanner::Scanner(const RegexPattern& pattern, std::string_view text)
    : pattern_(pattern),
      text_(text),
      match_data_(pcre2_match_data_create_from_pattern(pattern.impl_->code, nullptr)) {
  if (!match_data_) throw InternalError("tokenizer regex: out of memory for PCRE2 match data");
}

RegexPattern::Scanner::~Scanner() {
  pcre2_match_data_free(static_cast<pcre2_match_data*>(match_data_));
}

bool RegexPattern::Scanner::next(std::size_t& begin, std::size_t& end) {
  const Impl& re = *pattern_.impl_;
  auto* data = static_cast<pcre2_match_data*>(match_data_);
  const auto subject = reinterpret_cast<PCRE2_SPTR>(text_.data());
  const std::size_t size = text_.size();
  while (pos_ < size) {
    int rc = re.jit ? pcre2_jit_match(re.code, subject, size, pos_, 0, data, nullptr)
                    : PCRE2_ERROR_JIT_BADOPTION;
    // The interpreter keeps its backtracking state on the heap: the fallback
    // when the JIT's fixed stack runs out on a pathological run.
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT || rc == PCRE2_ERROR_JIT_BADOPTION)
      rc = pcre2_match(re.code, subject, size, pos_, 0, data, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0)
      throw InternalError("tokenizer regex: PCRE2 failed at byte " + std::to_string(pos_) + ": " +
                          pcre2_message(rc));
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data);
    begin = ovector[0];
    end = ovector[1];
    if (end > begin) {
      pos_ = end;
      return true;
    }
    // An empty match: step over one character (or one invalid byte).
    const std::size_t len = valid_utf8_sequence_length(text_, begin);
    pos_ = begin + (len ? len : 1);
  }
  pos_ = size;
  return false;
}

void RegexPattern::find_all(std::string_view text,
                            const std::function<void(std::size_t, std::size_t)>& sink) const {
  Scanner scanner(*this, text);
  std::size_t begin = 0, end = 0;
  while (scanner.next(begin, end)) sink(begin, end);
}

}  // namespace saescope::tokenizer
