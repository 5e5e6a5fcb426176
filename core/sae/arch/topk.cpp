// TopK (SAELens "topk"): f = ReLU of the k largest of x'·W_enc + b_enc per
// token, the rest 0. Training: MSE + AuxK on dead features (--k); decoder
// rows kept at unit norm.
#include <ATen/ATen.h>

#include "core/sae/arch/architecture.h"
#include "core/sae/arch/step_math.h"
#include "core/sae/sae_trainer.h"

namespace saescope::sae {
namespace {

using namespace step_math;

at::Tensor topk_features(const at::Tensor& pre, int64_t k) {
  auto top = pre.topk(k, /*dim=*/-1);
  return at::zeros_like(pre).scatter_(-1, std::get<1>(top), at::relu(std::get<0>(top)));
}

const PreActArchitecture kStep{[](PreActStep& st) { return topk_features(st.pre, st.s.k); }, nullptr, true};

}  // namespace

ArchitectureSpec topk_architecture() {
  ArchitectureSpec a{};
  a.id = Architecture::TopK;
  a.name = "topk";
  a.summary = "the k largest per token";
  a.sparsity = SparsityKnob::K;
  a.runs_as = Architecture::TopK;
  a.tensors = {{"b_enc", &SaeWeights::b_enc}};
  a.encode = [](const at::Tensor& xc, const SaeWeights& w, const SaeConfig& cfg, const at::Tensor&,
                const at::Tensor& dec_norm) { return topk_features(pre_activation(xc, w, dec_norm), cfg.k); };
  a.step = [](const SaeWeights& p, const at::Tensor& x, const StepSettings& s) {
    return pre_activation_step(p, x, s, kStep);
  };
  a.init = [](SaeWeights& p, const TrainOptions&, const at::TensorOptions& opts) {
    zero_b_enc(p, p.W_dec.size(0), opts);
  };
  a.after_step = [](SaeWeights& p, const StepResult&, const TrainOptions&, double&) { normalise_decoder_rows(p); };
  a.finish = [](const SaeWeights& p, double, const TrainOptions& o, SaeWeights& out, SaeConfig& cfg) {
    out.b_enc = p.b_enc.to(at::kCPU).clone();
    cfg.k = o.k;
  };
  return a;
}

}  // namespace saescope::sae
