#pragma once
// SAELens SAE folders: cfg.json + sae_weights.safetensors, optional
// sparsity.safetensors (tensor `sparsity`, log10 density) and
// activation_scaler.json ({"scaling_factor": s}). Reads every config
// generation; writes the current (v6) layout, atomically.
#include <functional>
#include <optional>
#include <string>

#include "core/sae/sae.h"

namespace saescope::sae {

struct LoadOptions {
  // For expected_average_only_in SAEs whose folder lacks the factor (it is
  // not part of the weights; SAELens keeps some in its release list).
  std::optional<double> scaling_factor;
  // Where the SAE reads, when the user says so (--hook): replaces what the
  // files say or what a reader infers from the path. A TransformerLens name
  // or a Hugging Face module path.
  std::string hook;
};

// Sets cfg's input hook (and layer) from options.hook when given, noting it
// among cfg.assumptions.
void apply_hook_override(SaeConfig& cfg, const LoadOptions& options);

// Loads and validates an SAE folder. Every refusal is an InputError naming
// the file (and tensor or field): missing cfg.json / weights, unknown
// architecture, missing or extra tensors for the architecture, wrong shapes,
// NaN/Inf values, a topk config without k.
//
// Legacy `scaling_factor` tensor (SAELens < 6 "finetuning scaling factor",
// multiplying features before the decoder): dropped when all ones, as SAELens
// does. Otherwise, when cfg.json sets finetuning_scaling_factor it is folded
// into W_dec (x̂ = (f ⊙ s)·W_dec + b_dec, exactly the same reconstruction and
// the same features); when it does not, the file contradicts itself and is
// refused.
Sae load_sae(const std::string& folder, const LoadOptions& options = {});

// Writes `sae` as a SAELens v6 folder at `folder`. The files go into a temp
// folder beside it, which then replaces `folder` in one rename (an atomic
// exchange where the filesystem allows), so a save killed at any point leaves
// the previous SAE at `folder` whole. `on_file_written` (optional) is called
// after each file lands in the temp folder; tests throw from it to simulate a
// crash mid-save. Throws InputError naming the folder on I/O failure.
void save_sae(const Sae& sae, const std::string& folder,
              const std::function<void(const std::string& file)>& on_file_written = {});

}  // namespace saescope::sae
