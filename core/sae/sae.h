#pragma once
// A sparse autoencoder ready to run: its config and its float32 weights, with
// encode / decode / forward exactly as SAELens computes them (formats.md):
//   x' = norm_in(x) − b_dec·[apply_b_dec_to_input]
//   pre = x'·W_enc + b_enc            (× ‖W_dec row‖ when rescale_acts_by_decoder_norm)
//   f = standard: ReLU(pre) | topk: ReLU of the k largest, rest 0
//       | jumprelu: ReLU(pre)·[pre > threshold]
//       | gated: [x'·W_enc + b_gate > 0] · ReLU(x'·(W_enc ⊙ exp(r_mag)) + b_mag)
//   x̂ = norm_out(f·W_dec + b_dec)     (f / ‖W_dec row‖ first when rescaling)
//        + x·W_skipᵀ                  (skip transcoders, on the raw input)
// A transcoder reads d_in-wide activations at one hook and reconstructs
// d_out-wide ones at another (W_dec [d_sae, d_out], b_dec [d_out]).
#include <ATen/core/Tensor.h>

#include <string>
#include <utility>

#include "core/sae/sae_config.h"

namespace saescope::sae {

// The weights SAELens stores, by its tensor names, and the one parameter
// training holds in another form (log_threshold). Unused ones stay undefined.
// Training and inference share this struct.
struct SaeWeights {
  at::Tensor W_enc;      // [d_in, d_sae]
  at::Tensor W_dec;      // [d_sae, d_out]
  at::Tensor b_enc;      // [d_sae]  (not gated)
  at::Tensor b_dec;      // [d_out]
  at::Tensor threshold;  // [d_sae]  jumprelu
  at::Tensor b_gate;     // [d_sae]  gated
  at::Tensor b_mag;      // [d_sae]  gated
  at::Tensor r_mag;      // [d_sae]  gated
  at::Tensor W_skip;     // [d_out, d_in]  skip transcoders
  at::Tensor log_threshold;  // [d_sae]  jumprelu in training: θ = exp(log_threshold)
};

// Per-token statistics of the input that decode needs to undo the
// normalisation (constant_norm_rescale, layer_norm). Empty otherwise.
struct InputNormState {
  at::Tensor coeff;  // constant_norm_rescale: √d_in / ‖x‖, [n, 1]
  at::Tensor mu;     // layer_norm: mean, [n, 1]
  at::Tensor std;    // layer_norm: unbiased std, [n, 1]
  at::Tensor skip;   // skip transcoders: x·W_skipᵀ of the raw input, [n, d_out]
};

struct SaeOutput {
  at::Tensor features;        // [n, d_sae]
  at::Tensor reconstruction;  // [n, d_out]
};

class Sae {
 public:
  Sae() = default;
  // Checks names, shapes and values against the config; throws InputError
  // naming `source` (the folder or file) and the tensor. Weights become float32.
  Sae(SaeConfig cfg, SaeWeights weights, std::string source);

  const SaeConfig& config() const { return cfg_; }
  SaeConfig& mutable_config() { return cfg_; }  // metadata edits only
  const SaeWeights& weights() const { return w_; }
  const std::string& source() const { return source_; }
  int64_t d_in() const { return cfg_.d_in; }
  int64_t d_sae() const { return cfg_.d_sae; }
  int64_t d_out() const { return cfg_.output_width(); }
  bool is_transcoder() const { return cfg_.transcoder; }

  // Log10 feature density from sparsity.safetensors, [d_sae], or undefined.
  const at::Tensor& log_sparsity() const { return log_sparsity_; }
  // Checked like the weights; errors name `file` (default: source()).
  void set_log_sparsity(at::Tensor t, const std::string& file = {});
  void set_source(std::string source) { source_ = std::move(source); }

  // Throws InputError unless this SAE reads `n`-dimensional activations;
  // callers use it before feeding activations taken at `hook`.
  void expect_d_in(int64_t n, const std::string& hook) const;

  // x: [n, d_in] (any float dtype, converted to float32 on the SAE's device).
  at::Tensor encode(const at::Tensor& x, InputNormState* state = nullptr) const;
  // `state` must come from encode() of the same tokens when the normalisation
  // is per token or the SAE has a skip connection; InternalError otherwise.
  at::Tensor decode(const at::Tensor& features, const InputNormState* state = nullptr) const;
  SaeOutput forward(const at::Tensor& x) const;

  // Moves the weights (e.g. to CUDA); float32 stays float32.
  void to_device(const at::Device& device);
  at::Device device() const;

 private:
  at::Tensor normalize_in(const at::Tensor& x, InputNormState* state) const;
  at::Tensor normalize_out(const at::Tensor& y, const InputNormState* state) const;
  void prepare();  // derived tensors (decoder norms, the architecture's own)

  SaeConfig cfg_;
  SaeWeights w_;
  std::string source_;
  at::Tensor log_sparsity_;
  at::Tensor dec_norm_;  // ‖W_dec row‖, when rescale_acts_by_decoder_norm
  at::Tensor derived_;   // the architecture's (gated: W_enc ⊙ exp(r_mag))
};

}  // namespace saescope::sae
