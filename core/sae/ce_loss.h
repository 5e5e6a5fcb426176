#pragma once
// The model-side half of SAE evaluation: cross-entropy with the hooked
// activation left as is, replaced by the SAE's reconstruction, or by zeros.
// The GPT-2 engine implements CeLossEvaluator; this header only fixes the
// contract and the field's "CE loss recovered" formula (formats.md).
#include <cstdint>

namespace saescope::sae {

class Sae;

struct CeLosses {
  double clean = 0;  // no intervention
  double sae = 0;    // hook output replaced by x̂
  double zero = 0;   // hook output replaced by zeros
  int64_t tokens = 0;
};

// (CE_zero − CE_sae) / (CE_zero − CE_clean); 1 = as good as the clean model.
inline double ce_loss_recovered(const CeLosses& l) {
  const double denom = l.zero - l.clean;
  return denom != 0 ? (l.zero - l.sae) / denom : 0.0;
}

class CeLossEvaluator {
 public:
  virtual ~CeLossEvaluator() = default;
  // Runs the model over its evaluation tokens three ways at the SAE's hook.
  virtual CeLosses evaluate(const Sae& sae) = 0;
};

}  // namespace saescope::sae
