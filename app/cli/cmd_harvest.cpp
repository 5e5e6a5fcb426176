// `saescope-cli harvest`: feature dashboards' data for one or more SAEs over
// a corpus, into a workspace. Resumes a killed or cancelled run (Ctrl-C
// commits and stops); an identical finished request is reused.
#include <csignal>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "app/cli/distributed_options.h"
#include "core/workflows/harvest_request.h"
#include "core/analysis/process_memory.h"
#include "core/common/progress.h"
#include "core/store/workspace.h"

namespace saescope::cli {
namespace {

struct HarvestArgs {
  std::string workspace;
  analysis::HarvestRequest request;
  bool as_json = false;
  bool no_spill = false;
  std::string spill = "auto";
  DistributedOptions dist;
};

jobs::CancelFlag* g_cancel = nullptr;
extern "C" void on_interrupt(int) {
  if (g_cancel) g_cancel->cancel();  // the harvest commits at its next batch, then stops
  std::signal(SIGINT, SIG_DFL);      // a second Ctrl-C ends it at once
}

int run_harvest_command(HarvestArgs& a) {
  a.request.options.spill = !a.no_spill;
  a.request.options.spill_kind = a.spill == "features"      ? analysis::SpillKind::Features
                                 : a.spill == "activations" ? analysis::SpillKind::Activations
                                                            : analysis::SpillKind::Auto;
  // Distributed (torchrun / launch): batches split across ranks, statistics
  // merged; rank 0 alone keeps the workspace and prints.
  dist::ProcessGroup* group = join_ranks(a.dist);
  std::unique_ptr<store::Workspace> ws;
  if (prints_results()) ws = store::Workspace::open(a.workspace);
  jobs::CancelFlag cancel;
  g_cancel = &cancel;
  std::signal(SIGINT, on_interrupt);
  jobs::ProgressSink progress(prints_results() ? jobs::stderr_progress_line() : jobs::ProgressSink::Callback(),
                              &cancel);
  const analysis::HarvestOutcome out = analysis::run_harvest(ws.get(), a.workspace, a.request, progress, group);
  std::signal(SIGINT, SIG_DFL);
  g_cancel = nullptr;
  if (!prints_results()) return 0;

  if (!out.corpus_problems.empty()) std::cerr << "saescope-cli: warning: " << out.corpus_problems << "\n";
  for (const auto& n : out.report.notes) std::cerr << "saescope-cli: " << n << "\n";
  const int64_t peak = analysis::peak_rss_bytes();
  if (a.as_json) {
    nlohmann::json saes = nlohmann::json::array();
    for (const auto& s : out.saes)
      saes.push_back({{"sae", s.sae_dir}, {"hook", s.hook}, {"sae_id", s.sae_id},
                      {"result_id", s.result_id}, {"key", s.key}, {"reused", s.reused}});
    nlohmann::json j = {{"workspace", ws->path()}, {"saes", saes}, {"ran", out.ran},
                        {"windows", out.report.windows}, {"tokens", out.report.tokens},
                        {"notes", out.report.notes}, {"peak_rss_bytes", peak}};
    if (group)
      j["distributed"] = {{"ranks", group->size()},
                          {"sent_bytes_by_pass", {out.report.sent_bytes[0], out.report.sent_bytes[1], out.report.sent_bytes[2]}}};
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  for (const auto& s : out.saes)
    std::cout << "harvest " << s.result_id << (s.reused ? " (already done)" : "") << ": " << s.sae_dir
              << " at " << s.hook << "\n";
  std::cout << "in " << ws->path() << " (read with `saescope-cli features --workspace " << ws->path()
            << " --sae ID`)\n";
  if (out.ran)
    std::cout << out.report.tokens << " tokens in " << out.report.windows << " windows; passes "
              << out.report.pass_seconds[0] << " s, " << out.report.pass_seconds[1] << " s, "
              << out.report.pass_seconds[2] << " s (logit effects " << out.report.logit_seconds
              << " s)\n";
  if (out.ran && group)
    std::cout << group->size() << " ranks; rank 0 sent " << out.report.sent_bytes[0] / 1e6 << " MB in pass 1, "
              << out.report.sent_bytes[1] / 1e6 << " MB in pass 2, " << out.report.sent_bytes[2] / 1e6
              << " MB in pass 3\n";
  std::cout << "peak memory " << peak / (1024 * 1024) << " MiB\n";
  return 0;
}

const bool registered = register_command(
    "harvest", "Harvest feature dashboards (top examples, histograms, logit effects) into a workspace",
    [](CLI::App* sub) {
      auto a = std::make_shared<HarvestArgs>();
      auto& r = a->request;
      sub->add_option("--workspace", a->workspace, "Workspace file (.saescope), created if absent")->check(non_empty_path())->required();
      sub->add_option("--model", r.model_dir, "Hugging Face model folder")->check(non_empty_path())->required();
      sub->add_option("--sae", r.sae_dirs, "SAE: a folder or .npz / .pt file in any layout sae-info reads (repeatable: one forward pass serves all)")->check(non_empty_path())->required();
      sub->add_option("--corpus", r.corpus, "Corpus: .txt (a document per paragraph) or .jsonl (field `text`)")->check(non_empty_path())->required();
      sub->add_option("--tokens", r.max_tokens, "Harvest at most N tokens (default: the whole corpus)");
      sub->add_option("--top-k", r.options.top_k, "Top-activating windows per feature")->capture_default_str();
      sub->add_option("--context", r.context, "Tokens per window, BOS included")->capture_default_str();
      sub->add_option("--device", r.device, "cpu, cuda or cuda:N")->capture_default_str();
      sub->add_option("--tokenizer", r.tokenizer_dir, "Tokenizer folder (default: --model)");
      sub->add_option("--batch", r.options.batch_windows, "Windows per forward pass")->capture_default_str();
      sub->add_option("--commit-every", r.options.commit_every,
                      "Commit resume state every N batches (default: every 60 s)");
      sub->add_option("--seed", r.options.seed, "Seed of the interval sampling")->capture_default_str();
      sub->add_flag("--no-spill", a->no_spill,
                    "Keep nothing on disk between passes (passes 2 and 3 rerun the model)");
      sub->add_option("--spill", a->spill,
                      "What pass 1 keeps for passes 2-3: features (sparse, ~8 bytes per non-zero), "
                      "activations (4 bytes x d_in per token; the SAE runs again), or auto "
                      "(features when L0 <= d_in)")
          ->check(CLI::IsMember({"auto", "features", "activations"}))
          ->capture_default_str();
      sub->add_flag("--json", a->as_json, "Print the result ids as JSON");
      add_distributed_options(sub, a->dist);
      return [a] { return run_harvest_command(*a); };
    });

}  // namespace
}  // namespace saescope::cli
