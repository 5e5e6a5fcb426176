#pragma once
// What the architectures' training steps share (sae_train_step.h has the
// losses in full): GEMMs in bfloat16 when asked, the gradient of a penalty
// weighted by decoder row norms, batch top-k, AuxK, unit-norm decoder rows,
// and the step of every architecture whose features come from one
// pre-activation pre = x'·W_enc + b_enc (all but gated).
#include <ATen/core/Tensor.h>

#include "core/sae/sae.h"
#include "core/sae/sae_train_step.h"

namespace saescope::sae::step_math {

at::Tensor mm(const at::Tensor& a, const at::Tensor& b, bool bf16);
at::Tensor addmm(const at::Tensor& bias, const at::Tensor& a, const at::Tensor& b, bool bf16);

// A penalty weighted by ‖W_dec[j]‖ reaches W_dec as
// W_dec[j]/‖W_dec[j]‖ · g_norm[j] · scale.
void add_row_norm_grad(at::Tensor& gW_dec, const at::Tensor& W_dec, const at::Tensor& norms, const at::Tensor& g_norm,
                       double scale);

// The k·n largest ReLU(pre) over the whole batch (SAELens's BatchTopK).
at::Tensor batch_topk(const at::Tensor& pre, int64_t k);

// One step's working values, for an architecture's penalty to read and add to.
struct PreActStep {
  const SaeWeights& p;
  const at::Tensor& x;  // the input (a transcoder's target is s.target)
  const StepSettings& s;
  double inv_n;
  bool bf;
  at::Tensor xc, pre;  // x' and x'·W_enc + b_enc
  at::Tensor f;        // features
  at::Tensor err;      // x̂ − x (x̂ − target for a transcoder)
  at::Tensor df;       // dL/df, [n, d_sae]: the penalty adds its part
  at::Tensor gW_dec, gb_dec;
  at::Tensor extra_dpre;  // added to dL/dpre after the activation's mask (undefined: none)
  StepResult& r;          // l1, aux and grad.log_threshold are the penalty's to set
};

struct PreActArchitecture {
  at::Tensor (*features)(PreActStep& st);  // from st.pre (it may reuse pre's storage)
  void (*penalty)(PreActStep& st);         // nullptr: none
  bool aux_k;                              // AuxK on the dead features (topk-like)
};

StepResult pre_activation_step(const SaeWeights& p, const at::Tensor& x, const StepSettings& s,
                               const PreActArchitecture& a);

// Inference: x'·W_enc + b_enc, times ‖W_dec row‖ when the config rescales.
at::Tensor pre_activation(const at::Tensor& xc, const SaeWeights& w, const at::Tensor& dec_norm);

// Top-k and batch top-k training keep decoder rows at unit norm.
void normalise_decoder_rows(SaeWeights& p);
// b_enc starts at zero for every architecture that has one.
void zero_b_enc(SaeWeights& p, int64_t d_sae, const at::TensorOptions& opts);

}  // namespace saescope::sae::step_math
