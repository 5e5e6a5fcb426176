#pragma once
// A word's occurrences as the workspace stores them (store::OccurrenceRow),
// read as the engine scores them: the Senses view and the report's word
// pages ask here rather than rebuild the table themselves.
#include <string>
#include <vector>

#include "core/polysemy/sense_clustering.h"
#include "core/store/evaluation_store.h"

namespace saescope::polysemy {

// The senses × features table of `word`'s sense-labelled occurrences that
// got a feature (unlabelled and all-zero ones left out).
SenseFeatureTable stored_sense_feature_table(const std::vector<store::OccurrenceRow>& occurrences,
                                             const std::string& word);

}  // namespace saescope::polysemy
