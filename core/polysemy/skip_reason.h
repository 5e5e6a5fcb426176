#pragma once
// Why the PS-Eval runner could not give a pair (or an occurrence) an argmax
// feature. Each is counted separately: a result that silently drops half the
// pairs is not comparable with one that drops none.
#include <array>
#include <cstddef>
#include <optional>
#include <string>

namespace saescope::polysemy {

enum class SkipReason {
  multi_token = 0,     // " " + target_word is not exactly one token
  token_mismatch = 1,  // the two prompts give different target tokens
  all_zero = 2,        // the SAE code at the target position is all zeros
  too_long = 3,        // the prompt exceeds the model's context
  not_found = 4,       // the target token does not occur in the prompt
};
constexpr std::size_t kSkipReasonCount = 5;

using SkipCounts = std::array<std::size_t, kSkipReasonCount>;

// "multi_token", "token_mismatch", "all_zero", "too_long", "not_found"
const char* skip_reason_name(SkipReason reason);
std::optional<SkipReason> parse_skip_reason(const std::string& name);

}  // namespace saescope::polysemy
