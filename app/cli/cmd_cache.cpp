// `saescope-cli cache`: one hook's activations over a corpus into an
// activation cache file (core/sae/activation_cache.h), for training and
// evaluating many SAEs without rerunning the model. Rerun the same command
// after an interruption to continue; Ctrl-C commits what is done and stops.
#include <csignal>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "app/cli/distributed_options.h"
#include "core/common/progress.h"
#include "core/workflows/activation_cache_request.h"

namespace saescope::cli {
namespace {

struct CacheArgs {
  sae::CacheRequest request;
  bool as_json = false;
  DistributedOptions dist;
};

jobs::CancelFlag* g_cancel = nullptr;
extern "C" void on_cache_interrupt(int) {
  if (g_cancel) g_cancel->cancel();  // committed at the next batch, then stops
  std::signal(SIGINT, SIG_DFL);      // a second Ctrl-C ends it at once
}

int run_cache(CacheArgs& a) {
  jobs::CancelFlag cancel;
  g_cancel = &cancel;
  std::signal(SIGINT, on_cache_interrupt);
  // Distributed (torchrun / launch): a shard per rank, then a manifest;
  // rank 0 reports (its own shard's rows written).
  dist::ProcessGroup* group = join_ranks(a.dist);
  jobs::ProgressSink progress(prints_results() ? jobs::stderr_progress_line() : jobs::ProgressSink::Callback(),
                              &cancel);
  const sae::CacheOutcome out = sae::build_activation_cache(a.request, progress, group);
  std::signal(SIGINT, SIG_DFL);
  g_cancel = nullptr;
  if (!prints_results()) return 0;

  if (!out.corpus_problems.empty()) std::cerr << "saescope-cli: warning: " << out.corpus_problems << "\n";
  const sae::ActivationCacheHeader& h = out.header;
  const double rate = out.fill.seconds > 0 ? static_cast<double>(out.fill.rows) / out.fill.seconds : 0;
  if (a.as_json) {
    nlohmann::json j = {{"cache", a.request.out},
                        {"header", h.to_json()},
                        {"already_complete", out.already_complete},
                        {"resumed_from_windows", out.resumed_from.windows},
                        {"resumed_from_tokens", out.resumed_from.rows},
                        {"windows_written", out.fill.windows},
                        {"tokens_written", out.fill.rows},
                        {"seconds", out.fill.seconds},
                        {"tokens_per_s", rate},
                        {"shards", group ? group->size() : 1}};
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  std::cout << a.request.out << ": " << h.tokens << " activations x " << h.d_in << " (" << h.dtype
            << ") at " << h.hook << " from " << h.windows << " windows of " << h.context << " tokens, BOS "
            << (h.include_bos ? "included" : "excluded") << ", center_writing_weights "
            << (h.center_writing_weights ? "on" : "off") << "\n";
  if (out.already_complete) {
    std::cout << "already complete: nothing to do\n";
    return 0;
  }
  if (out.resumed_from.windows > 0)
    std::cout << "continued from window " << out.resumed_from.windows << " (" << out.resumed_from.rows
              << " activations already there)\n";
  std::cout << out.fill.rows << " activations written in " << out.fill.seconds << " s (" << rate
            << " tokens/s)" << (group ? " by rank 0" : "") << "\n";
  if (group)
    std::cout << group->size() << " shards (" << a.request.out << ".shard-R-of-" << group->size()
              << ") and their manifest " << a.request.out << ": read as one cache\n";
  return 0;
}

const bool registered = register_command(
    "cache", "Cache one hook's activations over a corpus (resumable: rerun to continue)",
    [](CLI::App* sub) {
      auto a = std::make_shared<CacheArgs>();
      auto& r = a->request;
      sub->add_option("--model", r.model_dir, "Hugging Face model folder")->check(non_empty_path())->required();
      sub->add_option("--hook", r.hook, "TransformerLens hook name, e.g. blocks.8.hook_resid_pre")->required();
      sub->add_option("--corpus", r.corpus, "Corpus: .txt (a document per paragraph) or .jsonl (field `text`)")->check(non_empty_path())->required();
      sub->add_option("--out", r.out, "Cache file to write or continue")->check(non_empty_path())->required();
      sub->add_option("--tokens", r.max_tokens, "At most N window tokens, BOS counted (default: the whole corpus)");
      sub->add_option("--context", r.context, "Tokens per window, BOS included")->capture_default_str();
      sub->add_option("--dtype", r.dtype, "Storage type: float16 or bfloat16")->capture_default_str();
      sub->add_flag("--center-writing-weights", r.center_writing_weights,
                    "Load the model as TransformerLens does by default (centred residual stream)");
      sub->add_flag("--include-bos", r.include_bos,
                    "Keep each window's BOS position (SAELens training's default; excluded by default)");
      sub->add_option("--device", r.device, "cpu, cuda or cuda:N")->capture_default_str();
      sub->add_option("--tokenizer", r.tokenizer_dir, "Tokenizer folder (default: --model)");
      sub->add_option("--batch", r.fill.batch_windows,
                      "Windows per forward pass (continue with the same value: rows are bit-identical to an "
                      "uninterrupted run only for the same batching)")->capture_default_str();
      sub->add_option("--commit-every", r.fill.commit_every,
                      "Commit (sync + record progress) every N batches (default: every 30 s)");
      sub->add_flag("--json", a->as_json, "Print the outcome as JSON");
      add_distributed_options(sub, a->dist);
      return [a] { return run_cache(*a); };
    });

}  // namespace
}  // namespace saescope::cli
