#pragma once
// Trains an SAE on activations from any ActivationSource, the way SAELens
// does: Adam (hand-written, clip-grad-norm 1.0), linear LR warm-up and final
// decay, sparsity coefficient warm-up (the L1 of standard and gated, the L0 of
// jumprelu), L1 weighted by decoder row norm, AuxK for topk/batchtopk,
// JumpReLU's learned log-threshold (straight-through estimator; L0 penalty
// in "step" or "tanh" mode, optional pre-act loss on dead features), gated's
// auxiliary reconstruction loss, dead-feature tracking over a window of steps,
// b_dec at the data's geometric median (Weiszfeld) or mean, unit-norm decoder
// rows at init (and after every step for topk/batchtopk). A fixed seed gives
// identical weights on the same device. BatchTopK is saved as JumpReLU with
// one shared threshold (the running mean of the smallest kept activation);
// JumpReLU is saved with threshold = exp(log_threshold), gated with b_gate,
// r_mag and b_mag (and no b_enc), as SAELens saves them.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/sae/sae.h"
#include "core/sae/sae_train_step.h"

namespace saescope::sae {

class ActivationSource;

enum class BDecInit { GeometricMedian, Mean, Zeros };

struct TrainOptions {
  Architecture architecture = Architecture::Standard;  // any with a training step (arch/)
  // Started distributed (dist::world()): ranks share each batch; false: this
  // process trains alone (a sweep's SAE on its rank).
  bool data_parallel = true;
  int64_t d_sae = 0;  // required
  int64_t k = 32;     // topk / batchtopk / matryoshka_batchtopk
  // matryoshka_batchtopk: strictly increasing level widths, the first ≥ k; the
  // last, d_sae, is added when missing (as SAELens does).
  std::vector<int64_t> matryoshka_widths;
  int64_t batch_size = 4096;
  int64_t total_tokens = 0;  // required; training stops earlier if the source runs dry

  double lr = 3e-4;
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  int64_t lr_warm_up_steps = 0;  // linear from lr/warm_up to lr
  int64_t lr_decay_steps = 0;    // the last steps decay linearly to lr_end
  double lr_end = -1;            // < 0: lr / 10
  double max_grad_norm = 1.0;    // <= 0: no clipping

  double l1_coefficient = 1.0;   // standard, gated (SAELens default for both)
  double l0_coefficient = 1.0;   // jumprelu (SAELens default)
  int64_t l1_warm_up_steps = 0;  // the sparsity coefficient (L1 or L0) rises linearly from 0
  double jumprelu_bandwidth = 0.05;       // ε of the STE's rectangle kernel (SAELens 6 default)
  double jumprelu_init_threshold = 0.01;  // log_threshold starts at log of this (SAELens 6)
  JumpReluSparsity jumprelu_sparsity = JumpReluSparsity::Step;  // SAELens's default mode
  double jumprelu_tanh_scale = 4.0;     // tanh mode's scale (SAELens default)
  double pre_act_loss_coefficient = 0;  // jumprelu; 0: off (SAELens: None)
  double aux_k_coefficient = 1.0;
  double topk_threshold_lr = 0.01;         // batchtopk's running threshold
  int64_t dead_feature_window = 1000;      // steps without firing before a feature is dead
  int64_t feature_sampling_window = 2000;  // steps per density estimate (sparsity.safetensors)

  BDecInit b_dec_init = BDecInit::GeometricMedian;
  int64_t init_tokens = 0;  // tokens drawn for b_dec / scaling estimates; 0: one batch
  bool apply_b_dec_to_input = true;
  // ExpectedAverageOnlyIn: scale inputs to mean norm √d_in during training;
  // the factor is folded into the saved weights, as SAELens does.
  Normalization normalize_activations = Normalization::None;

  uint64_t seed = 42;
  std::string device = "cpu";
  bool autocast_bf16 = false;  // CUDA only: GEMMs in bfloat16

  std::string checkpoint_dir;           // an SAE folder replaced atomically at each checkpoint
  int64_t checkpoint_every_tokens = 0;  // 0: none
  int64_t progress_every_steps = 1;

  // A transcoder: the source serves [n, d_in + d_out], the input's d_in
  // columns then the d_out of the hook it reconstructs (metadata.hook_name_out).
  // 0: an SAE, reconstructing its input.
  int64_t d_out = 0;
  bool skip_connection = false;  // a skip transcoder: + x·W_skipᵀ, W_skip from zero (SAELens)

  SaeMetadata metadata;  // model, hook, ... written to cfg.json
  bool center_writing_weights = true;
  std::string center_writing_weights_source = "training activations";
};

struct TrainProgress {
  int64_t step = 0;
  int64_t tokens = 0;
  int64_t total_tokens = 0;
  double tokens_per_s = 0;
  double elapsed_s = 0;
  // l1: the sparsity penalty (L1 for standard and gated, L0 or tanh for jumprelu);
  // aux: AuxK (topk, batchtopk), jumprelu's pre-act loss or gated's
  // auxiliary reconstruction loss.
  double loss = 0, mse = 0, l1 = 0, aux = 0;
  double l0 = 0;
  double dead_fraction = 0;  // features not fired within dead_feature_window steps
  double lr = 0;
  double l1_coefficient = 0;  // the sparsity coefficient in effect: L1 (standard, gated) or L0 (jumprelu)
};

enum class TrainStatus { Finished, SourceExhausted, StoppedOnNaN };

struct TrainResult {
  Sae sae;  // the last good weights
  TrainStatus status = TrainStatus::Finished;
  std::string message;
  int64_t steps = 0, tokens = 0;
  int64_t last_checkpoint_tokens = 0;  // 0: no checkpoint written
  TrainProgress last;
};

using TrainProgressFn = std::function<void(const TrainProgress&)>;
using CancelCheck = std::function<bool()>;

// Throws InputError for bad options or source data of the wrong width, and
// saescope::Cancelled when `cancelled` returns true (checked every step; the
// last checkpoint stays as it was). A NaN/Inf loss stops training before the
// update that would spread it: the result holds the weights from before that
// step, status StoppedOnNaN and a message; the checkpoint is not overwritten.
TrainResult train_sae(ActivationSource& source, const TrainOptions& options,
                      const TrainProgressFn& progress = {}, const CancelCheck& cancelled = {});

}  // namespace saescope::sae
