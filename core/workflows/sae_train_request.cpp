#include "core/workflows/sae_train_request.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>

#include "core/common/error.h"
#include "core/distributed/process_group.h"
#include "core/model/model_registry.h"
#include "core/workflows/activation_cache_request.h"
#include "core/sae/activation_cache_source.h"
#include "core/workflows/sae_evaluation_request.h"
#include "core/sae/arch/architecture.h"
#include "core/sae/sae_folder.h"

namespace saescope::sae {
namespace fs = std::filesystem;

const ArchitectureSpec& parse_train_architecture(const std::string& name) {
  const ArchitectureSpec* a = find_architecture(name);
  if (!a || !a->step)
    throw InputError("--arch '" + name + "': unknown architecture (" + architecture_names(true) + ")");
  return *a;
}

namespace {

// A folder path without its trailing separators ("out/" → "out").
std::string without_trailing_slash(std::string p) {
  while (p.size() > 1 && (p.back() == '/' || p.back() == '\\')) p.pop_back();
  return p;
}

void validate(const SaeTrainRequest& r) {
  if (r.model_dir.empty()) throw InputError("--model: missing");
  if (r.hook.empty()) throw InputError("--hook: missing");
  if (r.corpus.empty()) throw InputError("--corpus: missing");
  if (r.out.empty()) throw InputError("--out: missing");
  if (r.save_dtype != "float32" && r.save_dtype != "float16" && r.save_dtype != "bfloat16")
    throw InputError("--save-dtype " + r.save_dtype + ": expected float32, float16 or bfloat16");
  const ArchitectureSpec& arch = parse_train_architecture(r.architecture);
  const bool by_k = arch.sparsity == SparsityKnob::K;
  const bool by_l1 = arch.sparsity == SparsityKnob::L1;
  const bool jump = arch.sparsity == SparsityKnob::L0;
  const std::string sparse_by = sparsity_option(arch.sparsity);
  // "topk, batchtopk or matryoshka_batchtopk": the architectures a knob belongs to, from the registry.
  const auto sparse_by_knob = [](SparsityKnob k) {
    std::string names;
    for (const ArchitectureSpec& a : architectures())
      if (a.step && a.sparsity == k) names += (names.empty() ? "" : " or ") + std::string(a.name);
    return names;
  };
  if (by_k && r.k <= 0)
    throw InputError("--arch " + r.architecture + " needs --k (active features per token), a positive number");
  if (!by_k && r.k > 0)
    throw InputError("--k: only for --arch " + sparse_by_knob(SparsityKnob::K) + ", not " + r.architecture +
                     " (use " + sparse_by + ")");
  if (!by_l1 && r.l1 >= 0)
    throw InputError("--l1: only for --arch " + sparse_by_knob(SparsityKnob::L1) + " (" + r.architecture +
                     " is sparse by " + sparse_by + ")");
  if (!jump && r.l0 >= 0)
    throw InputError("--l0-coefficient: only for --arch " + sparse_by_knob(SparsityKnob::L0) + " (" +
                     r.architecture + " is sparse by " + sparse_by + ")");
  if (r.skip_connection && r.hook_out.empty())
    throw InputError("--skip-connection: only for transcoders (--hook-out)");
  if (!r.hook_out.empty() && arch.id == Architecture::Gated)
    throw InputError("--hook-out: gated transcoders are not trained here (" + architecture_names(true) + ")");
  if (arch.id != Architecture::MatryoshkaBatchTopK && !r.matryoshka_widths.empty())
    throw InputError("--matryoshka-widths: only for --arch matryoshka_batchtopk");
  if (!jump && (r.jumprelu_bandwidth >= 0 || r.jumprelu_init_threshold >= 0 ||
                !r.jumprelu_sparsity.empty() || r.jumprelu_tanh_scale >= 0 || r.pre_act_loss >= 0))
    throw InputError(
        "--jumprelu-bandwidth / --jumprelu-init-threshold / --jumprelu-sparsity / --jumprelu-tanh-scale / "
        "--pre-act-loss: only for --arch jumprelu");
  if (!r.jumprelu_sparsity.empty() && r.jumprelu_sparsity != "step" && r.jumprelu_sparsity != "tanh")
    throw InputError("--jumprelu-sparsity " + r.jumprelu_sparsity + ": expected step or tanh");
  if (r.jumprelu_tanh_scale >= 0 && r.jumprelu_sparsity != "tanh")
    throw InputError("--jumprelu-tanh-scale: only with --jumprelu-sparsity tanh");
  if (jump && r.jumprelu_tanh_scale == 0) throw InputError("--jumprelu-tanh-scale: must be positive");
  if (jump && r.jumprelu_bandwidth == 0)
    throw InputError("--jumprelu-bandwidth: must be positive");
  if (jump && r.jumprelu_init_threshold == 0)
    throw InputError("--jumprelu-init-threshold: must be positive");
  if ((r.expansion > 0) == (r.d_sae > 0))
    throw InputError("give exactly one of --expansion R or --d-sae N (positive)");
  if (r.expansion < 0 || r.d_sae < 0) throw InputError("--expansion / --d-sae: must be positive");
  if (r.batch <= 0) throw InputError("--batch: must be positive");
  if (r.context < 2) throw InputError("--context: must be at least 2 (BOS and one token)");
  if (r.tokens < 0) throw InputError("--tokens: must not be negative");
  if (!(r.holdout_fraction > 0 && r.holdout_fraction < 1))
    throw InputError("holdout fraction: must lie strictly between 0 and 1");
  if (!fs::is_directory(r.model_dir)) throw InputError(r.model_dir + ": no such model folder (--model)");
  if (!fs::is_regular_file(r.corpus)) throw InputError(r.corpus + ": no such corpus file (--corpus)");
}

// Window tokens (BOS counted) the cache needs so that, after the held-out
// windows, at least `train_tokens` activations remain to train on.
int64_t cache_tokens_for(const SaeTrainRequest& r) {
  if (r.tokens == 0) return 0;  // the whole corpus
  const int64_t rows_per_window = r.context - 1;  // BOS excluded
  const int64_t train_windows = (r.tokens + rows_per_window - 1) / rows_per_window;
  const auto windows =
      static_cast<int64_t>(std::ceil(static_cast<double>(train_windows) / (1.0 - r.holdout_fraction))) + 1;
  return windows * r.context;
}

std::string train_detail(const TrainProgress& p, Architecture arch) {
  char buf[256];
  if (arch == Architecture::Standard)
    std::snprintf(buf, sizeof buf, "loss %.4g (mse %.4g, l1 %.4g), L0 %.1f, dead %.1f%%, %.0f tok/s",
                  p.loss, p.mse, p.l1, p.l0, 100 * p.dead_fraction, p.tokens_per_s);
  else if (arch == Architecture::JumpReLU)
    std::snprintf(buf, sizeof buf, "loss %.4g (mse %.4g, l0 penalty %.4g), L0 %.1f, dead %.1f%%, %.0f tok/s",
                  p.loss, p.mse, p.l1, p.l0, 100 * p.dead_fraction, p.tokens_per_s);
  else if (arch == Architecture::Gated)
    std::snprintf(buf, sizeof buf,
                  "loss %.4g (mse %.4g, l1 %.4g, aux %.4g), L0 %.1f, dead %.1f%%, %.0f tok/s", p.loss,
                  p.mse, p.l1, p.aux, p.l0, 100 * p.dead_fraction, p.tokens_per_s);
  else
    std::snprintf(buf, sizeof buf, "loss %.4g (mse %.4g, aux %.4g), L0 %.1f, dead %.1f%%, %.0f tok/s",
                  p.loss, p.mse, p.aux, p.l0, 100 * p.dead_fraction, p.tokens_per_s);
  return buf;
}

const char* status_name(TrainStatus s) {
  switch (s) {
    case TrainStatus::Finished: return "finished";
    case TrainStatus::SourceExhausted: return "source exhausted";
    case TrainStatus::StoppedOnNaN: return "stopped on NaN";
  }
  return "?";
}

}  // namespace

nlohmann::json SaeTrainOutcome::to_json() const {
  return {{"cache", cache_path},
          {"cache_reused", cache_reused},
          {"cache_resumed_from_tokens", cache_resumed_from_rows},
          {"cache_tokens", cache_rows},
          {"train_rows", train_rows},
          {"holdout_rows", holdout_rows},
          {"d_in", d_in},
          {"d_sae", d_sae},
          {"status", status_name(status)},
          {"message", message},
          {"steps", steps},
          {"tokens", tokens},
          {"epochs", epochs},
          {"train_seconds", train_seconds},
          {"tokens_per_s", train_seconds > 0 ? static_cast<double>(tokens) / train_seconds : 0.0},
          {"final_loss", last.loss},
          {"final_mse", last.mse},
          {"final_l0", last.l0},
          {"final_dead_fraction", last.dead_fraction},
          {"evaluation", evaluation},
          {"mse", evaluation.value("mse", nlohmann::json())},
          {"l0", evaluation.value("l0", nlohmann::json())},
          {"explained_variance", evaluation.value("explained_variance", nlohmann::json())},
          {"warnings", warnings}};
}

namespace {

// What every rank of a data-parallel run must agree on.
std::string train_fingerprint(const SaeTrainRequest& r) {
  return nlohmann::json{{"model", r.model_dir}, {"hook", r.hook}, {"hook_out", r.hook_out}, {"corpus", r.corpus},
                        {"out", r.out}, {"cache", r.cache}, {"arch", r.architecture}, {"d_sae", r.d_sae},
                        {"expansion", r.expansion}, {"k", r.k}, {"l1", r.l1}, {"l0", r.l0}, {"lr", r.lr},
                        {"tokens", r.tokens}, {"batch", r.batch}, {"context", r.context}, {"seed", r.seed},
                        {"holdout", r.holdout_fraction}}
      .dump();
}

}  // namespace

SaeTrainOutcome train_sae_from_corpus(const SaeTrainRequest& r,
                                      const jobs::ProgressSink::Callback& on_progress,
                                      const jobs::CancelFlag* cancel) {
  return train_sae_from_corpus(r, on_progress, cancel, dist::world());
}

SaeTrainOutcome train_sae_from_corpus(const SaeTrainRequest& r, const jobs::ProgressSink::Callback& on_progress,
                                      const jobs::CancelFlag* cancel, dist::ProcessGroup* group) {
  validate(r);
  const ArchitectureSpec& arch = parse_train_architecture(r.architecture);
  const std::string out = without_trailing_slash(r.out);
  SaeTrainOutcome o;
  o.cache_path = r.cache.empty() ? out + ".cache" : r.cache;

  // 1. The activation cache: built, continued, or left as it is when complete.
  CacheRequest cr;
  cr.model_dir = r.model_dir;
  cr.hook = r.hook;
  cr.corpus = r.corpus;
  cr.out = o.cache_path;
  cr.device = r.device;
  cr.context = r.context;
  cr.max_tokens = cache_tokens_for(r);
  cr.center_writing_weights = r.center_writing_weights;
  // Data-parallel (`group`): every rank caches its shard of the windows
  // (activation_cache.h's manifest joins them; the ranks need one
  // filesystem), trains on its slice of each batch, and rank 0 alone saves
  // and evaluates.
  const bool writes = !group || group->is_root();
  if (group) group->check_same(train_fingerprint(r), "the training requests (options and file paths)");
  const bool transcoder = !r.hook_out.empty();
  const std::string out_cache_path = transcoder ? out + ".out.cache" : std::string();
  {
    jobs::ProgressSink cache_progress(on_progress, cancel);
    const CacheOutcome c = build_activation_cache(cr, cache_progress, group);
    o.cache_reused = c.already_complete;
    o.cache_resumed_from_rows = c.resumed_from.rows;
    if (!c.corpus_problems.empty()) o.warnings.push_back("warning: " + c.corpus_problems);
  }
  // 1b. A transcoder's targets: the same windows at the hook it writes.
  if (transcoder) {
    CacheRequest cro = cr;
    cro.hook = r.hook_out;
    cro.out = out_cache_path;
    jobs::ProgressSink cache_progress(on_progress, cancel);
    build_activation_cache(cro, cache_progress, group);
  }

  // 2. Train on all but the held-out tail windows.
  ActivationCache cache = ActivationCache::open(o.cache_path);
  o.cache_rows = cache.rows();
  o.d_in = cache.d_in();
  const int64_t holdout_row = holdout_first_row(cache, r.holdout_fraction);
  o.train_rows = holdout_row;
  o.holdout_rows = cache.rows() - holdout_row;
  if (o.train_rows <= 0)
    throw InputError(r.corpus + ": too small to train on (" + std::to_string(cache.windows()) +
                     " windows of " + std::to_string(r.context) + " tokens, all held out)");

  TrainOptions t;
  t.architecture = arch.id;
  t.data_parallel = group != nullptr;
  std::optional<ActivationCache> out_cache;
  if (transcoder) {
    out_cache = ActivationCache::open(out_cache_path);
    if (out_cache->rows() != cache.rows() || holdout_first_row(*out_cache, r.holdout_fraction) != holdout_row)
      throw InputError(out_cache_path + " holds " + std::to_string(out_cache->rows()) + " activations of " + r.hook_out +
                       " but " + o.cache_path + " " + std::to_string(cache.rows()) + " of " + r.hook +
                       ": not the same tokens");
    t.d_out = out_cache->d_in();
    t.skip_connection = r.skip_connection;
    t.apply_b_dec_to_input = false;  // b_dec is in the output space
  }
  t.d_sae = r.d_sae > 0 ? r.d_sae : static_cast<int64_t>(std::llround(r.expansion * o.d_in));
  if (t.d_sae <= 0) throw InputError("--expansion: gives no features for d_in " + std::to_string(o.d_in));
  if (arch.sparsity == SparsityKnob::K) {
    if (r.k > t.d_sae)
      throw InputError("--k " + std::to_string(r.k) + ": more than the SAE's " + std::to_string(t.d_sae) +
                       " features");
    t.k = r.k;
  }
  if (arch.id == Architecture::MatryoshkaBatchTopK) {
    t.matryoshka_widths = r.matryoshka_widths;
    if (t.matryoshka_widths.empty())  // our default: quarter, half, all
      for (int64_t w : {t.d_sae / 4, t.d_sae / 2})
        if (w >= t.k && (t.matryoshka_widths.empty() || w > t.matryoshka_widths.back())) t.matryoshka_widths.push_back(w);
    for (int64_t w : t.matryoshka_widths)
      if (w < t.k || w > t.d_sae)
        throw InputError("--matryoshka-widths: " + std::to_string(w) + " is outside k.." + std::to_string(t.d_sae));
  }
  if (r.l1 >= 0) t.l1_coefficient = r.l1;
  if (r.l0 >= 0) t.l0_coefficient = r.l0;
  if (r.jumprelu_bandwidth > 0) t.jumprelu_bandwidth = r.jumprelu_bandwidth;
  if (r.jumprelu_init_threshold > 0) t.jumprelu_init_threshold = r.jumprelu_init_threshold;
  if (r.jumprelu_sparsity == "tanh") t.jumprelu_sparsity = JumpReluSparsity::Tanh;
  if (r.jumprelu_tanh_scale > 0) t.jumprelu_tanh_scale = r.jumprelu_tanh_scale;
  if (r.pre_act_loss > 0) t.pre_act_loss_coefficient = r.pre_act_loss;
  if (r.lr > 0) t.lr = r.lr;
  t.batch_size = r.batch;
  t.total_tokens = r.tokens > 0 ? r.tokens : o.train_rows;
  t.seed = r.seed;
  t.device = r.device;
  t.progress_every_steps = 10;
  const int64_t every = r.checkpoint_every < 0 ? t.total_tokens / 5 : r.checkpoint_every;
  if (every > 0) {
    t.checkpoint_dir = out;
    t.checkpoint_every_tokens = every;
  }
  t.center_writing_weights = r.center_writing_weights;
  t.center_writing_weights_source = "model_from_pretrained_kwargs";
  SaeMetadata& m = t.metadata;
  const model::ModelInfo model_info = model::read_model_info(r.model_dir);
  m.model_name = model_info.name;  // _name_or_path, else its folder (model/ -> parent)
  m.hook_name = r.hook;
  if (transcoder) {
    m.hook_name_out = r.hook_out;
    m.hook_layer_out = layer_of_hook(r.hook_out);
  }
  if (r.hook.rfind("blocks.", 0) == 0) {  // SAELens writes the layer beside the hook
    const size_t dot = r.hook.find('.', 7);
    try {
      m.hook_layer = std::stoll(r.hook.substr(7, dot - 7));
    } catch (const std::exception&) {
    }
  }
  m.context_size = r.context;
  m.prepend_bos = model_info.prepend_bos;  // the windows' rule
  m.dataset_path = r.corpus;
  // Trained on the Hugging Face forward's values: no value biases folded.
  m.model_from_pretrained_kwargs = {{"center_writing_weights", r.center_writing_weights},
                                    {"fold_value_biases", false}};
  if (arch.sparsity == SparsityKnob::L1) m.extra["l1_coefficient"] = t.l1_coefficient;
  if (arch.sparsity == SparsityKnob::K && arch.runs_as != arch.id) {  // saved as jumprelu: keep what trained it
    m.extra["k"] = t.k;
    m.extra["trained_as"] = arch.name;
  }
  if (arch.sparsity == SparsityKnob::L0) {  // SAELens's JumpReLUTrainingSAEConfig names
    m.extra["l0_coefficient"] = t.l0_coefficient;
    m.extra["jumprelu_bandwidth"] = t.jumprelu_bandwidth;
    m.extra["jumprelu_init_threshold"] = t.jumprelu_init_threshold;
    const bool tanh_mode = t.jumprelu_sparsity == JumpReluSparsity::Tanh;
    m.extra["jumprelu_sparsity_loss_mode"] = tanh_mode ? "tanh" : "step";
    if (tanh_mode) m.extra["jumprelu_tanh_scale"] = t.jumprelu_tanh_scale;
    if (t.pre_act_loss_coefficient > 0) m.extra["pre_act_loss_coefficient"] = t.pre_act_loss_coefficient;
  }
  m.extra["training_tokens"] = t.total_tokens;

  CacheStreamOptions so;
  so.first_row = 0;
  so.rows = holdout_row;
  so.seed = r.seed;
  so.epochs = r.tokens > 0 ? 0 : 1;  // a token budget beyond the cache cycles it
  CacheActivationSource source(cache, so);
  // A transcoder's targets, streamed in the same order (same rows, same seed).
  std::optional<CacheActivationSource> out_source;
  std::optional<PairedActivationSource> paired;
  if (transcoder) {
    out_source.emplace(*out_cache, so);
    paired.emplace(source, *out_source);
  }

  jobs::ProgressSink train_progress(on_progress, cancel);
  const auto start = std::chrono::steady_clock::now();
  TrainResult res = train_sae(
      transcoder ? static_cast<ActivationSource&>(*paired) : source, t,
      [&](const TrainProgress& p) {
        train_progress.report({"train", static_cast<double>(p.tokens), static_cast<double>(p.total_tokens),
                               "tokens", train_detail(p, arch.id)});
      },
      [&] { return train_progress.cancelled(); });
  o.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  o.status = res.status;
  o.message = res.message;
  o.steps = res.steps;
  o.tokens = res.tokens;
  o.epochs = source.epoch() + 1;
  o.last = res.last;
  o.d_sae = t.d_sae;
  if (res.status == TrainStatus::StoppedOnNaN) o.warnings.push_back("warning: " + res.message);
  if (r.tokens > 0 && o.tokens > o.train_rows)
    o.warnings.push_back("warning: " + std::to_string(o.tokens) + " training tokens from " +
                         std::to_string(o.train_rows) + " cached activations: the corpus was seen " +
                         std::to_string(o.epochs) + " times");

  if (!writes) return o;
  // 3. Save, then evaluate the saved folder on the held-out windows.
  res.sae.mutable_config().dtype = r.save_dtype;
  save_sae(res.sae, out);
  jobs::ProgressSink eval_progress(on_progress, cancel);
  eval_progress.report({"evaluate", 0, static_cast<double>(o.holdout_rows), "tokens", "held-out windows"});
  SaeEvalOutcome ev =
      run_sae_eval_on_cache(out, o.cache_path, r.holdout_fraction, 0, SaeEvalOptions{}, out_cache_path);
  eval_progress.report({"evaluate", static_cast<double>(o.holdout_rows), static_cast<double>(o.holdout_rows),
                        "tokens", "done"});
  o.evaluation = ev.metrics;
  for (auto& w : ev.warnings) o.warnings.push_back(w);
  return o;
}

std::vector<nlohmann::json> train_sweep(std::vector<SaeTrainRequest> requests,
                                         const jobs::ProgressSink::Callback& on_progress,
                                         const jobs::CancelFlag* cancel, dist::ProcessGroup* group) {
  if (requests.empty()) throw InputError("train --sweep: no SAE to train");
  const SaeTrainRequest& first = requests.front();
  std::map<std::string, std::string> cache_of_hook;  // the first request of a hook names its cache
  for (SaeTrainRequest& r : requests) {
    validate(r);
    if (!r.hook_out.empty()) throw InputError(r.out + ": transcoders are trained one at a time, not in a sweep");
    const auto differs = [&](const char* what) { throw InputError(r.out + ": a sweep's SAEs share the " +
                                                                  std::string(what) + " (" + first.out + " has another)"); };
    if (r.model_dir != first.model_dir) differs("model");
    if (r.corpus != first.corpus) differs("corpus");
    if (r.context != first.context || cache_tokens_for(r) != cache_tokens_for(first)) differs("windows (--context, --tokens)");
    if (r.holdout_fraction != first.holdout_fraction) differs("held-out windows (--holdout)");
    if (r.device != first.device || r.center_writing_weights != first.center_writing_weights) differs("device and model loading");
    const auto [it, fresh] =
        cache_of_hook.emplace(r.hook, r.cache.empty() ? without_trailing_slash(r.out) + ".cache" : r.cache);
    if (!fresh && !r.cache.empty() && r.cache != it->second)
      throw InputError(r.out + ": its --cache differs from " + it->second + ", the cache of " + r.hook + " in this sweep");
    r.cache = it->second;
  }
  for (size_t i = 0; i < requests.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (without_trailing_slash(requests[i].out) == without_trailing_slash(requests[j].out))
        throw InputError(requests[i].out + ": named twice in the sweep");
  if (group) {
    std::string all;
    for (const SaeTrainRequest& r : requests) all += train_fingerprint(r) + "\n";
    group->check_same(all, "the sweeps (options and file paths)");
  }
  // 1. Every hook's cache, once (a shard per rank when distributed).
  for (const auto& [hook, path] : cache_of_hook) {
    const auto r = std::find_if(requests.begin(), requests.end(), [&](const SaeTrainRequest& q) { return q.hook == hook; });
    CacheRequest cr;
    cr.model_dir = r->model_dir;
    cr.hook = hook;
    cr.corpus = r->corpus;
    cr.out = path;
    cr.device = r->device;
    cr.context = r->context;
    cr.max_tokens = cache_tokens_for(*r);
    cr.center_writing_weights = r->center_writing_weights;
    jobs::ProgressSink cache_progress(on_progress, cancel);
    build_activation_cache(cr, cache_progress, group);
  }
  // 2. Each SAE on its rank, from the complete caches.
  const int rank = group ? group->rank() : 0, world = group ? group->size() : 1;
  std::vector<nlohmann::json> outcomes(requests.size());
  nlohmann::json mine = nlohmann::json::object();
  for (size_t i = 0; i < requests.size(); ++i) {
    if (static_cast<int>(i % static_cast<size_t>(world)) != rank) continue;
    outcomes[i] = train_sae_from_corpus(requests[i], on_progress, cancel, nullptr).to_json();
    outcomes[i]["sae"] = requests[i].out;
    outcomes[i]["rank"] = rank;
    mine[std::to_string(i)] = outcomes[i];
  }
  if (!group) return outcomes;
  // 3. Rank 0 reports every SAE: the others' outcomes come as JSON.
  const std::vector<std::string> all = group->allgather_bytes(mine.dump(), "gathering the sweep's outcomes");
  for (size_t r = 1; r < all.size() && group->is_root(); ++r) {
    const nlohmann::json theirs = nlohmann::json::parse(all[r]);  // outlives the loop over its items
    for (const auto& [index, outcome] : theirs.items()) outcomes[std::stoul(index)] = outcome;
  }
  return outcomes;
}

}  // namespace saescope::sae
