#pragma once
// What a workspace shows first, so no page opens empty: an SAE with a stored
// harvest (the middle layer's residual-stream SAE when there is one: the
// largest, top-k nearest 32) and, from its harvest, the feature with the
// highest activation among those firing on 0.1–5 % of tokens whose top tokens
// are whole words (" to · may · will", not a paragraph break), else the
// strongest in that band, else the strongest that fires.
#include <cstdint>
#include <string>

namespace saescope::store {
class Workspace;
}

namespace saescope::analysis {

struct OpeningSelection {
  int64_t sae_id = -1;   // -1: no SAE has a harvest yet
  int64_t feature = -1;  // -1: none fires
  std::string hook;
};
OpeningSelection opening_selection(store::Workspace& ws);

// FeatureSummary::top_tokens ("A · B · C") names three tokens that each start
// a word: a space, then at least two letters and nothing else.
bool top_tokens_are_words(const std::string& top_tokens);

}  // namespace saescope::analysis
