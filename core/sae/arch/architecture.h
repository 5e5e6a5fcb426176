#pragma once
// SAE architectures as data: one file per architecture in this folder holds
// what it stores, how it encodes, its training loss and gradients, its
// initialisation and how it is saved; registry.cpp lists them. The CLI's
// --arch choices, the Train dialog's list, the config parser's names and the
// evaluation table's sparsity label all come from here. Adding one: a file
// defining `ArchitectureSpec <name>_architecture()`, an enum value in
// sae_config.h and a line in registry.cpp (core/sae/README.md).
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "core/sae/sae.h"
#include "core/sae/sae_train_step.h"

namespace saescope::sae {

struct TrainOptions;

// The knob that sets an architecture's sparsity in training.
enum class SparsityKnob {
  L1,  // --l1: a penalty on activations by decoder norm (standard, gated)
  K,   // --k: active features per token (topk; batch mean for batchtopk)
  L0,  // --l0-coefficient: a penalty on the count of active features (jumprelu)
};

struct ArchitectureSpec {
  Architecture id;
  const char* name;     // SAELens's: "standard", "topk", "batchtopk", ...
  const char* summary;  // one line: --arch help, the Train dialog
  SparsityKnob sparsity;
  Architecture runs_as;  // its inference form: itself, or JumpReLU
  // Tensors stored besides W_enc, W_dec and b_dec, each [d_sae], by their
  // SAELens names (inference forms only).
  std::vector<std::pair<std::string, at::Tensor SaeWeights::*>> tensors;

  // ---- inference (runs_as == id) ----
  // A tensor derived once from the weights (gated's W_enc ⊙ exp(r_mag)), or nullptr.
  at::Tensor (*derive)(const SaeWeights& w);
  // Features [n, d_sae] from x' (normalised, b_dec subtracted when the config says).
  // dec_norm: ‖W_dec row‖ when rescale_acts_by_decoder_norm, else undefined.
  at::Tensor (*encode)(const at::Tensor& xc, const SaeWeights& w, const SaeConfig& cfg, const at::Tensor& derived,
                       const at::Tensor& dec_norm);

  // ---- training (nullptr: not trained here) ----
  StepResult (*step)(const SaeWeights& p, const at::Tensor& x, const StepSettings& s);
  // Its own parameters (b_enc, log_threshold, gate and magnitude biases), on
  // `opts`; W_enc, W_dec and b_dec are the trainer's.
  void (*init)(SaeWeights& p, const TrainOptions& o, const at::TensorOptions& opts);
  // After each optimiser step: unit-norm decoder rows, a running threshold.
  void (*after_step)(SaeWeights& p, const StepResult& r, const TrainOptions& o, double& running_threshold);
  // How it is saved: its inference tensors besides W_enc, W_dec and b_dec (CPU), and its config keys.
  void (*finish)(const SaeWeights& p, double running_threshold, const TrainOptions& o, SaeWeights& out,
                 SaeConfig& cfg);
};

const std::vector<ArchitectureSpec>& architectures();
const ArchitectureSpec& architecture_spec(Architecture a);
// By name; nullptr when none has it.
const ArchitectureSpec* find_architecture(const std::string& name);
// "standard, topk, ..." (those trained here, or all).
std::string architecture_names(bool trainable_only);
// The training option that sets the knob: "--l1", "--k", "--l0-coefficient".
const char* sparsity_option(SparsityKnob k);

}  // namespace saescope::sae
