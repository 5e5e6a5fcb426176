#include "core/model/language_model.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "core/common/error.h"

namespace saescope::model {

RunResult LanguageModel::run(const TokenBatch& batch, const RunRequest& request) const {
  c10::InferenceMode inference;
  return forward(batch.ids, request);
}

void LanguageModel::check_ids(const at::Tensor& ids, int64_t past) const {
  if (ids.dim() != 2)
    throw InputError("token ids must be [batch, pos], got " + c10::str(ids.sizes()));
  if (past + ids.size(1) > info_.n_positions)
    throw InputError(std::to_string(past + ids.size(1)) + " positions exceed the model's " +
                     std::to_string(info_.n_positions) + " (its context length)");
}

}  // namespace saescope::model
