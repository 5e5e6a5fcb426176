// `saescope-cli train`: an SAE from a model folder, a hook and a corpus, in
// one command: activation cache (resumable: rerun after an interruption),
// training on all but the last windows, a SAELens folder, and an evaluation
// on the held-out windows. Ctrl-C commits the cache and stops.
#include <csignal>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "app/cli/distributed_options.h"
#include "core/sae/arch/architecture.h"
#include "core/common/progress.h"
#include "core/workflows/sae_train_request.h"

namespace saescope::cli {
namespace {

struct TrainArgs {
  sae::SaeTrainRequest request;
  bool as_json = false;
  DistributedOptions dist;
};

jobs::CancelFlag* g_cancel = nullptr;
extern "C" void on_train_interrupt(int) {
  if (g_cancel) g_cancel->cancel();  // stops at the next batch
  std::signal(SIGINT, SIG_DFL);      // a second Ctrl-C ends it at once
}

std::string num(const nlohmann::json& j, const char* key) {
  return j.contains(key) && !j[key].is_null() ? j[key].dump() : std::string("n/a");
}

int run_train(TrainArgs& a) {
  jobs::CancelFlag cancel;
  g_cancel = &cancel;
  std::signal(SIGINT, on_train_interrupt);
  // Data-parallel under torchrun / launch (sae_train_request.cpp); rank 0 prints.
  join_ranks(a.dist);
  const sae::SaeTrainOutcome o = sae::train_sae_from_corpus(
      a.request, prints_results() ? jobs::stderr_progress_line() : jobs::ProgressSink::Callback(), &cancel);
  std::signal(SIGINT, SIG_DFL);
  g_cancel = nullptr;
  if (!prints_results()) return 0;

  for (const auto& w : o.warnings) std::cerr << "saescope-cli: " << w << "\n";
  nlohmann::json j = o.to_json();
  j["sae"] = a.request.out;
  if (a.as_json) {
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  const nlohmann::json& e = o.evaluation;
  std::cout << "sae                 " << a.request.out << " (" << a.request.architecture << ", d_in " << o.d_in
            << ", d_sae " << o.d_sae
            << (a.request.hook_out.empty() ? std::string()
                                           : std::string(a.request.skip_connection ? ", skip transcoder to " : ", transcoder to ") +
                                                 a.request.hook_out)
            << ")\n"
            << "cache               " << o.cache_path << " ("
            << (o.cache_reused ? "reused" : o.cache_resumed_from_rows > 0 ? "continued" : "built") << ", "
            << o.cache_rows << " activations: " << o.train_rows << " train, " << o.holdout_rows
            << " held out)\n"
            << "training            "
            << (a.request.tokens == 0 && o.status == sae::TrainStatus::SourceExhausted
                    ? std::string("one pass over the training windows")
                    : j["status"].get<std::string>())
            << ": " << o.tokens << " tokens, "
            << o.steps << " steps in " << o.train_seconds << " s (" << j["tokens_per_s"].dump()
            << " tokens/s)\n"
            << "held-out mse        " << num(e, "mse") << "\n"
            << "held-out l0         " << num(e, "l0") << "\n"
            << "explained variance  " << num(e, "explained_variance") << "\n"
            << "dead fraction       " << num(e, "dead_fraction") << "\n";
  return 0;
}

const bool registered = register_command(
    "train", "Train an SAE on a hook over a corpus (cache, train, save, evaluate on held-out windows)",
    [](CLI::App* sub) {
      auto a = std::make_shared<TrainArgs>();
      auto& r = a->request;
      sub->add_option("--model", r.model_dir, "Hugging Face model folder")->check(non_empty_path())->required();
      sub->add_option("--hook", r.hook, "TransformerLens hook name, e.g. blocks.8.hook_resid_pre")->required();
      sub->add_option("--hook-out", r.hook_out,
                      "Train a transcoder: read --hook, reconstruct this hook (e.g. blocks.8.ln2.hook_normalized -> "
                      "blocks.8.hook_mlp_out)");
      sub->add_flag("--skip-connection", r.skip_connection, "A skip transcoder: also a linear path x·W_skipᵀ (with --hook-out)");
      sub->add_option("--corpus", r.corpus, "Corpus: .txt (a document per paragraph) or .jsonl (field `text`)")->check(non_empty_path())
          ->required();
      std::string arch_help = "Architecture:";
      for (const sae::ArchitectureSpec& s : sae::architectures())
        if (s.step) arch_help += std::string("\n  ") + s.name + ": " + s.summary + " (" + sae::sparsity_option(s.sparsity) + ")";
      sub->add_option("--arch", r.architecture, arch_help)->required();
      sub->add_option("--matryoshka-widths", r.matryoshka_widths,
                      "Inner level widths, increasing, each at least k (matryoshka_batchtopk; default d_sae/4, d_sae/2)")
          ->delimiter(',');
      sub->add_option("--out", r.out, "SAE folder to write (SAELens layout)")->check(non_empty_path())->required();
      sub->add_option("--expansion", r.expansion, "d_sae = R x d_in");
      sub->add_option("--d-sae", r.d_sae, "Number of features (instead of --expansion)");
      sub->add_option("--k", r.k, "Active features per token (topk; mean per token for batchtopk and matryoshka_batchtopk)");
      sub->add_option("--l1", r.l1, "L1 coefficient (standard and gated; default 1)");
      sub->add_option("--l0-coefficient", r.l0, "L0 coefficient (jumprelu; default 1, as SAELens)");
      sub->add_option("--jumprelu-bandwidth", r.jumprelu_bandwidth,
                      "Bandwidth of the threshold's straight-through estimator (jumprelu; default 0.05)");
      sub->add_option("--jumprelu-init-threshold", r.jumprelu_init_threshold,
                      "Initial threshold of every feature (jumprelu; default 0.01)");
      sub->add_option("--jumprelu-sparsity", r.jumprelu_sparsity,
                      "L0 penalty: step (count of active features) or tanh (Anthropic's "
                      "tanh(c * f * |W_dec|); jumprelu; default step, as SAELens)");
      sub->add_option("--jumprelu-tanh-scale", r.jumprelu_tanh_scale, "c of the tanh penalty (default 4)");
      sub->add_option("--pre-act-loss", r.pre_act_loss,
                      "Coefficient of the pre-act loss that pulls dead features' pre-activations up "
                      "to their threshold (jumprelu; default off)");
      sub->add_option("--lr", r.lr, "Adam learning rate (default 3e-4)");
      sub->add_option("--tokens", r.tokens, "Training tokens (default: one pass over the corpus)");
      sub->add_option("--batch", r.batch, "Tokens per step")->capture_default_str();
      sub->add_option("--context", r.context, "Tokens per window, BOS included")->capture_default_str();
      sub->add_option("--seed", r.seed, "Seed for initialisation and shuffling")->capture_default_str();
      sub->add_option("--device", r.device, "cpu, cuda or cuda:N")->capture_default_str();
      sub->add_option("--cache", r.cache, "Activation cache file (default: OUT.cache); reused when complete");
      sub->add_option("--holdout", r.holdout_fraction, "Fraction of windows held out for evaluation")
          ->capture_default_str();
      sub->add_option("--checkpoint-every", r.checkpoint_every,
                      "Save a checkpoint to --out every N tokens (default: every fifth of training; 0: none)");
      sub->add_option("--save-dtype", r.save_dtype,
                      "Stored weight dtype: float32, float16 or bfloat16 (training is float32)")
          ->capture_default_str();
      sub->add_flag("--center-writing-weights", r.center_writing_weights,
                    "Load the model as TransformerLens does by default (centred residual stream)");
      sub->add_flag("--json", a->as_json, "Print the summary as JSON");
      add_distributed_options(sub, a->dist);
      return [a] { return run_train(*a); };
    });

}  // namespace
}  // namespace saescope::cli
