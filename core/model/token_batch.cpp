#include "core/model/token_batch.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "core/common/error.h"

namespace saescope::model {

at::Tensor TokenBatch::mask() const {
  const int64_t width = ids.size(1);
  at::Tensor m = at::zeros({batch_size(), width}, at::kBool);
  for (int64_t row = 0; row < batch_size(); ++row) m[row].slice(0, 0, lengths[row]).fill_(true);
  return m;
}

at::Tensor TokenBatch::real_positions(const at::Tensor& per_position) const {
  std::vector<at::Tensor> rows;
  rows.reserve(lengths.size());
  for (int64_t row = 0; row < batch_size(); ++row)
    rows.push_back(per_position[row].slice(0, 0, lengths[row]));
  return at::cat(rows, 0);
}

TokenBatch make_token_batch(const std::vector<std::vector<int64_t>>& sequences,
                            const ModelInfo& config, bool prepend_bos) {
  if (sequences.empty()) throw InputError("no token sequences to run");
  if (prepend_bos && config.bos_token_id < 0)
    throw InputError(config.name + " has no BOS token (config.json's bos_token_id), so none can be prepended");
  const int64_t extra = prepend_bos ? 1 : 0;
  TokenBatch batch;
  int64_t width = 0;
  for (size_t s = 0; s < sequences.size(); ++s) {
    const int64_t length = static_cast<int64_t>(sequences[s].size()) + extra;
    if (length == 0) throw InputError("token sequence " + std::to_string(s) + " is empty");
    if (length > config.n_positions)
      throw InputError("token sequence " + std::to_string(s) + " has " + std::to_string(length) +
                       " tokens" + (prepend_bos ? " (BOS included)" : "") +
                       ", more than the model's " + std::to_string(config.n_positions) +
                       " positions (n_positions)");
    for (size_t i = 0; i < sequences[s].size(); ++i) {
      const int64_t id = sequences[s][i];
      if (id < 0 || id >= config.vocab_size)
        throw InputError("token id " + std::to_string(id) + " at position " + std::to_string(i) +
                         " of sequence " + std::to_string(s) + " is outside the vocabulary (0.." +
                         std::to_string(config.vocab_size - 1) + ")");
    }
    batch.lengths.push_back(length);
    width = std::max(width, length);
  }
  // Padding positions hold BOS: any valid id would do, their values are never read.
  batch.ids = at::full({batch.batch_size(), width}, std::max<int64_t>(config.bos_token_id, 0), at::kLong);
  int64_t* out = batch.ids.data_ptr<int64_t>();
  for (size_t s = 0; s < sequences.size(); ++s) {
    int64_t* row = out + static_cast<int64_t>(s) * width;
    if (prepend_bos) *row++ = config.bos_token_id;
    std::copy(sequences[s].begin(), sequences[s].end(), row);
  }
  return batch;
}

}  // namespace saescope::model
