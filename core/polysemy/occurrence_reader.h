#pragma once
// Sense-labelled occurrences as JSONL, one per line: word, pos, sense_id,
// gloss, context, char_start, char_end (code points, end exclusive). Required:
// word, sense_id, context. The location is optional (both or neither).
#include <string>
#include <vector>

#include "core/polysemy/read_report.h"
#include "core/polysemy/sense_occurrence.h"

namespace saescope::polysemy {

std::vector<SenseOccurrence> read_occurrences_jsonl(const std::string& path, ReadReport& report,
                                                    const ReadOptions& options = {});

}  // namespace saescope::polysemy
