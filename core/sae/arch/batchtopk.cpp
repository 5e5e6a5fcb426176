// BatchTopK (SAELens "batchtopk"): in training, the k·n largest ReLU(x'·W_enc
// + b_enc) over a batch of n tokens (k per token on average), with AuxK and
// unit-norm decoder rows (--k). Saved, as SAELens saves it, as JumpReLU with
// one shared threshold: the running mean of the smallest kept activation.
#include <ATen/ATen.h>

#include "core/sae/arch/batch_topk_common.h"

namespace saescope::sae {
namespace {

using namespace step_math;

const PreActArchitecture kStep{[](PreActStep& st) { return batch_topk(st.pre, st.s.k); }, nullptr, true};

}  // namespace

ArchitectureSpec batchtopk_architecture() {
  ArchitectureSpec a = batch_topk_spec();
  a.id = Architecture::BatchTopK;
  a.name = "batchtopk";
  a.summary = "the k·n largest over a batch; saved as jumprelu";
  a.step = [](const SaeWeights& p, const at::Tensor& x, const StepSettings& s) {
    return pre_activation_step(p, x, s, kStep);
  };
  return a;
}

}  // namespace saescope::sae
