#include "core/model/lm_training.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "core/common/error.h"
#include "core/io/atomic_file.h"
#include "core/common/progress.h"
#include "core/model/gpt2/gpt2.h"
#include "core/model/lm_batches.h"
#include "core/model/lm_checkpoint.h"

namespace saescope::model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kStateFile = "training_state.safetensors";
constexpr const char* kInfoFile = "training.json";

int64_t warmup_of(const LmTrainOptions& o) {
  return o.warmup_steps >= 0 ? o.warmup_steps : std::max<int64_t>(1, o.steps / 20);
}
double min_lr_of(const LmTrainOptions& o) { return o.min_lr >= 0 ? o.min_lr : o.lr / 10; }

void check_options(const LmTrainOptions& o, const TokenStream& train) {
  const auto bad = [](const std::string& what) { throw InputError("train-lm: " + what); };
  if (o.out_dir.empty()) bad("an output folder is required");
  if (o.steps <= 0 || o.batch <= 0 || o.context <= 0)
    bad("steps, batch and context must be positive");
  if (o.context > o.config.n_positions)
    bad("context " + std::to_string(o.context) + " exceeds n_positions " +
        std::to_string(o.config.n_positions));
  if (o.config.d_model % o.config.n_head != 0)
    bad("width " + std::to_string(o.config.d_model) + " is not a multiple of heads " +
        std::to_string(o.config.n_head));
  if (!(o.lr > 0) || !std::isfinite(o.lr)) bad("the learning rate must be positive");
  for (int64_t id : {o.config.bos_token_id, o.config.eos_token_id})
    if (id < 0 || id >= o.config.vocab_size) bad("BOS/EOS id outside the vocabulary");
  int32_t largest = 0;
  for (int32_t id : train.ids) largest = std::max(largest, id);
  if (largest >= o.config.vocab_size)
    bad(train.source + ": token id " + std::to_string(largest) + " is outside the model's " +
        std::to_string(o.config.vocab_size) + "-token vocabulary");
}

// Everything that decides the weights: a resumed run must agree on all of it.
json trajectory_of(const LmTrainOptions& o) {
  const Gpt2Config& c = o.config;
  return {{"n_layer", c.n_layer},
          {"d_model", c.d_model},
          {"n_head", c.n_head},
          {"d_mlp", c.d_mlp},
          {"n_positions", c.n_positions},
          {"vocab_size", c.vocab_size},
          {"context", o.context},
          {"batch", o.batch},
          {"steps", o.steps},
          {"lr", o.lr},
          {"min_lr", min_lr_of(o)},
          {"warmup_steps", warmup_of(o)},
          {"max_grad_norm", o.max_grad_norm},
          {"beta1", o.adamw.beta1},
          {"beta2", o.adamw.beta2},
          {"eps", o.adamw.eps},
          {"weight_decay", o.adamw.weight_decay},
          {"seed", o.seed},
          {"data", o.data_id}};
}

void check_same_trajectory(const std::string& path, const json& saved, const json& now) {
  for (const auto& [key, value] : now.items())
    if (!saved.contains(key) || saved[key] != value)
      throw InputError(path + ": this training state was made with " + key + " = " +
                       (saved.contains(key) ? saved[key].dump() : std::string("(none)")) +
                       ", this run asks for " + value.dump() +
                       "; a resumed run must use the same settings and data");
}

void write_json_atomically(const std::string& path, const json& j) {
  const std::string text = j.dump(2) + "\n";
  io::AtomicFileWriter out(path);
  out.write(text.data(), text.size());
  out.commit();
}

}  // namespace

double lm_learning_rate(const LmTrainOptions& o, int64_t step) {
  const int64_t warmup = warmup_of(o);
  if (step < warmup) return o.lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  const double span = static_cast<double>(std::max<int64_t>(1, o.steps - warmup));
  const double progress = std::min(1.0, static_cast<double>(step - warmup) / span);
  const double lo = min_lr_of(o);
  return lo + 0.5 * (o.lr - lo) * (1.0 + std::cos(M_PI * progress));
}

double lm_loss(const Gpt2& model, const at::Tensor& windows, int64_t batch) {
  c10::InferenceMode inference;
  const int64_t n = windows.size(0), T = windows.size(1) - 1;
  double total = 0;
  for (int64_t b = 0; b < n; b += batch) {
    const at::Tensor w = windows.slice(0, b, std::min(n, b + batch));
    const at::Tensor logits = model.forward(w.slice(1, 0, T), {{"logits"}, {}}).hooks.at("logits");
    const at::Tensor loss = at::cross_entropy_loss(
        logits.reshape({-1, logits.size(-1)}),
        w.slice(1, 1, T + 1).reshape({-1}).to(logits.device()), {}, at::Reduction::Sum);
    total += loss.item<double>();
  }
  return total / static_cast<double>(n * T);
}

LmTrainResult train_lm(const TokenStream& train, const TokenStream& valid, const LmTrainOptions& o,
                       jobs::ProgressSink& progress, const LmLogFn& log) {
  check_options(o, train);
  const auto say = [&](const std::string& line) {
    if (log) log(line);
  };
  const fs::path out(o.out_dir);
  const std::string state_path = (out / kStateFile).string();
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw InputError(o.out_dir + ": cannot create the folder (" + ec.message() + ")");
  if (!o.resume && fs::exists(state_path))
    throw InputError(state_path +
                     ": a training state is already there; pass --resume to "
                     "continue it, or choose another output folder");

  // The model's weights are our parameters: Gpt2 keeps these very tensors
  // (same dtype and device, so its constructor converts nothing).
  Gpt2Weights init = random_gpt2_weights(o.config, o.seed);
  Gpt2 model(o.config, init);
  const auto named = hf_named_tensors(model.weights());
  std::vector<at::Tensor> params;
  std::vector<std::string> names;
  std::vector<bool> decay;
  for (const auto& [name, t] : named) {
    t.set_requires_grad(true);
    params.push_back(t);
    names.push_back(name);
    decay.push_back(t.dim() >= 2);
  }
  AdamW optimizer(params, decay, o.adamw);

  const json trajectory = trajectory_of(o);
  json history = json::array();
  LmTrainResult result;
  result.valid_loss = std::numeric_limits<double>::quiet_NaN();
  double earlier_elapsed = 0;  // runs before this one, up to their last checkpoint
  if (o.resume && fs::exists(state_path)) {
    const LmTrainingState state = load_training_state(state_path, names);
    check_same_trajectory(state_path, state.info.value("trajectory", json::object()), trajectory);
    at::NoGradGuard no_grad;
    for (size_t i = 0; i < params.size(); ++i) {
      if (!params[i].sizes().equals(state.params[i].second.sizes()))
        throw InputError(state_path + ": tensor 'param/" + names[i] + "' has the wrong shape");
      params[i].copy_(state.params[i].second);
    }
    optimizer.restore(state.first_moments, state.second_moments, state.step);
    result.resumed_from = state.step;
    history = state.info.value("history", json::array());
    earlier_elapsed = state.info.value("elapsed_s", 0.0);
    say("resumed at step " + std::to_string(state.step) + " of " + std::to_string(o.steps) +
        " from " + state_path);
  }
  if (!o.tokenizer_dir.empty()) copy_tokenizer_files(o.tokenizer_dir, o.out_dir);

  const at::Tensor valid_windows = spaced_windows(valid, o.valid_windows, o.context);
  const auto start = Clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  int64_t step = result.resumed_from;
  double loss_sum = 0;
  int64_t loss_count = 0;

  const auto checkpoint = [&] {
    const double total_elapsed = earlier_elapsed + elapsed();
    json info = {{"trajectory", trajectory},
                 {"step", step},
                 {"history", history},
                 {"elapsed_s", total_elapsed},
                 {"tokens_seen", step * o.batch * o.context},
                 {"finished", step >= o.steps},
                 {"extra", o.extra_info}};
    save_hf_gpt2(o.out_dir, o.config, model.weights(), o.save_dtype);
    LmTrainingState state{step, named, optimizer.first_moments(), optimizer.second_moments(), info};
    save_training_state(state_path, state);
    write_json_atomically((out / kInfoFile).string(), info);
    result.total_elapsed_s = total_elapsed;
  };

  const int64_t tokens_per_step = o.batch * o.context;
  const int64_t V = o.config.vocab_size;
  double slowest_step_s = 0;
  try {
    while (step < o.steps) {
      if (o.time_budget_s > 0 && elapsed() + 1.5 * slowest_step_s > o.time_budget_s) {
        result.stopped_because = "time budget";
        break;
      }
      const auto step_start = Clock::now();
      const double lr = lm_learning_rate(o, step);
      const at::Tensor windows = random_windows(train, o.batch, o.context, o.seed, step);
      for (auto& p : params) p.mutable_grad().reset();
      const at::Tensor logits =
          model.forward(windows.slice(1, 0, o.context), {{"logits"}, {}}).hooks.at("logits");
      const at::Tensor loss = at::cross_entropy_loss(
          logits.reshape({-1, V}), windows.slice(1, 1, o.context + 1).reshape({-1}));
      loss.backward();
      const double loss_value = loss.item<double>();
      if (!std::isfinite(loss_value))
        throw InternalError("train-lm: the loss is " + std::to_string(loss_value) + " at step " +
                            std::to_string(step + 1) + "; the last checkpoint in " + o.out_dir +
                            " is kept (try a lower --lr)");
      clip_grad_norm(params, o.max_grad_norm);
      optimizer.step(lr);
      ++step;
      loss_sum += loss_value;
      ++loss_count;
      slowest_step_s = std::max(slowest_step_s,
                                std::chrono::duration<double>(Clock::now() - step_start).count());

      const bool validate = step == o.steps || (o.valid_every > 0 && step % o.valid_every == 0);
      if (validate) {
        result.train_loss = loss_sum / static_cast<double>(loss_count);
        result.valid_loss = lm_loss(model, valid_windows, o.batch);
        history.push_back({{"step", step},
                           {"train_loss", result.train_loss},
                           {"valid_loss", result.valid_loss},
                           {"lr", lr},
                           {"elapsed_s", earlier_elapsed + elapsed()}});
        char line[200];
        std::snprintf(line, sizeof line,
                      "step %lld/%lld: train loss %.4f, valid loss %.4f, lr %.2e",
                      static_cast<long long>(step), static_cast<long long>(o.steps),
                      result.train_loss, result.valid_loss, lr);
        say(line);
        loss_sum = 0;
        loss_count = 0;
      }
      const bool pause = o.pause_at_step > 0 && step == o.pause_at_step;
      if (step == o.steps || pause || (o.checkpoint_every > 0 && step % o.checkpoint_every == 0))
        checkpoint();
      char detail[160];
      std::snprintf(detail, sizeof detail, "step %lld/%lld loss %.3f lr %.2e",
                    static_cast<long long>(step), static_cast<long long>(o.steps), loss_value, lr);
      progress.report({"train-lm", static_cast<double>(step * tokens_per_step),
                       static_cast<double>(o.steps * tokens_per_step), "tokens", detail});
      if (pause && step < o.steps) {
        result.stopped_because = "paused";
        break;
      }
    }
  } catch (const Cancelled&) {
    if (o.checkpoint_on_cancel) {
      checkpoint();
      say("cancelled: checkpoint at step " + std::to_string(step) + " in " + o.out_dir);
    }
    throw;
  }
  if (result.stopped_because == "time budget") checkpoint();
  if (step >= o.steps) result.stopped_because = "finished";
  result.finished = step >= o.steps;
  result.step = step;
  result.elapsed_s = elapsed();
  result.tokens_per_s =
      result.elapsed_s > 0
          ? static_cast<double>((step - result.resumed_from) * tokens_per_step) / result.elapsed_s
          : 0;
  result.weights = random_gpt2_weights(o.config, o.seed);  // same structure, then the values
  {
    at::NoGradGuard no_grad;
    const auto mine = hf_named_tensors(result.weights);
    for (size_t i = 0; i < mine.size(); ++i) mine[i].second.copy_(params[i]);
  }
  return result;
}

}  // namespace saescope::model
