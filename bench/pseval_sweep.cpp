// bench_pseval_sweep: PS-Eval of 12 SAEs (one per layer, blocks.L.hook_resid_post,
// d_sae 6144, random) over 1,000 pairs on a random GPT-2-small-shaped model
// (12 layers, 768, 12 heads, vocab 50257), two ways, with the same engine:
//
//   runner     run_pseval: each distinct prompt once, batched (padding-aware),
//              every hook read in that one pass, every SAE on its hook's rows.
//   reference  the reference procedure: for each SAE, for each pair, for each
//              of its two prompts, tokenise and run the model alone, encode
//              every position, take the argmax at the target; MSE/L0 on
//              prompt 1 (both sides skip MSE/L0 with --mse off: PS-Eval alone).
//              Timed twice:
//                to-hook  the forward pass stops at the SAE's hook (this
//                         engine's early exit): the strictest baseline;
//                full     the forward pass runs to the logits, as the
//                         script's run_with_cache does.
//              (The script also runs each prompt about three times per SAE;
//              not counted here.)
//
// The reference is timed on a subset (--ref-pairs, half before and half after
// the runner, as the machine may be shared) and extrapolated linearly to all
// pairs; the output says so. On that subset the two must give the same
// confusion matrix per SAE (checked; exit 1 otherwise).
//
// Pairs: the WordNet 3.0 test pairs built by the sense builder from
// /usr/share/wordnet (Debian wordnet-base), else synthetic pairs.
//
// Usage: bench_pseval_sweep [--pairs 1000] [--ref-pairs 24] [--batch 32]
//                           [--d-sae 6144] [--threads N] [--wordnet DIR] [--mse on|off]
#include <ATen/ATen.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/resource.h>
#include <vector>

#include "core/common/runtime_info.h"
#include "core/model/gpt2/gpt2.h"
#include "core/polysemy/pair_scoring.h"
#include "core/polysemy/pseval_collector.h"
#include "core/polysemy/pseval_plan.h"
#include "core/polysemy/pseval_runner.h"
#include "core/polysemy/sense_pairs.h"
#include "core/polysemy/wordnet_occurrences.h"
#include "core/sae/sae.h"
#include "core/tokenizer/bpe_tokenizer.h"

using namespace saescope;
using namespace saescope::polysemy;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// CPU seconds of this process (all threads): steadier than wall time when
// other work shares the machine.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

sae::Sae random_sae(int layer, int64_t d_in, int64_t d_sae) {
  at::manual_seed(1000 + layer);
  sae::SaeConfig c;
  c.d_in = d_in;
  c.d_sae = d_sae;
  c.meta.hook_name = "blocks." + std::to_string(layer) + ".hook_resid_post";
  sae::SaeWeights w;
  w.W_enc = at::randn({d_in, d_sae}) / std::sqrt(static_cast<double>(d_in));
  w.b_enc = at::randn({d_sae}) * 0.1 - 0.2;
  w.b_dec = at::zeros({d_in});
  w.W_dec = at::randn({d_sae, d_in}) / std::sqrt(static_cast<double>(d_sae));
  return sae::Sae(c, w, "random-layer-" + std::to_string(layer));
}

std::vector<WordPair> synthetic_pairs(std::size_t n) {
  const char* words[] = {"bank", "spring", "bat", "light", "match", "rock", "bark", "fair", "left", "park"};
  const char* fillers[] = {"the", "old", "man", "saw", "a", "small", "river", "near", "our", "house",
                           "yesterday", "and", "then", "walked", "over", "to", "it", "quickly"};
  std::vector<WordPair> out;
  unsigned state = 12345;
  const auto next = [&] { return state = state * 1103515245u + 12345u, (state >> 16) & 0x7fff; };
  for (std::size_t i = 0; i < n; ++i) {
    WordPair p;
    p.target_word = words[next() % 10];
    for (std::string* c : {&p.context_1, &p.context_2}) {
      const unsigned len = 6 + next() % 10, at = next() % len;
      for (unsigned k = 0; k < len; ++k)
        *c += (k ? " " : "") + std::string(k == at ? p.target_word.c_str() : fillers[next() % 18]);
      *c += ".";
    }
    p.same_sense = i % 2 == 0;
    out.push_back(p);
  }
  return out;
}

// The reference procedure on `pairs`, appending each pair's outcome.
void reference(const model::LanguageModel& gpt2, const tokenizer::BpeTokenizer& tok, const std::vector<sae::Sae>& saes,
               const std::vector<WordPair>& pairs, const PromptPlan& plan, std::size_t from, std::size_t to,
               bool to_logits, bool with_mse, std::vector<std::vector<PairOutcome>>& outcomes) {
  for (std::size_t s = 0; s < saes.size(); ++s) {
    const std::string& hook = saes[s].config().meta.hook_name;
    for (std::size_t i = from; i < to; ++i) {
      const WordPair& pair = pairs[i];
      const PlannedPair& pp = plan.pairs[i];
      if (pp.skip) {
        outcomes[s][i] = PairOutcome::skip(pair.target_word, pair.same_sense, *pp.skip);
        continue;
      }
      std::int64_t feature[2] = {-1, -1};
      bool zero = false;
      for (int k = 0; k < 2; ++k) {
        const std::string text = fill_prompt_template(kDefaultPromptTemplate, k ? pair.context_2 : pair.context_1,
                                                      pair.target_word).text;
        const auto ids32 = tok.encode_ids(text);
        const std::vector<int64_t> ids(ids32.begin(), ids32.end());
        std::vector<std::string> asked = {hook};
        if (to_logits) asked.push_back("logits");
        const model::RunResult r = gpt2.run(model::make_token_batch({ids}, gpt2.info()), {asked, {}});
        const at::Tensor x = r.hooks.at(hook)[0];
        const sae::SaeOutput out = saes[s].forward(x);  // every position, as the script encodes
        if (k == 0 && with_mse) {  // MSE and L0 of prompt 1 (kept for realism; the numbers are not compared)
          volatile double mse = (out.reconstruction - x).pow(2).sum(1).mean().item<double>();
          volatile double l0 = out.features.gt(0).sum(1).to(at::kDouble).mean().item<double>();
          (void)mse, (void)l0;
        }
        const int64_t target = plan.prompts[static_cast<std::size_t>(k ? pp.prompt_2 : pp.prompt_1)].target;
        const FeaturePick pick = argmax_picks(out.features.slice(0, target, target + 1))[0];
        feature[k] = pick.feature;
        zero = zero || pick.all_zero;
      }
      outcomes[s][i] = zero ? PairOutcome::skip(pair.target_word, pair.same_sense, SkipReason::all_zero)
                            : PairOutcome::scored(pair.target_word, pair.same_sense, feature[0], feature[1]);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n_pairs = 1000, ref_pairs = 24;
  int64_t batch = 32, d_sae = 6144;
  int threads = 0;
  std::string wordnet = "/usr/share/wordnet";
  bool with_mse = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--pairs") n_pairs = std::stoul(v);
    else if (a == "--ref-pairs") ref_pairs = std::stoul(v);
    else if (a == "--batch") batch = std::stoll(v);
    else if (a == "--d-sae") d_sae = std::stoll(v);
    else if (a == "--threads") threads = std::stoi(v);
    else if (a == "--wordnet") wordnet = v;
    else if (a == "--mse") with_mse = v != "off";
    else { std::fprintf(stderr, "unknown option %s\n", a.c_str()); return 2; }
  }
  set_engine_threads(threads);
  const RuntimeInfo info = runtime_info();
  std::printf("bench_pseval_sweep: libtorch %s, %d threads, BLAS %s\n", info.torch_version.c_str(),
              info.intra_op_threads, info.blas_library.c_str());

  std::vector<WordPair> pairs;
  std::string source;
  if (std::filesystem::exists(wordnet + "/data.noun")) {
    const auto t0 = Clock::now();
    const auto built = build_wordnet_occurrences(wordnet);
    for (const WordPair& p : make_sense_pairs(built.occurrences).pairs)
      if (p.split == "test" && pairs.size() < n_pairs) pairs.push_back(p);
    source = "WordNet 3.0 test pairs (" + wordnet + ", built in " + std::to_string(since(t0)).substr(0, 4) + " s)";
  } else {
    pairs = synthetic_pairs(n_pairs);
    source = "synthetic pairs (no WordNet at " + wordnet + ")";
  }
  n_pairs = pairs.size();
  ref_pairs = std::min(ref_pairs, n_pairs);

  const model::Gpt2Config config = model::gpt2_small_config();
  const model::Gpt2 gpt2(config, model::random_gpt2_weights(config, 1));
  const tokenizer::BpeTokenizer tok = tokenizer::load_tokenizer(std::string(SAESCOPE_SHARED_DIR) + "/data/gpt2-tokenizer");
  std::vector<sae::Sae> saes;
  for (int layer = 0; layer < 12; ++layer) saes.push_back(random_sae(layer, config.d_model, d_sae));
  std::vector<PsEvalSae> run_saes;
  for (const sae::Sae& s : saes) run_saes.push_back({&s, s.source(), {}});
  std::printf("data: %zu %s; 12 SAEs x %lld features at blocks.0-11.hook_resid_post; random GPT-2 small\n",
              n_pairs, source.c_str(), static_cast<long long>(d_sae));

  const PromptPlan plan = plan_prompts(tok, gpt2.info(), pairs, {}, PlanOptions{kDefaultPromptTemplate, TargetRule::template_word, false});
  std::vector<std::vector<PairOutcome>> ref_outcomes(saes.size(), std::vector<PairOutcome>(ref_pairs));
  const std::size_t half = ref_pairs / 2;

  // Reference halves before and after the runner, as the machine may be shared.
  double ref_seconds[2] = {0, 0}, ref_cpu[2] = {0, 0};  // [to-hook, full]
  const auto reference_part = [&](std::size_t from, std::size_t to) {
    for (int full = 0; full < 2; ++full) {
      std::vector<std::vector<PairOutcome>> scratch(saes.size(), std::vector<PairOutcome>(ref_pairs));
      const auto t0 = Clock::now();
      const double c0 = cpu_seconds();
      reference(gpt2, tok, saes, pairs, plan, from, to, full == 1, with_mse, full ? scratch : ref_outcomes);
      ref_seconds[full] += since(t0);
      ref_cpu[full] += cpu_seconds() - c0;
    }
  };
  reference_part(0, half);

  PsEvalOptions options;
  options.batch_size = batch;
  options.baseline = true;
  options.reconstruction = with_mse;
  const auto t0 = Clock::now();
  const double c0 = cpu_seconds();
  const PsEvalRun run = run_pseval(gpt2, tok, run_saes, pairs, {}, options);
  const double runner_seconds = since(t0), runner_cpu = cpu_seconds() - c0;

  reference_part(half, ref_pairs);

  // The two must agree where both ran.
  const std::vector<WordPair> subset(pairs.begin(), pairs.begin() + static_cast<std::ptrdiff_t>(ref_pairs));
  const PsEvalRun check = run_pseval(gpt2, tok, run_saes, subset, {}, options);
  bool agree = true;
  for (std::size_t s = 0; s < saes.size(); ++s) {
    const PairScore ref = score_pairs(ref_outcomes[s]);
    agree = agree && ref.confusion == check.saes[s].pairs.confusion && ref.skipped == check.saes[s].pairs.skipped;
  }

  const double scale = static_cast<double>(n_pairs) / static_cast<double>(ref_pairs);
  const PsEvalStats& st = run.stats;
  std::printf("runner:    %.1f s wall, %.1f s CPU, for %zu pairs x 12 SAEs (+ 12 baselines%s): %zu "
              "distinct prompts of %zu asked for, %lld batches of %lld, %lld tokens (%lld with padding)\n",
              runner_seconds, runner_cpu, n_pairs, with_mse ? ", MSE, L0" : "", st.prompts, st.prompt_uses, static_cast<long long>(st.batches),
              static_cast<long long>(batch), static_cast<long long>(st.tokens), static_cast<long long>(st.padded_tokens));
  for (int full = 0; full < 2; ++full) {
    std::printf("reference, forward %s: %.1f s wall, %.1f s CPU measured on %zu pairs x 12 SAEs (%zu unbatched "
                "forward passes); EXTRAPOLATED to %zu pairs: %.0f s wall, %.0f s CPU\n",
                full ? "to the logits (run_with_cache)" : "to the SAE's hook (early exit)", ref_seconds[full],
                ref_cpu[full], ref_pairs, 2 * ref_pairs * saes.size(), n_pairs, ref_seconds[full] * scale,
                ref_cpu[full] * scale);
    std::printf("  speed-up: %.1fx wall, %.1fx CPU (goal >= 20x)\n", ref_seconds[full] * scale / runner_seconds,
                ref_cpu[full] * scale / runner_cpu);
  }
  std::printf("agreement on the %zu reference pairs: %s\n", ref_pairs, agree ? "same confusion and skips for all 12 SAEs" : "DIFFERENT");
  std::printf("runner F1 per layer (random model and SAEs: meaningless):");
  for (const PsEvalScore& s : run.saes) std::printf(" %.2f", s.pairs.metrics.f1);
  std::printf("\n");
  return agree ? 0 : 1;
}
