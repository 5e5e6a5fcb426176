#include "core/polysemy/skip_reason.h"

namespace saescope::polysemy {

const char* skip_reason_name(SkipReason reason) {
  switch (reason) {
    case SkipReason::multi_token: return "multi_token";
    case SkipReason::token_mismatch: return "token_mismatch";
    case SkipReason::all_zero: return "all_zero";
    case SkipReason::too_long: return "too_long";
    case SkipReason::not_found: return "not_found";
  }
  return "unknown";
}

std::optional<SkipReason> parse_skip_reason(const std::string& name) {
  for (std::size_t i = 0; i < kSkipReasonCount; ++i) {
    const auto reason = static_cast<SkipReason>(i);
    if (name == skip_reason_name(reason)) return reason;
  }
  return std::nullopt;
}

}  // namespace saescope::polysemy
