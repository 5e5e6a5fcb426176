#include "core/polysemy/stored_occurrences.h"

namespace saescope::polysemy {

SenseFeatureTable stored_sense_feature_table(const std::vector<store::OccurrenceRow>& occurrences,
                                             const std::string& word) {
  std::vector<OccurrenceOutcome> outcomes;
  for (const auto& o : occurrences)
    if (!o.sense_id.empty() && o.argmax_feature >= 0) outcomes.push_back({word, o.sense_id, std::nullopt, o.argmax_feature});
  return sense_feature_table(outcomes, word);
}

}  // namespace saescope::polysemy
