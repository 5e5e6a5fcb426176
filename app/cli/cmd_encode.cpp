// `saescope-cli encode`: run an SAE over stored activations.
// Reads tensor `activations` [n, d_in] from a safetensors file and writes
// `features` [n, d_sae] and `reconstruction` [n, d_out] (float32) to another,
// then prints the reconstruction metrics of those tokens (an SAE's against
// its input; a transcoder's only when the file also holds `targets` [n, d_out],
// the activations at its output hook). --sae takes every layout sae-info reads.
#include <ATen/ATen.h>

#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "core/common/error.h"
#include "core/io/safetensors.h"
#include "core/sae/reconstruction_metrics.h"
#include "core/sae/formats/sae_formats.h"

namespace saescope::cli {
namespace {

struct EncodeArgs {
  std::string sae_dir, in_path, out_path, hook;
  int64_t batch = 4096;
  double scaling_factor = 0;
  bool as_json = false;
};

int run_encode(const EncodeArgs& a) {
  sae::LoadOptions lo;
  if (a.scaling_factor > 0) lo.scaling_factor = a.scaling_factor;
  lo.hook = a.hook;
  const sae::Sae model = sae::open_sae(a.sae_dir, lo);

  auto in = io::SafetensorsFile::open(a.in_path);
  if (!in->has("activations")) throw InputError(a.in_path + ": no tensor `activations`");
  const at::Tensor acts = in->tensor("activations");
  if (acts.dim() != 2 || !acts.is_floating_point())
    throw InputError(a.in_path + ": tensor `activations` must be a 2-D float tensor [n, d_in]");
  model.expect_d_in(acts.size(1), a.in_path + " tensor `activations`");
  if (a.batch <= 0) throw InputError("--batch must be positive");
  // What the reconstruction is measured against: the input for an SAE; for a
  // transcoder the output hook's activations, when given.
  at::Tensor targets = model.is_transcoder() ? at::Tensor() : acts;
  if (model.is_transcoder() && in->has("targets")) {
    targets = in->tensor("targets");
    if (targets.dim() != 2 || targets.size(0) != acts.size(0) || targets.size(1) != model.d_out())
      throw InputError(a.in_path + ": tensor `targets` must be [" + std::to_string(acts.size(0)) + ", " +
                       std::to_string(model.d_out()) + "] (the activations at " + model.config().output_hook() + ")");
  }

  at::NoGradGuard no_grad;
  std::vector<at::Tensor> feats, recons;
  sae::ReconstructionMetrics metrics(model.d_out(), model.d_sae());
  for (int64_t i = 0; i < acts.size(0); i += a.batch) {
    const int64_t n = std::min(a.batch, acts.size(0) - i);
    const at::Tensor x = acts.narrow(0, i, n).to(at::kFloat);
    sae::SaeOutput out = model.forward(x);
    if (targets.defined()) metrics.add(targets.narrow(0, i, n).to(at::kFloat), out.features, out.reconstruction);
    feats.push_back(out.features);
    recons.push_back(out.reconstruction);
  }
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  const at::Tensor features = feats.empty() ? at::zeros({0, model.d_sae()}, f32) : at::cat(feats);
  const at::Tensor reconstruction =
      recons.empty() ? at::zeros({0, model.d_out()}, f32) : at::cat(recons);
  io::write_safetensors(a.out_path, {{"features", features}, {"reconstruction", reconstruction}},
                        {{"sae", a.sae_dir},
                         {"architecture", sae::saelens_architecture(model.config())},
                         {"format", model.config().format},
                         {"source", a.in_path}});

  if (!targets.defined()) {  // a transcoder without its targets: features and reconstruction only
    if (a.as_json)
      std::cout << nlohmann::json{{"tokens", acts.size(0)}, {"out", a.out_path},
                                  {"note", "a transcoder: give `targets` in the input file for metrics"}}.dump(2)
                << "\n";
    else
      std::cout << "wrote " << a.out_path << ": features [" << features.size(0) << ", " << features.size(1)
                << "], reconstruction [" << reconstruction.size(0) << ", " << reconstruction.size(1)
                << "] (a transcoder: metrics need tensor `targets` in the input file)\n";
    return 0;
  }
  const sae::ReconstructionReport r = metrics.report();
  if (a.as_json) {
    nlohmann::json j = {{"tokens", r.tokens},
                        {"mse", r.mse},
                        {"l0", r.l0},
                        {"explained_variance", r.explained_variance},
                        {"explained_variance_formula", sae::kExplainedVarianceFormula},
                        {"dead_fraction", r.dead_fraction},
                        {"dense_fraction", r.dense_fraction},
                        {"out", a.out_path}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "wrote " << a.out_path << ": features [" << features.size(0) << ", "
              << features.size(1) << "], reconstruction [" << reconstruction.size(0) << ", "
              << reconstruction.size(1) << "]\n"
              << std::setprecision(6) << "tokens " << r.tokens << "  MSE " << r.mse << "  L0 "
              << r.l0 << "  explained variance " << r.explained_variance << "\n  ("
              << sae::kExplainedVarianceFormula << ")\n";
  }
  return 0;
}

const bool registered = register_command(
    "encode", "Run an SAE over activations: features and reconstructions", [](CLI::App* sub) {
      auto a = std::make_shared<EncodeArgs>();
      sub->add_option("--sae", a->sae_dir, "SAE: a folder or a .npz / .pt file in any layout sae-info reads")
          ->check(non_empty_path())->required();
      sub->add_option("--hook", a->hook, "The SAE's input hook, overriding what its files say or its path implies");
      sub->add_option("--in", a->in_path, "safetensors file with tensor `activations` [n, d_in]")->check(non_empty_path())
          ->required();
      sub->add_option("--out", a->out_path, "safetensors file to write (features, reconstruction)")->check(non_empty_path())
          ->required();
      sub->add_option("--batch", a->batch, "Tokens per batch (default 4096)");
      sub->add_option("--scaling-factor", a->scaling_factor,
                      "Activation scaling factor for expected_average_only_in SAEs lacking one");
      sub->add_flag("--json", a->as_json, "Print the metrics as JSON");
      return [a] { return run_encode(*a); };
    });

}  // namespace
}  // namespace saescope::cli
