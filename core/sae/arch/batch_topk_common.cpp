#include "core/sae/arch/batch_topk_common.h"

#include <ATen/ATen.h>

#include "core/sae/sae_trainer.h"

namespace saescope::sae {

ArchitectureSpec batch_topk_spec() {
  ArchitectureSpec a{};
  a.sparsity = SparsityKnob::K;
  a.runs_as = Architecture::JumpReLU;
  a.init = [](SaeWeights& p, const TrainOptions&, const at::TensorOptions& opts) {
    step_math::zero_b_enc(p, p.W_dec.size(0), opts);
  };
  a.after_step = [](SaeWeights& p, const StepResult& r, const TrainOptions& o, double& threshold) {
    step_math::normalise_decoder_rows(p);
    const at::Tensor pos = r.features.masked_select(r.features.gt(0));
    if (pos.numel() > 0)
      threshold = (1 - o.topk_threshold_lr) * threshold + o.topk_threshold_lr * pos.min().to(at::kDouble).item<double>();
  };
  a.finish = [](const SaeWeights& p, double threshold, const TrainOptions& o, SaeWeights& out, SaeConfig&) {
    out.b_enc = p.b_enc.to(at::kCPU).clone();
    out.threshold = at::full({o.d_sae}, threshold, at::TensorOptions().dtype(at::kFloat));
  };
  return a;
}

}  // namespace saescope::sae
