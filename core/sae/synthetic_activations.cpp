#include "core/sae/synthetic_activations.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "core/common/error.h"

namespace saescope::sae {

SyntheticSparseDictionary::SyntheticSparseDictionary(const SyntheticDictionaryOptions& options)
    : options_(options), gen_(at::detail::createCPUGenerator(options.seed)) {
  if (options.d_in <= 0 || options.n_directions <= 0 || options.mean_active <= 0 ||
      options.mean_active > options.n_directions)
    throw InputError(
        "synthetic dictionary: sizes must be positive and mean_active <= n_directions");
  at::Tensor d =
      at::randn({options.n_directions, options.d_in}, gen_, at::TensorOptions().dtype(at::kFloat));
  directions_ = d / d.norm(2, {1}, true);
}

at::Tensor SyntheticSparseDictionary::next_batch(int64_t n) {
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  const double p = options_.mean_active / static_cast<double>(options_.n_directions);
  at::Tensor active = at::rand({n, options_.n_directions}, gen_, f32).lt(p);
  at::Tensor coeff = at::rand({n, options_.n_directions}, gen_, f32)
                         .mul_(options_.max_coefficient - options_.min_coefficient)
                         .add_(options_.min_coefficient)
                         .mul_(active);
  at::Tensor x = at::mm(coeff, directions_);
  if (options_.noise_std > 0)
    x.add_(at::randn({n, options_.d_in}, gen_, f32).mul_(options_.noise_std));
  return x;
}

DictionaryRecovery dictionary_recovery(const at::Tensor& truth, const at::Tensor& decoder,
                                       double cosine_threshold) {
  at::Tensor t = truth.to(at::kCPU, at::kFloat);
  at::Tensor w = decoder.to(at::kCPU, at::kFloat);
  t = t / t.norm(2, {1}, true).clamp_min(1e-12);
  w = w / w.norm(2, {1}, true).clamp_min(1e-12);
  at::Tensor best = std::get<0>(at::mm(t, w.t()).max(1));
  DictionaryRecovery r;
  r.fraction_recovered = best.ge(cosine_threshold).to(at::kDouble).mean().item<double>();
  r.mean_max_cosine = best.to(at::kDouble).mean().item<double>();
  return r;
}

}  // namespace saescope::sae
