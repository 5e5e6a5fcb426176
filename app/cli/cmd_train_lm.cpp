// `saescope-cli train-lm`: trains a small GPT-2-architecture model from
// scratch on a JSONL corpus and saves it as a Hugging Face GPT-2 folder.
// Resumable (--resume), stops cleanly on Ctrl-C / SIGTERM after a checkpoint.
#include <ATen/Parallel.h>

#include <csignal>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "core/common/error.h"
#include "core/common/sha256.h"
#include "core/common/progress.h"
#include "core/model/lm_batches.h"
#include "core/model/lm_training.h"
#include "core/model/model_options.h"
#include "core/tokenizer/bpe_tokenizer.h"

namespace saescope::cli {
namespace {

struct TrainLmArgs {
  std::string corpus, valid, tokenizer_dir;
  int64_t layers = 4, width = 256, heads = 4;
  double valid_fraction = 0.01;
  double time_budget_minutes = 0;
  std::string save_dtype = "float16";
  bool count_tokens = false, as_json = false;
  model::LmTrainOptions options;
};

jobs::CancelFlag* g_cancel = nullptr;
extern "C" void on_stop_signal(int) {
  if (g_cancel) g_cancel->cancel();  // checkpoint after the current step, then stop
  std::signal(SIGINT, SIG_DFL);      // a second Ctrl-C ends it at once
}

int threads() { return std::max(1, at::get_num_threads()); }

int run_count_tokens(const TrainLmArgs& a, const tokenizer::BpeTokenizer& tok) {
  const model::TokenStream s = model::tokenize_corpus(a.corpus, tok, threads());
  nlohmann::json j = {{"file", a.corpus},
                      {"documents", s.documents},
                      {"tokens", static_cast<int64_t>(s.ids.size())}};
  std::cout << j.dump(2) << "\n";
  return 0;
}

// The last `fraction` of the stream, from the start of the document it begins in.
model::TokenStream hold_out_tail(model::TokenStream& train, double fraction, int32_t eot) {
  if (!(fraction > 0 && fraction < 1))
    throw InputError("train-lm: --valid-fraction must be in (0, 1)");
  size_t cut =
      train.ids.size() - static_cast<size_t>(static_cast<double>(train.ids.size()) * fraction);
  while (cut > 0 && train.ids[cut - 1] != eot) --cut;
  model::TokenStream valid;
  valid.source = train.source + " (its held-out tail)";
  valid.ids.assign(train.ids.begin() + static_cast<std::ptrdiff_t>(cut), train.ids.end());
  train.ids.resize(cut);
  return valid;
}

int run_train_lm(TrainLmArgs& a) {
  const tokenizer::BpeTokenizer tok = tokenizer::load_tokenizer(a.tokenizer_dir);
  if (a.count_tokens) return run_count_tokens(a, tok);
  if (a.options.out_dir.empty()) throw InputError("train-lm: --out is required");

  model::LmTrainOptions& o = a.options;
  o.config.n_layer = a.layers;
  o.config.d_model = a.width;
  o.config.n_head = a.heads;
  if (a.heads <= 0 || a.width % a.heads != 0)
    throw InputError("train-lm: --width " + std::to_string(a.width) +
                     " must be a positive multiple of --heads " + std::to_string(a.heads));
  o.config.d_head = a.width / a.heads;
  o.config.d_mlp = 4 * a.width;
  o.config.n_positions = o.context;
  o.config.vocab_size = tok.vocab_size();
  o.config.bos_token_id = o.config.eos_token_id = tok.eot_id();
  o.config.activation = model::Activation::GeluTanh;
  o.tokenizer_dir = a.tokenizer_dir;
  o.time_budget_s = a.time_budget_minutes * 60;
  if (a.save_dtype == "float16")
    o.save_dtype = at::kHalf;
  else if (a.save_dtype == "float32")
    o.save_dtype = at::kFloat;
  else if (a.save_dtype == "bfloat16")
    o.save_dtype = at::kBFloat16;
  else
    throw InputError("train-lm: --save-dtype must be float16, float32 or bfloat16");

  std::cerr << "saescope-cli: tokenizing " << a.corpus << "\n";
  model::TokenStream train = model::tokenize_corpus(a.corpus, tok, threads());
  model::TokenStream valid = a.valid.empty() ? hold_out_tail(train, a.valid_fraction, tok.eot_id())
                                             : model::tokenize_corpus(a.valid, tok, threads());
  std::cerr << "saescope-cli: " << train.ids.size() << " training tokens (" << train.documents
            << " documents), " << valid.ids.size() << " validation tokens\n";
  o.data_id = "train " + sha256_file(a.corpus) +
              (a.valid.empty() ? ", valid: its last " + std::to_string(a.valid_fraction)
                               : ", valid " + sha256_file(a.valid));
  o.extra_info = {{"corpus", a.corpus},
                  {"valid", a.valid},
                  {"tokenizer", a.tokenizer_dir},
                  {"train_tokens", train.ids.size()},
                  {"valid_tokens", valid.ids.size()},
                  {"threads", threads()},
                  {"saescope", SAESCOPE_VERSION}};

  jobs::CancelFlag cancel;
  g_cancel = &cancel;
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  jobs::ProgressSink progress(jobs::stderr_progress_line(), &cancel);
  const model::LmTrainResult r = model::train_lm(
      train, valid, o, progress,
      [](const std::string& line) { std::cerr << "saescope-cli: " << line << "\n"; });
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  g_cancel = nullptr;

  if (a.as_json) {
    nlohmann::json j = {{"out", o.out_dir},
                        {"step", r.step},
                        {"steps", o.steps},
                        {"resumed_from", r.resumed_from},
                        {"finished", r.finished},
                        {"stopped_because", r.stopped_because},
                        {"train_loss", r.train_loss},
                        {"valid_loss", std::isnan(r.valid_loss) ? nlohmann::json(nullptr)
                                                                : nlohmann::json(r.valid_loss)},
                        {"elapsed_s", r.elapsed_s},
                        {"total_elapsed_s", r.total_elapsed_s},
                        {"tokens_per_s", r.tokens_per_s}};
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << (r.finished ? "finished" : "stopped (" + r.stopped_because + ")") << " at step "
            << r.step << " of " << o.steps << " in " << jobs::format_duration(r.elapsed_s) << " ("
            << static_cast<int64_t>(r.tokens_per_s) << " tokens/s); model in " << o.out_dir << "\n";
  if (!r.finished) std::cout << "continue with the same command and --resume\n";
  return 0;
}

const bool registered = register_command(
    "train-lm", "Train a small GPT-2-architecture model from scratch (Hugging Face folder out)",
    [](CLI::App* sub) {
      auto a = std::make_shared<TrainLmArgs>();
      auto& o = a->options;
      sub->add_option("--corpus", a->corpus, "Training corpus: JSONL, one {\"text\": ...} per line")->check(non_empty_path())
          ->required();
      sub->add_option("--tokenizer", a->tokenizer_dir,
                      "Tokenizer folder (vocab.json + merges.txt, or tokenizer.json)")
          ->required();
      sub->add_option("--valid", a->valid,
                      "Validation corpus (JSONL); default: the training "
                      "stream's last --valid-fraction");
      sub->add_option("--valid-fraction", a->valid_fraction)->capture_default_str();
      sub->add_option("--out", o.out_dir, "Output folder (Hugging Face GPT-2 layout)")->check(non_empty_path());
      sub->add_option("--layers", a->layers)->capture_default_str();
      sub->add_option("--width", a->width, "d_model")->capture_default_str();
      sub->add_option("--heads", a->heads)->capture_default_str();
      sub->add_option("--context", o.context, "Tokens per window (= n_positions)")
          ->capture_default_str();
      sub->add_option("--steps", o.steps)->capture_default_str();
      sub->add_option("--batch", o.batch, "Windows per step")->capture_default_str();
      sub->add_option("--lr", o.lr, "Peak learning rate")->capture_default_str();
      sub->add_option("--min-lr", o.min_lr, "End of the cosine decay (default lr/10)");
      sub->add_option("--warmup-steps", o.warmup_steps, "Linear warm-up (default steps/20)");
      sub->add_option("--weight-decay", o.adamw.weight_decay)->capture_default_str();
      sub->add_option("--clip", o.max_grad_norm, "Gradient-norm clipping (0: none)")
          ->capture_default_str();
      sub->add_option("--seed", o.seed)->capture_default_str();
      sub->add_option("--checkpoint-every", o.checkpoint_every, "Steps")->capture_default_str();
      sub->add_option("--valid-every", o.valid_every, "Steps")->capture_default_str();
      sub->add_option("--valid-windows", o.valid_windows)->capture_default_str();
      sub->add_option("--save-dtype", a->save_dtype,
                      "model.safetensors dtype: float16, float32, "
                      "bfloat16")
          ->capture_default_str();
      sub->add_flag("--resume", o.resume, "Continue from the output folder's training state");
      sub->add_option("--pause-at-step", o.pause_at_step, "Checkpoint and stop after this step");
      sub->add_option("--time-budget-minutes", a->time_budget_minutes,
                      "Checkpoint and stop before this run takes longer");
      sub->add_flag("--count-tokens", a->count_tokens,
                    "Only tokenize --corpus and print its document and token counts (JSON)");
      sub->add_flag("--json", a->as_json, "Print the result as JSON");
      return [a] { return run_train_lm(*a); };
    });

}  // namespace
}  // namespace saescope::cli
