#pragma once
// The findings page of a report, written from the numbers: sentences that
// each hold for the table they describe, or are left out when the data cannot
// say (one SAE, one layer, no scores). Each carries its numbers and the
// caution the data calls for.
#include <string>
#include <vector>

#include "core/store/evaluation_table.h"

namespace saescope::store {

struct Finding {
  std::string topic;  // "best separation", "trade-off", "depth", "attention vs MLP", "size", "sparsity"
  std::string text;
};

std::vector<Finding> evaluation_findings(const std::vector<EvaluationTableRow>& rows);

}  // namespace saescope::store
