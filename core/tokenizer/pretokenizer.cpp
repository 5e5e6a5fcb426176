#include "core/tokenizer/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <string>

#include "core/common/error.h"

namespace saescope::tokenizer {
namespace {

// GPT-2's pattern as published, except that \s and \S are spelled out as the
// Unicode White_Space property. That is what \s means in the implementations
// GPT-2 was trained and is served with (Python `regex`, tiktoken's Rust regex,
// HF tokenizers' Oniguruma); PCRE2's own \s adds U+180E and JavaScript's adds
// U+FEFF and drops U+0085, which changes the ids of texts holding them.
#define SAESCOPE_WS \
  "\\t\\n\\x{0B}\\f\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}" \
  "\\x{202F}\\x{205F}\\x{3000}"
constexpr const char* kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" SAESCOPE_WS "\\p{L}\\p{N}]+"
    "|[" SAESCOPE_WS "]+(?![^" SAESCOPE_WS "])|[" SAESCOPE_WS "]+";
#undef SAESCOPE_WS

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof buffer);
  return reinterpret_cast<const char*>(buffer);
}

struct MatchData {
  explicit MatchData(const pcre2_code* code)
      : data(pcre2_match_data_create_from_pattern(code, nullptr)) {
    if (!data) throw InternalError("pre-tokeniser: out of memory for PCRE2 match data");
  }
  ~MatchData() { pcre2_match_data_free(data); }
  MatchData(const MatchData&) = delete;
  MatchData& operator=(const MatchData&) = delete;
  pcre2_match_data* data;
};

}  // namespace

struct Pretokenizer::Impl {
  pcre2_code* code = nullptr;
  bool jit = false;
};

Pretokenizer::Pretokenizer() : impl_(std::make_unique<Impl>()) {
  int error = 0;
  PCRE2_SIZE error_offset = 0;
  // MATCH_INVALID_UTF: invalid UTF-8 is allowed in the subject and can never
  // be matched, so such bytes fall between matches.
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kGpt2Pattern), PCRE2_ZERO_TERMINATED,
                              PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error,
                              &error_offset, nullptr);
  if (!impl_->code)
    throw InternalError("pre-tokeniser: PCRE2 rejected the GPT-2 pattern at offset " +
                        std::to_string(error_offset) + ": " + pcre2_message(error));
  impl_->jit = pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE) == 0;
}

Pretokenizer::~Pretokenizer() { pcre2_code_free(impl_->code); }

bool Pretokenizer::uses_jit() const { return impl_->jit; }

void Pretokenizer::split(std::string_view text, const PieceSink& sink) const {
  MatchData match(impl_->code);
  const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const std::size_t size = text.size();
  std::size_t pos = 0;
  while (pos < size) {
    int rc = impl_->jit ? pcre2_jit_match(impl_->code, subject, size, pos, 0, match.data, nullptr)
                        : PCRE2_ERROR_JIT_BADOPTION;
    // The interpreter keeps its backtracking state on the heap: the fallback
    // when the JIT's fixed stack runs out on a pathological run.
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT || rc == PCRE2_ERROR_JIT_BADOPTION)
      rc = pcre2_match(impl_->code, subject, size, pos, 0, match.data, nullptr);
    std::size_t begin = size, end = size;
    if (rc >= 0) {
      const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.data);
      begin = ovector[0];
      end = ovector[1];
      if (end <= begin) throw InternalError("pre-tokeniser: empty match at byte " + std::to_string(begin));
    } else if (rc != PCRE2_ERROR_NOMATCH) {
      throw InternalError("pre-tokeniser: PCRE2 failed at byte " + std::to_string(pos) + ": " +
                          pcre2_message(rc));
    }
    // Every well-formed character matches some branch, so what lies between
    // matches is invalid UTF-8.
    for (; pos < begin; ++pos) sink(pos, pos + 1, true);
    if (begin < end) sink(begin, end, false);
    pos = end;
  }
}

}  // namespace saescope::tokenizer
