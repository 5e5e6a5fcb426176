#pragma once
// Prompt-centric reading: for a typed text, the features that fire most on
// each of its tokens (no harvest needed), as SAEDashboard's prompt view.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace saescope::model {
class LanguageModel;
}
namespace saescope::sae {
class Sae;
}
namespace saescope::tokenizer {
class BpeTokenizer;
}

namespace saescope::analysis {

struct TokenFeatures {
  int32_t token_id = 0;
  std::string text;                                // the token's bytes
  bool is_bos = false;                             // the BOS the model was given first
  std::vector<std::pair<int64_t, float>> top;      // (feature, activation), strongest first, > 0 only
};

// Encodes `text` (BOS first), runs the model up to the SAE's hook and
// returns, per token, its `top_n` features. InputError when the text holds
// no token, is longer than the model's context, or the SAE does not fit the hook.
std::vector<TokenFeatures> prompt_features(const model::LanguageModel& model, const sae::Sae& sae,
                                           const tokenizer::BpeTokenizer& tokenizer,
                                           const std::string& text, int64_t top_n = 10);

}  // namespace saescope::analysis
