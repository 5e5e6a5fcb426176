// `saescope-cli sae-eval`: how well an SAE reconstructs its hook and how
// much of the model's loss survives splicing it in (MSE, L0, explained
// variance, CE loss clean / SAE / zero-ablated and recovered, feature
// density). Over a corpus (with CE), or over the held-out tail of an
// activation cache (activation metrics only). --workspace keeps the result.
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "app/cli/distributed_options.h"
#include "core/common/error.h"
#include "core/common/progress.h"
#include "core/workflows/sae_evaluation_request.h"
#include "core/store/workspace.h"

namespace saescope::cli {
namespace {

struct SaeEvalArgs {
  sae::SaeEvalRequest request;
  std::string cache, workspace;
  double holdout = 1.0;
  bool no_ce = false;
  bool as_json = false;
  DistributedOptions dist;
};

void print_table(const nlohmann::json& m) {
  const auto num = [&](const char* k) {
    return m[k].is_null() ? std::string("n/a") : m[k].dump();
  };
  std::cout << "tokens                " << num("tokens") << " (" << m["positions"].get<std::string>() << ")\n"
            << "mse                   " << num("mse") << "  (squared error summed over d_in, mean over tokens)\n"
            << "l0                    " << num("l0") << "\n"
            << "explained variance    " << num("explained_variance") << "  ("
            << m["explained_variance_formula"].get<std::string>() << ")\n"
            << "ce loss clean         " << num("ce_loss_clean") << "\n"
            << "ce loss with sae      " << num("ce_loss_sae") << "\n"
            << "ce loss zero-ablated  " << num("ce_loss_zero") << "\n"
            << "ce loss recovered     " << num("ce_loss_recovered") << "  ("
            << m["ce_loss_recovered_formula"].get<std::string>() << ")\n"
            << "dead fraction         " << num("dead_fraction") << "\n"
            << "dense fraction        " << num("dense_fraction") << "  (density > " << num("dense_threshold")
            << ")\n";
}

int run_sae_eval_command(SaeEvalArgs& a) {
  if (a.cache.empty() == a.request.corpus.empty())
    throw InputError("sae-eval: give either --corpus (with --model) or --cache");
  a.request.options.ce_loss = !a.no_ce;
  // Distributed (torchrun / launch): windows split across ranks, sums merged;
  // rank 0 alone keeps the workspace and prints.
  const dist::ProcessGroup* group = join_ranks(a.dist);
  if (group && !a.cache.empty()) throw InputError("sae-eval --cache runs in one process: start it without launch / torchrun");
  sae::SaeEvalOutcome out;
  std::unique_ptr<store::Workspace> ws;
  if (!a.cache.empty()) {
    if (!a.workspace.empty()) throw InputError("sae-eval: --workspace keeps corpus evaluations only, not --cache ones");
    out = sae::run_sae_eval_on_cache(a.request.sae_dir, a.cache, a.holdout, a.request.max_tokens, a.request.options);
  } else {
    if (a.request.model_dir.empty()) throw InputError("sae-eval: --corpus needs --model");
    if (!a.workspace.empty() && prints_results()) ws = store::Workspace::open(a.workspace);
    jobs::ProgressSink progress(prints_results() ? jobs::stderr_progress_line() : jobs::ProgressSink::Callback());
    out = sae::run_sae_eval(a.request, ws.get(), progress);
  }
  if (!prints_results()) return 0;
  for (const auto& w : out.warnings) std::cerr << "saescope-cli: " << w << "\n";
  nlohmann::json j = out.metrics;
  if (ws) {
    j["workspace"] = ws->path();
    j["result_id"] = out.result_id;
    j["reused"] = out.reused;
  }
  if (a.as_json) {
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  print_table(j);
  if (ws)
    std::cout << (out.reused ? "stored result " : "stored as result ") << out.result_id << " in "
              << ws->path() << "\n";
  return 0;
}

const bool registered = register_command(
    "sae-eval", "Evaluate an SAE: MSE, L0, explained variance, CE loss recovered, feature density",
    [](CLI::App* sub) {
      auto a = std::make_shared<SaeEvalArgs>();
      auto& r = a->request;
      sub->add_option("--sae", r.sae_dir, "SAE: a folder or .npz / .pt file in any layout sae-info reads")->check(non_empty_path())->required();
      sub->add_option("--model", r.model_dir, "Hugging Face model folder (with --corpus)")->check(non_empty_path());
      sub->add_option("--corpus", r.corpus, "Corpus: .txt (a document per paragraph) or .jsonl (field `text`)")->check(non_empty_path());
      sub->add_option("--cache", a->cache, "Activation cache (saescope-cli cache) instead of a corpus: no CE loss");
      sub->add_option("--holdout", a->holdout,
                      "With --cache: evaluate the last fraction of its windows (1: all)")->capture_default_str();
      sub->add_option("--tokens", r.max_tokens,
                      "At most N window tokens, BOS counted (with --cache: N activations)");
      sub->add_option("--context", r.context, "Tokens per window, BOS included")->capture_default_str();
      sub->add_flag("--include-bos", r.options.include_bos, "Evaluate (and replace) BOS positions too");
      sub->add_flag("--no-ce", a->no_ce, "Skip the CE losses (one pass up to the hook)");
      sub->add_option("--batch", r.options.batch_windows, "Windows per forward pass")->capture_default_str();
      sub->add_option("--device", r.device, "cpu, cuda or cuda:N")->capture_default_str();
      sub->add_option("--tokenizer", r.tokenizer_dir, "Tokenizer folder (default: --model)");
      sub->add_option("--workspace", a->workspace, "Workspace file (.saescope) to keep the result in")->check(non_empty_path());
      sub->add_flag("--json", a->as_json, "Print the metrics as JSON");
      add_distributed_options(sub, a->dist);
      return [a] { return run_sae_eval_command(*a); };
    });

}  // namespace
}  // namespace saescope::cli
