// `saescope-cli train`: an SAE from a model folder, a hook and a corpus, in
// one command: activation cache (resumable: rerun after an interruption),
// training on all but the last windows, a SAELens folder, and an evaluation
// on the held-out windows. Ctrl-C commits the cache and stops.
#include <algorithm>
#include <csignal>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "app/cli/distributed_options.h"
#include "core/sae/arch/architecture.h"
#include "core/common/error.h"
#include "core/common/progress.h"
#include "core/workflows/sae_train_request.h"

namespace saescope::cli {
namespace {

struct TrainArgs {
  sae::SaeTrainRequest request;
  bool as_json = false;
  DistributedOptions dist;
  std::vector<std::string> sweep;  // one SAE each: this command's options, some replaced
  bool sae_per_rank = false;
};

jobs::CancelFlag* g_cancel = nullptr;
extern "C" void on_train_interrupt(int) {
  if (g_cancel) g_cancel->cancel();  // stops at the next batch
  std::signal(SIGINT, SIG_DFL);      // a second Ctrl-C ends it at once
}

std::string num(const nlohmann::json& j, const char* key) {
  return j.contains(key) && !j[key].is_null() ? j[key].dump() : std::string("n/a");
}

// A sweep member: `base` with the spec's options replaced, as in
// "out=saes/k16,k=16,arch=topk". InputError naming the spec otherwise.
sae::SaeTrainRequest sweep_member(const sae::SaeTrainRequest& base, const std::string& spec) {
  sae::SaeTrainRequest r = base;
  r.out.clear();
  size_t at = 0;
  while (at <= spec.size()) {
    const size_t comma = std::min(spec.find(',', at), spec.size());
    const std::string item = spec.substr(at, comma - at);
    at = comma + 1;
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      throw InputError("--sweep \"" + spec + "\": \"" + item + "\" is not key=value");
    const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    try {
      size_t used = 0;
      const auto whole = [&] { const long long v = std::stoll(value, &used); if (used != value.size()) throw std::invalid_argument(value); return v; };
      const auto real = [&] { const double v = std::stod(value, &used); if (used != value.size()) throw std::invalid_argument(value); return v; };
      if (key == "out") r.out = value;
      else if (key == "hook") r.hook = value;
      else if (key == "arch") r.architecture = value;
      else if (key == "k") r.k = whole();
      else if (key == "expansion") { r.expansion = real(); r.d_sae = 0; }
      else if (key == "d-sae") r.d_sae = whole();
      else if (key == "l1") r.l1 = real();
      else if (key == "l0-coefficient") r.l0 = real();
      else if (key == "lr") r.lr = real();
      else if (key == "seed") r.seed = static_cast<uint64_t>(whole());
      else if (key == "batch") r.batch = whole();
      else if (key == "tokens") r.tokens = whole();
      else
        throw InputError("--sweep \"" + spec + "\": unknown key \"" + key +
                         "\" (out, hook, arch, k, expansion, d-sae, l1, l0-coefficient, lr, seed, batch, tokens)");
    } catch (const std::logic_error&) {  // stoll / stod
      throw InputError("--sweep \"" + spec + "\": " + key + "=" + value + " is not a number");
    }
  }
  if (r.out.empty()) throw InputError("--sweep \"" + spec + "\": give each SAE its folder (out=...)");
  // Another architecture drops the command's sparsity knobs that are not its own (unless the spec gives them).
  if (r.architecture != base.architecture) {
    const sae::SparsityKnob knob = sae::parse_train_architecture(r.architecture).sparsity;
    const auto given = [&](const char* key) { return ("," + spec).find(std::string(",") + key + "=") != std::string::npos; };
    if (knob != sae::SparsityKnob::K && !given("k")) r.k = 0;
    if (knob != sae::SparsityKnob::L1 && !given("l1")) r.l1 = -1;
    if (knob != sae::SparsityKnob::L0 && !given("l0-coefficient")) r.l0 = -1;
  }
  return r;
}

int run_sweep(TrainArgs& a, jobs::CancelFlag& cancel) {
  std::vector<sae::SaeTrainRequest> requests;
  for (const std::string& spec : a.sweep) requests.push_back(sweep_member(a.request, spec));
  dist::ProcessGroup* group = join_ranks(a.dist);
  if (group && !a.sae_per_rank)
    throw InputError("train --sweep on several ranks: add --sae-per-rank (each SAE trains on one rank, on all the data)");
  const std::vector<nlohmann::json> outcomes = sae::train_sweep(
      requests, prints_results() ? jobs::stderr_progress_line() : jobs::ProgressSink::Callback(), &cancel, group);
  if (!prints_results()) return 0;
  for (const auto& o : outcomes)
    for (const auto& w : o["warnings"]) std::cerr << "saescope-cli: " << o["sae"].get<std::string>() << ": " << w.get<std::string>() << "\n";
  if (a.as_json) {
    std::cout << nlohmann::json(outcomes).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const nlohmann::json& o = outcomes[i];
    std::cout << requests[i].out << " (" << requests[i].architecture << " at " << requests[i].hook << ", d_sae "
              << o["d_sae"] << ", rank " << o["rank"] << "): held-out mse " << num(o, "mse") << ", l0 "
              << num(o, "l0") << ", explained variance " << num(o, "explained_variance") << "\n";
  }
  return 0;
}


int run_train(TrainArgs& a) {
  jobs::CancelFlag cancel;
  g_cancel = &cancel;
  std::signal(SIGINT, on_train_interrupt);
  if (!a.sweep.empty()) {
    const int code = run_sweep(a, cancel);
    std::signal(SIGINT, SIG_DFL);
    g_cancel = nullptr;
    return code;
  }
  if (a.sae_per_rank) throw InputError("train --sae-per-rank: give the SAEs to spread over the ranks (--sweep)");
  if (a.request.out.empty()) throw InputError("train: give the SAE folder to write (--out), or several with --sweep");
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
      sub->add_option("--out", r.out, "SAE folder to write (SAELens layout)")->check(non_empty_path());
      sub->add_option("--sweep", a->sweep,
                      "Train several SAEs of this model and corpus instead of one (repeatable): this command's "
                      "options with some replaced, e.g. out=saes/k16,k=16 (keys: out, hook, arch, k, expansion, "
                      "d-sae, l1, l0-coefficient, lr, seed, batch, tokens); each hook's cache is built once");
      sub->add_flag("--sae-per-rank", a->sae_per_rank,
                    "Distributed sweep: the ranks build the caches together, then SAE i trains on rank i mod N "
                    "(on all the data)");
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
