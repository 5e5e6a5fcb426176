#include "core/sae/sae_trainer.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <cmath>
#include <vector>

#include "core/common/error.h"
#include "core/distributed/process_group.h"
#include "core/sae/activation_source.h"
#include "core/sae/adam.h"
#include "core/sae/arch/architecture.h"
#include "core/sae/geometric_median.h"
#include "core/sae/sae_folder.h"

namespace saescope::sae {
namespace {

void validate(const TrainOptions& o, int64_t width) {  // width: the source's columns
  const ArchitectureSpec& arch = architecture_spec(o.architecture);
  auto bad = [](const std::string& what) { throw InputError("SAE training: " + what); };
  if (width <= 0) bad("the activation source has no dimensions");
  if (o.d_sae <= 0) bad("d_sae must be positive");
  if (o.batch_size <= 0) bad("batch size must be positive");
  if (o.total_tokens <= 0) bad("total tokens must be positive");
  if (!(o.lr > 0)) bad("learning rate must be positive");
  if (!arch.step) bad(std::string(arch.name) + " SAEs are not trained here (" + architecture_names(true) + " are)");
  if (arch.sparsity == SparsityKnob::K && (o.k <= 0 || o.k > o.d_sae)) bad("k must be in 1..d_sae");
  if (arch.sparsity == SparsityKnob::L1 && !(o.l1_coefficient >= 0)) bad("the L1 coefficient must not be negative");
  if (o.architecture == Architecture::MatryoshkaBatchTopK) {
    int64_t prev = 0;
    for (int64_t w : o.matryoshka_widths) {
      if (w <= prev) bad("matryoshka widths must be positive and strictly increasing");
      prev = w;
    }
    if (prev > o.d_sae) bad("matryoshka widths must not exceed d_sae");
    if (!o.matryoshka_widths.empty() && o.matryoshka_widths.front() < o.k)
      bad("the smallest matryoshka width must be at least k");
  }
  if (arch.sparsity == SparsityKnob::L0) {
    if (!(o.l0_coefficient >= 0)) bad("the L0 coefficient must not be negative");
    if (!(o.jumprelu_bandwidth > 0) || !std::isfinite(o.jumprelu_bandwidth))
      bad("the JumpReLU bandwidth must be positive");
    if (!(o.jumprelu_init_threshold > 0) || !std::isfinite(o.jumprelu_init_threshold))
      bad("the JumpReLU initial threshold must be positive");
    if (!(o.jumprelu_tanh_scale > 0) || !std::isfinite(o.jumprelu_tanh_scale))
      bad("the JumpReLU tanh scale must be positive");
    if (!(o.pre_act_loss_coefficient >= 0) || !std::isfinite(o.pre_act_loss_coefficient))
      bad("the pre-act loss coefficient must not be negative");
  }
  if (o.dead_feature_window <= 0 || o.feature_sampling_window <= 0)
    bad("dead-feature and sampling windows must be positive");
  if (o.normalize_activations != Normalization::None &&
      o.normalize_activations != Normalization::ExpectedAverageOnlyIn)
    bad("training supports normalize_activations none or expected_average_only_in");
  if (o.d_out < 0 || (o.skip_connection && o.d_out == 0)) bad("a skip connection is for transcoders (d_out)");
  if (o.d_out > 0) {
    if (width <= o.d_out) bad("the source serves " + std::to_string(width) + " columns, fewer than a transcoder's input and its d_out " + std::to_string(o.d_out));
    if (arch.id == Architecture::Gated) bad("gated transcoders are not trained here");
    if (o.normalize_activations != Normalization::None) bad("transcoders train on activations as they are (normalize_activations none)");
    if (o.apply_b_dec_to_input) bad("a transcoder's b_dec is in the output space: apply_b_dec_to_input must be false");
  }
  if (o.checkpoint_every_tokens > 0 && o.checkpoint_dir.empty())
    bad("checkpoints need a checkpoint folder");
}

// Matryoshka's levels: the widths asked for, with d_sae last (as SAELens adds it).
std::vector<int64_t> matryoshka_levels(const TrainOptions& o) {
  if (o.architecture != Architecture::MatryoshkaBatchTopK) return {};
  std::vector<int64_t> w = o.matryoshka_widths;
  if (w.empty() || w.back() != o.d_sae) w.push_back(o.d_sae);
  return w;
}

at::Device parse_device(const TrainOptions& o) {
  at::Device dev(at::kCPU);
  try {
    dev = at::Device(o.device);
  } catch (const std::exception&) {
    throw InputError("SAE training: unknown device '" + o.device + "'");
  }
  if (dev.is_cuda() && !at::hasCUDA())
    throw InputError("SAE training: device '" + o.device +
                     "' asked for, but CUDA is not available");
  if (o.autocast_bf16 && !dev.is_cuda())
    throw InputError("SAE training: bf16 autocast is for CUDA devices only");
  return dev;
}

double lr_at(const TrainOptions& o, int64_t step, int64_t total_steps) {
  double lr = o.lr;
  if (o.lr_warm_up_steps > 0 && step < o.lr_warm_up_steps)
    lr = o.lr * static_cast<double>(step + 1) / static_cast<double>(o.lr_warm_up_steps);
  const int64_t decay_start = total_steps - o.lr_decay_steps;
  if (o.lr_decay_steps > 0 && step >= decay_start) {
    const double end = o.lr_end < 0 ? o.lr / 10 : o.lr_end;
    const double frac = std::min(
        1.0, static_cast<double>(step - decay_start + 1) / static_cast<double>(o.lr_decay_steps));
    lr = o.lr + (end - o.lr) * frac;
  }
  return lr;
}

// The sparsity coefficient at a step (L0 for jumprelu, L1 otherwise), after
// its linear warm-up from 0.
double sparsity_at(const TrainOptions& o, int64_t step) {
  const double full =
      architecture_spec(o.architecture).sparsity == SparsityKnob::L0 ? o.l0_coefficient : o.l1_coefficient;
  if (o.l1_warm_up_steps > 0 && step < o.l1_warm_up_steps)
    return full * static_cast<double>(step) / static_cast<double>(o.l1_warm_up_steps);
  return full;
}

at::Tensor checked_batch(ActivationSource& source, int64_t n, int64_t d_in) {
  at::Tensor x = source.next_batch(n);
  if (!x.defined()) return x;
  if (x.dim() != 2 || x.size(1) != d_in)
    throw InputError("SAE training: the activation source gave a batch that is not [n, " +
                     std::to_string(d_in) + "]");
  return x;
}

// Everything the loop carries besides the parameters.
struct State {
  SaeWeights p;
  double scale = 1.0;      // expected-average input factor
  double threshold = 0.0;  // batch top-k's running threshold
  at::Tensor since_fired;  // [d_sae] steps since each feature last fired
  at::Tensor fired;        // [d_sae] firings in the current sampling window
  int64_t window_tokens = 0, window_steps = 0;
};

// The SAE as it will be saved: inference architecture, input scale folded in.
Sae to_sae(const State& st, const TrainOptions& o, int64_t d_in) {
  SaeConfig cfg;
  cfg.d_in = d_in;
  cfg.d_sae = o.d_sae;
  if (o.d_out > 0) {
    cfg.transcoder = true;
    cfg.d_out = o.d_out;
    cfg.skip_connection = o.skip_connection;
  }
  const ArchitectureSpec& arch = architecture_spec(o.architecture);
  cfg.architecture = arch.runs_as;
  cfg.apply_b_dec_to_input = o.apply_b_dec_to_input;
  cfg.meta = o.metadata;
  cfg.meta.extra["saescope_version"] = SAESCOPE_VERSION;
  cfg.center_writing_weights = o.center_writing_weights;
  cfg.center_writing_weights_source = o.center_writing_weights_source;
  SaeWeights w;
  const double s = st.scale;
  w.W_enc = (st.p.W_enc * s).to(at::kCPU);
  w.W_dec = (st.p.W_dec / s).to(at::kCPU);
  w.b_dec = (st.p.b_dec / s).to(at::kCPU);
  if (st.p.W_skip.defined()) w.W_skip = st.p.W_skip.to(at::kCPU).clone();
  // Pre-activations do not change with the input scale folded in (W_enc·s
  // meets x/s), so the architecture's own tensors stay as trained.
  arch.finish(st.p, st.threshold, o, w, cfg);
  if (o.architecture == Architecture::MatryoshkaBatchTopK)
    cfg.meta.extra["matryoshka_widths"] = matryoshka_levels(o);
  Sae sae(std::move(cfg), std::move(w), "trained SAE");
  if (st.window_tokens > 0)
    sae.set_log_sparsity(
        (st.fired.to(at::kCPU, at::kDouble) / static_cast<double>(st.window_tokens) + 1e-10)
            .log10()
            .to(at::kFloat));
  return sae;
}

State initialise(ActivationSource& source, const TrainOptions& o, int64_t d_in,
                 const at::Device& dev) {
  State st;
  auto gen = at::detail::createCPUGenerator(o.seed);
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  // Unit-norm decoder rows, the encoder their transpose (a transcoder whose
  // widths differ gets its own unit-norm encoder columns).
  const int64_t d_out = o.d_out > 0 ? o.d_out : d_in;
  at::Tensor W_dec = at::randn({o.d_sae, d_out}, gen, f32);
  W_dec.div_(W_dec.norm(2, {1}, true));
  st.p.W_dec = W_dec.to(dev);
  if (d_out == d_in) {
    st.p.W_enc = W_dec.t().contiguous().to(dev);
  } else {
    at::Tensor W_enc = at::randn({d_in, o.d_sae}, gen, f32);
    st.p.W_enc = W_enc.div_(W_enc.norm(2, {0}, true)).to(dev);
  }
  if (o.skip_connection) st.p.W_skip = at::zeros({d_out, d_in}, f32.device(dev));
  architecture_spec(o.architecture).init(st.p, o, f32.device(dev));

  // A sample for the input scale and b_dec, not trained on.
  const int64_t want = o.init_tokens > 0 ? o.init_tokens : o.batch_size;
  std::vector<at::Tensor> parts;
  int64_t got = 0;
  const int64_t width = d_in + o.d_out;  // the source's columns
  while (got < want) {
    at::Tensor x = checked_batch(source, want - got, width);
    if (!x.defined() || x.size(0) == 0) break;
    parts.push_back(x.to(at::kCPU, at::kFloat));
    got += x.size(0);
  }
  if (got == 0) throw InputError("SAE training: the activation source gave no activations");
  at::Tensor sample = at::cat(parts, 0);
  if (!at::isfinite(sample).all().item<bool>())
    throw InputError("SAE training: the activations hold NaN or infinite values");
  // b_dec lives where the decoder writes: a transcoder's output columns.
  if (o.d_out > 0) sample = sample.narrow(1, d_in, o.d_out).contiguous();
  if (o.normalize_activations == Normalization::ExpectedAverageOnlyIn)
    st.scale = std::sqrt(static_cast<double>(d_in)) / sample.norm(2, {1}).mean().item<double>();
  sample.mul_(st.scale);
  switch (o.b_dec_init) {
    case BDecInit::GeometricMedian:
      st.p.b_dec = geometric_median(sample).to(dev);
      break;
    case BDecInit::Mean:
      st.p.b_dec = sample.mean({0}).to(dev);
      break;
    case BDecInit::Zeros:
      st.p.b_dec = at::zeros({d_out}, f32.device(dev));
      break;
  }
  st.since_fired = at::zeros({o.d_sae}, at::TensorOptions().dtype(at::kLong).device(dev));
  st.fired = at::zeros({o.d_sae}, at::TensorOptions().dtype(at::kLong).device(dev));
  return st;
}

}  // namespace

namespace {

// Data-parallel (dist::world()): every rank reads the same batches and takes
// its slice; the gradients, the losses (each weighted by the slice's share
// of the batch, so their sum is the whole batch's mean) and the firing
// counts are summed over the ranks, so every rank takes the same step as one
// process on the whole batch, up to the order of float sums.
struct DataParallel {
  dist::ProcessGroup* group = nullptr;

  // Rows [lo, hi) of an n-row batch are this rank's.
  std::pair<int64_t, int64_t> slice(int64_t n) const {
    if (!group) return {0, n};
    return {n * group->rank() / group->size(), n * (group->rank() + 1) / group->size()};
  }

  void same_start(State& st) const {
    if (!group) return;
    for (at::Tensor& t : defined_tensors(st.p)) group->broadcast(t, 0, "sharing the initial SAE");
    at::Tensor scale = at::tensor({st.scale}, at::kDouble);
    group->broadcast(scale, 0, "sharing the input scale");
    st.scale = scale.item<double>();
  }

  // Sums `share`-weighted gradients and losses, and firing counts.
  void merge(StepResult& r, at::Tensor& fired_count, double share) const {
    if (!group) return;
    std::vector<at::Tensor> grads = defined_tensors(r.grad);
    std::vector<at::Tensor> parts;
    for (const at::Tensor& g : grads) parts.push_back(g.to(at::kCPU, at::kFloat).flatten() * share);
    for (const at::Tensor* s : {&r.loss, &r.mse, &r.l1, &r.aux}) parts.push_back(s->to(at::kCPU, at::kFloat).reshape({1}) * share);
    at::Tensor flat = at::cat(parts);
    group->allreduce_sum(flat, "averaging the gradients");
    int64_t at_ = 0;
    for (at::Tensor& g : grads) {
      g.copy_(flat.narrow(0, at_, g.numel()).view(g.sizes()));
      at_ += g.numel();
    }
    for (at::Tensor* s : {&r.loss, &r.mse, &r.l1, &r.aux}) *s = flat[at_++].to(s->device());
    at::Tensor counts = fired_count.to(at::kCPU, at::kLong).contiguous();
    group->allreduce_sum(counts, "merging firing counts");
    fired_count = counts.to(fired_count.device());
  }
};

}  // namespace

TrainResult train_sae(ActivationSource& source, const TrainOptions& o,
                      const TrainProgressFn& progress, const CancelCheck& cancelled) {
  const int64_t width = source.d_in();  // d_in, or d_in + d_out for a transcoder
  validate(o, width);
  const int64_t d_in = width - o.d_out;
  const at::Device dev = parse_device(o);
  at::NoGradGuard no_grad;
  const DataParallel dp{o.data_parallel ? dist::world() : nullptr};
  if (dp.group && (o.architecture == Architecture::BatchTopK || o.architecture == Architecture::MatryoshkaBatchTopK))
    throw InputError("data-parallel training of batchtopk / matryoshka_batchtopk needs the whole batch's top-k "
                     "across ranks, which is not implemented: train it in one process (standard, topk, jumprelu "
                     "and gated train data-parallel)");
  State st = initialise(source, o, d_in, dev);
  dp.same_start(st);
  Adam adam(defined_tensors(st.p), {o.adam_beta1, o.adam_beta2});

  const ArchitectureSpec& arch = architecture_spec(o.architecture);
  const bool by_l0 = arch.sparsity == SparsityKnob::L0;
  const int64_t total_steps = (o.total_tokens + o.batch_size - 1) / o.batch_size;
  int64_t next_checkpoint = o.checkpoint_every_tokens > 0 ? o.checkpoint_every_tokens : -1;
  TrainResult result;
  const auto start = std::chrono::steady_clock::now();

  while (result.tokens < o.total_tokens) {
    if (cancelled && cancelled()) throw Cancelled();
    const int64_t step = result.steps;
    at::Tensor x =
        checked_batch(source, std::min(o.batch_size, o.total_tokens - result.tokens), width);
    if (!x.defined() || x.size(0) == 0) {
      result.status = TrainStatus::SourceExhausted;
      result.message =
          "the activation source ran out after " + std::to_string(result.tokens) + " tokens";
      break;
    }
    const int64_t batch_rows = x.size(0);  // the whole batch, over every rank
    const auto [lo, hi] = dp.slice(batch_rows);
    if (hi <= lo) throw InputError("data-parallel training: a batch of " + std::to_string(batch_rows) +
                                   " rows leaves rank " + std::to_string(dp.group->rank()) + " none: use --batch "
                                   "of at least the number of ranks");
    x = x.narrow(0, lo, hi - lo).to(dev, at::kFloat);
    if (st.scale != 1.0) x = x * st.scale;
    StepSettings ss;
    if (o.d_out > 0) {  // a transcoder: input columns, then its target's
      ss.target = x.narrow(1, d_in, o.d_out);
      x = x.narrow(1, 0, d_in);
    }

    ss.architecture = o.architecture;
    ss.apply_b_dec_to_input = o.apply_b_dec_to_input;
    const double sparsity = sparsity_at(o, step);
    if (by_l0)
      ss.l0_coefficient = sparsity;
    else
      ss.l1_coefficient = sparsity;
    ss.jumprelu_bandwidth = o.jumprelu_bandwidth;
    ss.jumprelu_sparsity = o.jumprelu_sparsity;
    ss.jumprelu_tanh_scale = o.jumprelu_tanh_scale;
    ss.pre_act_loss_coefficient = by_l0 ? o.pre_act_loss_coefficient : 0.0;
    ss.k = o.k;
    ss.matryoshka_widths = matryoshka_levels(o);
    ss.aux_coefficient = o.aux_k_coefficient;
    ss.bf16_matmul = o.autocast_bf16;
    if (arch.sparsity == SparsityKnob::K || ss.pre_act_loss_coefficient != 0)
      ss.dead_mask = st.since_fired.gt(o.dead_feature_window);
    StepResult r = sae_loss_and_grads(st.p, x, ss);
    // One pass over the features gives firing counts; the rest derives from them.
    at::Tensor fired_count = r.features.gt(0).sum({0});
    dp.merge(r, fired_count, static_cast<double>(hi - lo) / static_cast<double>(batch_rows));

    const double loss = r.loss.item<double>();
    if (!std::isfinite(loss)) {
      result.status = TrainStatus::StoppedOnNaN;
      result.message = "training stopped at step " + std::to_string(step) + " (" +
                       std::to_string(result.tokens) + " tokens): the loss became " +
                       (std::isnan(loss) ? "NaN" : "infinite") +
                       "; weights are from before "
                       "that step" +
                       (result.last_checkpoint_tokens > 0
                            ? "; the checkpoint in " + o.checkpoint_dir + " (" +
                                  std::to_string(result.last_checkpoint_tokens) + " tokens) is kept"
                            : std::string());
      break;
    }

    const double lr = lr_at(o, step, total_steps);
    std::vector<at::Tensor> grads = defined_tensors(r.grad);
    clip_grad_norm(grads, o.max_grad_norm);
    adam.step(grads, lr);
    arch.after_step(st.p, r, o, st.threshold);

    st.since_fired.add_(1).masked_fill_(fired_count.gt(0), 0);
    if (st.window_steps == o.feature_sampling_window) {
      st.fired.zero_();
      st.window_tokens = st.window_steps = 0;
    }
    st.fired.add_(fired_count);
    st.window_tokens += batch_rows;
    ++st.window_steps;

    result.tokens += batch_rows;
    result.steps = step + 1;
    if (next_checkpoint > 0 && result.tokens >= next_checkpoint) {
      if (!dp.group || dp.group->is_root()) save_sae(to_sae(st, o, d_in), o.checkpoint_dir);  // rank 0 writes
      result.last_checkpoint_tokens = result.tokens;
      while (next_checkpoint <= result.tokens) next_checkpoint += o.checkpoint_every_tokens;
    }

    const bool report = o.progress_every_steps > 0 && (result.steps % o.progress_every_steps == 0 ||
                                                       result.tokens >= o.total_tokens);
    if (report || result.tokens >= o.total_tokens) {
      TrainProgress& pr = result.last;
      pr.step = result.steps;
      pr.tokens = result.tokens;
      pr.total_tokens = o.total_tokens;
      pr.elapsed_s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      pr.tokens_per_s = pr.elapsed_s > 0 ? static_cast<double>(result.tokens) / pr.elapsed_s : 0;
      pr.loss = loss;
      pr.mse = r.mse.item<double>();
      pr.l1 = r.l1.item<double>();
      pr.aux = r.aux.item<double>();
      pr.l0 =
          static_cast<double>(fired_count.sum().item<int64_t>()) / static_cast<double>(batch_rows);
      pr.dead_fraction = st.since_fired.gt(o.dead_feature_window).sum().item<int64_t>() /
                         static_cast<double>(o.d_sae);
      pr.lr = lr;
      pr.l1_coefficient = sparsity;
      if (report && progress) progress(pr);
    }
  }
  result.sae = to_sae(st, o, d_in);
  return result;
}

}  // namespace saescope::sae
