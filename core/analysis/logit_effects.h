#pragma once
// Which tokens a feature pushes up or down when it fires: the direct path
// from its decoder row through the final LayerNorm's gain to the unembedding,
// W_dec[f] · diag(γ of ln_f) · W_Uᵀ (SAEDashboard's logit table for raw GPT-2
// weights). Computed in chunks of features so a [d_sae, vocab] matrix is
// never held (24,576 × 50,257 floats would be 5 GB).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>

namespace saescope::analysis {

struct LogitEffectTable {
  at::Tensor top_values, top_ids;         // [d_sae, k] float32 / int64, descending
  at::Tensor bottom_values, bottom_ids;   // [d_sae, k], ascending (most negative first)
};

// w_dec [d_sae, d_model], ln_final_gain [d_model], unembed [vocab, d_model]
// (any device; results on the CPU). `between_chunks` (optional) runs after
// every chunk, e.g. to report progress or throw Cancelled.
LogitEffectTable logit_effects(const at::Tensor& w_dec, const at::Tensor& ln_final_gain,
                               const at::Tensor& unembed, int64_t k,
                               const std::function<void(int64_t done, int64_t total)>& between_chunks = {});

}  // namespace saescope::analysis
