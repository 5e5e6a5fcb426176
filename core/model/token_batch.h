#pragma once
// Several token sequences of different lengths as one [batch, pos] tensor.
//
// Sequences are right-padded. Under causal attention a real token only
// ever attends to earlier positions, which are real tokens of its own row, so
// right padding needs no key mask: every real position of a padded batch gets
// the activations it gets when its sequence runs alone, positions starting at
// 0 in each row. `mask()` says which positions are real, for whoever reads the
// activations (statistics, losses) and must skip the padding.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "core/model/model_info.h"

namespace saescope::model {

struct TokenBatch {
  at::Tensor ids;                 // [batch, pos] int64 on the CPU
  std::vector<int64_t> lengths;   // real tokens per row, BOS included

  int64_t batch_size() const { return static_cast<int64_t>(lengths.size()); }
  at::Tensor mask() const;        // [batch, pos] bool: true on real tokens
  // A per-position value [batch, pos, ...] -> the real positions only,
  // row after row: [sum(lengths), ...].
  at::Tensor real_positions(const at::Tensor& per_position) const;
};

// Prepends BOS (info.bos_token_id) to each sequence when `prepend_bos`.
// InputError when a sequence is empty, longer than n_positions, or holds an
// id outside the vocabulary, or BOS is asked of a model without one.
TokenBatch make_token_batch(const std::vector<std::vector<int64_t>>& sequences,
                            const ModelInfo& info, bool prepend_bos);
// With the family's own BOS rule (info.prepend_bos).
inline TokenBatch make_token_batch(const std::vector<std::vector<int64_t>>& sequences,
                                   const ModelInfo& info) {
  return make_token_batch(sequences, info, info.prepend_bos);
}

}  // namespace saescope::model
