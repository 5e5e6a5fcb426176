#pragma once
// What BatchTopK and Matryoshka BatchTopK share: saved as JumpReLU with one
// threshold, the running mean of the smallest kept activation; unit-norm
// decoder rows; b_enc from zero.
#include "core/sae/arch/architecture.h"
#include "core/sae/arch/step_math.h"

namespace saescope::sae {

// A spec with everything but id, name, summary and step.
ArchitectureSpec batch_topk_spec();

}  // namespace saescope::sae
