#include "core/sae/sae_train_step.h"

#include "core/common/error.h"
#include "core/sae/arch/architecture.h"

namespace saescope::sae {

std::vector<at::Tensor> defined_tensors(const SaeWeights& p) {
  std::vector<at::Tensor> out;
  for (const at::Tensor* t : {&p.W_enc, &p.b_enc, &p.W_dec, &p.b_dec, &p.log_threshold, &p.b_gate, &p.r_mag,
                              &p.b_mag, &p.W_skip})
    if (t->defined()) out.push_back(*t);
  return out;
}

StepResult sae_loss_and_grads(const SaeWeights& p, const at::Tensor& x, const StepSettings& s) {
  const ArchitectureSpec& a = architecture_spec(s.architecture);
  if (!a.step) throw InternalError(std::string(a.name) + " SAEs are not trained here");
  return a.step(p, x, s);
}

}  // namespace saescope::sae
