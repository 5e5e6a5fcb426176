#pragma once
// Activations whose answer is known: a ground-truth dictionary of random unit
// directions, each sample a sparse non-negative combination of a few of them
// plus small Gaussian noise. A good SAE recovers the directions as decoder
// rows; dictionary_recovery() measures how many it found.
#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <cstdint>

#include "core/sae/activation_source.h"

namespace saescope::sae {

struct SyntheticDictionaryOptions {
  int64_t d_in = 256;
  int64_t n_directions = 4096;
  double mean_active = 8;        // expected directions per sample (Bernoulli each)
  double min_coefficient = 0.5;  // coefficients ~ U(min, max): away from zero
  double max_coefficient = 1.5;
  double noise_std = 0.01;  // per dimension
  uint64_t seed = 0;
};

class SyntheticSparseDictionary : public ActivationSource {
 public:
  explicit SyntheticSparseDictionary(const SyntheticDictionaryOptions& options);
  int64_t d_in() const override { return options_.d_in; }
  at::Tensor next_batch(int64_t n) override;                    // never runs out
  const at::Tensor& directions() const { return directions_; }  // [n_directions, d_in], unit rows

 private:
  SyntheticDictionaryOptions options_;
  at::Generator gen_;
  at::Tensor directions_;
};

struct DictionaryRecovery {
  double fraction_recovered = 0;  // true directions with a decoder row at cosine >= threshold
  double mean_max_cosine = 0;     // mean over true directions of the best cosine
};

// `truth` [m, d], `decoder` [s, d] (W_dec): rows are compared by cosine.
DictionaryRecovery dictionary_recovery(const at::Tensor& truth, const at::Tensor& decoder,
                                       double cosine_threshold);

}  // namespace saescope::sae
