// PS-Eval runner: a hand-checked dataset on a GPT-2 whose position embedding
// is one-hot (so, at hook_pos_embed, an identity SAE's argmax feature IS the
// target position and every number can be worked out on paper), the skip
// reasons, reference-compat against clean, the batched sweep against a
// prompt-by-prompt run, senses (purity, NMI, PCA), the workspace (reuse,
// invalidation, cancellation) and the CLI.
#include <ATen/ATen.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/common/error.h"
#include "core/common/runtime_info.h"
#include "core/io/safetensors.h"
#include "core/model/gpt2/gpt2.h"
#include "core/polysemy/dataset_writers.h"
#include "core/polysemy/pseval_collector.h"
#include "core/workflows/pseval_job.h"
#include "core/polysemy/pseval_pca.h"
#include "core/polysemy/pseval_plan.h"
#include "core/polysemy/pseval_report.h"
#include "core/polysemy/pseval_runner.h"
#include "core/polysemy/sense_pairs.h"
#include "core/polysemy/wordnet_occurrences.h"
#include "core/sae/sae_folder.h"
#include "core/store/evaluation_store.h"
#include "core/store/workspace.h"
#include "core/polysemy/corpus_occurrences.h"
#include "core/tokenizer/bpe_tokenizer.h"

using namespace saescope;
using namespace saescope::polysemy;
namespace fs = std::filesystem;

namespace {

const std::string kTokenizerDir = std::string(SAESCOPE_SHARED_DIR) + "/data/gpt2-tokenizer";
const std::string kWordNetMini = std::string(SAESCOPE_FIXTURES_DIR) + "/polysemy/wordnet_mini";

const tokenizer::BpeTokenizer& tok() {
  static const tokenizer::BpeTokenizer t = tokenizer::load_tokenizer(kTokenizerDir);
  return t;
}

std::string out_dir(const std::string& name) {
  const fs::path dir = fs::path(SAESCOPE_TEST_OUTPUT_DIR) / "pseval" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

// A context of n tokens: "a b c ..." (every letter is one GPT-2 token).
std::string ctx(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += (i ? " " : "") + std::string(1, static_cast<char>('a' + i % 26));
  return s;
}

WordPair pair(const std::string& word, const std::string& c1, const std::string& c2, bool same) {
  WordPair p;
  p.target_word = word;
  p.context_1 = c1;
  p.context_2 = c2;
  p.same_sense = same;
  return p;
}

SenseOccurrence occurrence(const std::string& word, const std::string& sense, const std::string& context,
                           std::optional<CharSpan> span = std::nullopt) {
  SenseOccurrence o;
  o.word = word;
  o.sense_id = sense;
  o.gloss = "gloss of " + sense;
  o.context = context;
  o.span = span;
  return o;
}

// ----- the position model: pos_embed[p] = e_p for p < 12, 0 beyond -----

model::Gpt2Config position_config() {
  model::Gpt2Config c;
  c.n_layer = 1, c.d_model = 16, c.n_head = 2, c.d_head = 8, c.d_mlp = 64;
  c.n_positions = 32, c.vocab_size = 50257, c.bos_token_id = c.eos_token_id = 50256;
  return c;
}

model::Gpt2Weights position_weights() {
  model::Gpt2Weights w = model::random_gpt2_weights(position_config(), 3);
  w.pos_embed.zero_();
  w.pos_embed.slice(0, 0, 12).slice(1, 0, 12).copy_(at::eye(12));
  return w;
}

const model::Gpt2& position_model() {
  static const model::Gpt2 m(position_config(), position_weights());
  return m;
}

sae::SaeConfig sae_config(const std::string& hook, int64_t d_in, int64_t d_sae) {
  sae::SaeConfig c;
  c.d_in = d_in;
  c.d_sae = d_sae;
  c.meta.hook_name = hook;
  c.meta.model_name = "tiny-test-gpt2";
  c.meta.model_from_pretrained_kwargs = {{"center_writing_weights", false}};
  c.center_writing_weights = false;
  c.center_writing_weights_source = "model_from_pretrained_kwargs";
  return c;
}

// Identity encoder: the code is the input, so the argmax is the target
// position. Decoder row i = e_i + e_(i+1): cos(row i, row i+1) = 1/2.
sae::Sae position_sae() {
  sae::SaeWeights w;
  w.W_enc = at::eye(16);
  w.b_enc = at::zeros({16});
  w.b_dec = at::zeros({16});
  w.W_dec = at::eye(16) + at::eye(16).roll(1, 1);
  return sae::Sae(sae_config("hook_pos_embed", 16, 16), w, "position-sae");
}

sae::Sae random_sae(const std::string& hook, int64_t d_in, int64_t d_sae, uint64_t seed,
                    sae::Architecture arch = sae::Architecture::Standard) {
  at::manual_seed(seed);
  sae::SaeConfig c = sae_config(hook, d_in, d_sae);
  c.architecture = arch;
  if (arch == sae::Architecture::TopK) c.k = 8;
  c.meta.extra["l1_coefficient"] = 5.0;
  sae::SaeWeights w;
  w.W_enc = at::randn({d_in, d_sae});
  w.b_enc = at::randn({d_sae}) * 0.1;
  w.b_dec = at::randn({d_in}) * 0.1;
  w.W_dec = at::randn({d_sae, d_in});
  return sae::Sae(c, w, "random-sae-" + std::to_string(seed));
}

// Hand-checked pairs (word "bank"; target position = context tokens + 2, the
// identity SAE's feature; positions >= 12 give an all-zero code):
std::vector<WordPair> clean_pairs() {
  return {
      pair("bank", ctx(2), ctx(2), true),    // 4, 4   TP
      pair("bank", ctx(2), ctx(3), true),    // 4, 5   FN
      pair("bank", ctx(3), ctx(3), false),   // 5, 5   FP
      pair("bank", ctx(1), ctx(4), false),   // 3, 6   TN
      pair("bank", ctx(2), ctx(5), false),   // 4, 7   TN
      pair("bank", ctx(9), ctx(9), true),    // 11, 11 TP (prompt 1 has 13 tokens; the 13th is zero)
      pair("xqzv", ctx(2), ctx(2), true),    // " xqzv" is 4 tokens: multi_token
      pair("bank", ctx(10), ctx(2), false),  // 12: all-zero code
      pair("bank", ctx(29), ctx(2), true),   // 33 tokens > 32: too_long
      pair("bank", ctx(4), ctx(1), false),   // 6, 3   TN
  };
}

// Pairs on which the reference script's rules and the clean procedure differ.
std::vector<WordPair> compat_pairs() {
  return {
      pair("bank", "a bank", "a b bank", false),                              // P1 4,5: TN both
      pair("bank", "a b", "c d", false),                                      // P2 no 2nd " bank": ref drops; clean FP
      pair("bank", "a bank", "c bank", true),                                 // P3 TP
      pair("bank", "a b c bank", "a bank", true),                             // P4 6,4 FN
      pair("bank", "a bank", "b bank", true),                                 // P5 TP
      pair("bank", "a b c d e f g h i bank", "b c d e f g h i j bank", false),  // P6 zero codes
      pair("bank", "a b bank", "c d bank", true),                             // P7 TP (ref: truncated away)
      pair("bank", "a banks c banks", "a bank", false),  // P8 ref reads the 2nd " banks" (4): FP; clean 6,4 TN
  };
}

std::vector<SenseOccurrence> clean_occurrences() {
  return {
      occurrence("bank", "A", ctx(2)),                 // 4
      occurrence("bank", "A", ctx(2)),                 // 4 (the same prompt)
      occurrence("bank", "A", ctx(3)),                 // 5
      occurrence("bank", "B", "a b c d e"),            // 7
      occurrence("bank", "B", "b c d e f"),            // 7
      occurrence("bank", "B", ctx(10)),                // 12: all-zero code
      occurrence("spring", "S", ctx(1)),               // 3
      occurrence("xqzv", "X", ctx(1)),                 // multi_token
  };
}

double entropy(std::vector<double> p) {
  double h = 0;
  for (double x : p) h -= x * std::log(x);
  return h;
}

template <typename F>
QString input_error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return QString::fromStdString(e.what());
  }
  return {};
}

// ----- files for the job, workspace and CLI tests -----

struct Files {
  std::string model, pos_sae, rand_sae, pairs, occurrences;
};

Files write_files(const std::string& name) {
  Files f;
  const std::string dir = out_dir(name);
  f.model = dir + "/model";
  fs::create_directories(f.model);
  const model::Gpt2Config c = position_config();
  std::ofstream(f.model + "/config.json") << nlohmann::json{
      {"model_type", "gpt2"}, {"n_embd", c.d_model}, {"n_layer", c.n_layer}, {"n_head", c.n_head},
      {"n_positions", c.n_positions}, {"vocab_size", c.vocab_size}, {"n_inner", c.d_mlp},
      {"bos_token_id", c.bos_token_id}, {"eos_token_id", c.eos_token_id}}.dump(2);
  io::write_safetensors(f.model + "/model.safetensors", model::hf_named_tensors(position_weights()));
  for (const char* file : {"vocab.json", "merges.txt"})
    fs::copy_file(kTokenizerDir + "/" + file, f.model + "/" + file);
  f.pos_sae = dir + "/sae_pos";
  f.rand_sae = dir + "/sae_rand";
  sae::save_sae(position_sae(), f.pos_sae);
  sae::save_sae(random_sae("blocks.0.hook_resid_post", 16, 32, 11), f.rand_sae);
  f.pairs = dir + "/pairs.jsonl";
  write_pairs_jsonl(f.pairs, clean_pairs());
  f.occurrences = dir + "/occurrences.jsonl";
  write_occurrences_jsonl(f.occurrences, clean_occurrences());
  return f;
}

PsEvalJob job_for(const Files& f, const std::string& workspace) {
  PsEvalJob job;
  job.model_dir = f.model;
  job.sae_dirs = {f.pos_sae, f.rand_sae};
  job.dataset_path = f.pairs;
  job.occurrences_path = f.occurrences;
  job.workspace_path = workspace;
  job.options.batch_size = 4;
  return job;
}

}  // namespace

class TestPsEval : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { saescope::set_engine_threads(2); }

  // ----- prompts and targets -----

  void templateFillsAndRefusesBadFields() {
    const FilledPrompt p = fill_prompt_template(kDefaultPromptTemplate, "He sat.", "bank");
    QCOMPARE(QString::fromStdString(p.text), QStringLiteral("He sat. The bank means"));
    QCOMPARE(p.context_offset, std::size_t(0));
    const FilledPrompt q = fill_prompt_template("{{{target_word}}}: {context}", "x", "bank");
    QCOMPARE(QString::fromStdString(q.text), QStringLiteral("{bank}: x"));
    QCOMPARE(q.context_offset, std::size_t(8));
    QVERIFY(input_error_of([] { check_prompt_template("The {target_word} means"); }).contains("no {context}"));
    QVERIFY(input_error_of([] { check_prompt_template("{context} {word}"); }).contains("unknown field {word}"));
    QVERIFY(input_error_of([] { check_prompt_template("{context"); }).contains("never closed"));
    QVERIFY(input_error_of([] { check_prompt_template("{context} }"); }).contains("single '}'"));
  }

  void planFindsTargetsAndSkipsByReason() {
    const PromptPlan plan = plan_prompts(tok(), model::gpt2_info(position_config()), clean_pairs(), {},
                                         PlanOptions{kDefaultPromptTemplate, TargetRule::template_word, false});
    QCOMPARE(plan.pairs.size(), std::size_t(10));
    const auto& p0 = plan.prompts[static_cast<std::size_t>(plan.pairs[0].prompt_1)];
    QCOMPARE(p0.ids.front(), int64_t(50256));      // BOS
    QCOMPARE(p0.target, int64_t(4));               // BOS a b The [bank]
    QCOMPARE(p0.ids[4], int64_t(3331));            // " bank"
    QVERIFY(p0.first_of_pair);
    QCOMPARE(plan.pairs[6].skip, std::optional<SkipReason>(SkipReason::multi_token));
    QCOMPARE(plan.pairs[8].skip, std::optional<SkipReason>(SkipReason::too_long));
    QVERIFY(!plan.pairs[7].skip);  // all-zero is the SAE's business, not the plan's
    // Distinct prompts only: contexts of 1, 2, 3, 4, 5, 9 and 10 tokens.
    QCOMPARE(plan.prompts.size(), std::size_t(7));
    QCOMPARE(plan.prompt_uses, std::size_t(18));
    QCOMPARE(plan.pairs[0].prompt_1, plan.pairs[1].prompt_1);
  }

  void charSpanRuleMismatchAndMultiToken() {
    WordPair a = pair("bank", "a bank", "a banks", true);
    a.span_1 = CharSpan{2, 6};
    a.span_2 = CharSpan{2, 7};  // " banks" is another token than " bank"
    WordPair b = pair("bankroll", "a bankroll", "a bankroll", true);
    b.span_1 = b.span_2 = CharSpan{2, 10};  // " bank" + "roll"
    WordPair c = pair("bank", "a bank", "b bank", true);  // no spans
    WordPair d = pair("bank", "a bank", "b bank", true);
    d.span_1 = d.span_2 = CharSpan{2, 6};
    const PromptPlan plan = plan_prompts(tok(), model::gpt2_info(position_config()), {a, b, c, d}, {},
                                         PlanOptions{kDefaultPromptTemplate, TargetRule::char_span, false});
    QCOMPARE(plan.pairs[0].skip, std::optional<SkipReason>(SkipReason::token_mismatch));
    QCOMPARE(plan.pairs[1].skip, std::optional<SkipReason>(SkipReason::multi_token));
    QCOMPARE(plan.pairs[2].skip, std::optional<SkipReason>(SkipReason::not_found));
    QVERIFY(!plan.pairs[3].skip);
    QCOMPARE(plan.prompts[static_cast<std::size_t>(plan.pairs[3].prompt_1)].target, int64_t(2));  // the context's word
    // The template-word rule on the same pair reads the template's word.
    const PromptPlan tw = plan_prompts(tok(), model::gpt2_info(position_config()), {d}, {},
                                       PlanOptions{kDefaultPromptTemplate, TargetRule::template_word, false});
    QCOMPARE(tw.prompts[static_cast<std::size_t>(tw.pairs[0].prompt_1)].target, int64_t(4));
  }

  void argmaxTiesGoToTheLowestIndex() {
    const at::Tensor codes = at::tensor({0.f, 2.f, 1.f, 2.f, 0.f, 0.f, 0.f, 0.f, 3.f, 3.f, 3.f, 1.f}).view({3, 4});
    const auto picks = argmax_picks(codes);
    QCOMPARE(picks[0].feature, int64_t(1));
    QCOMPARE(picks[0].activation, 2.f);
    QVERIFY(!picks[0].all_zero);
    QVERIFY(picks[1].all_zero);
    QCOMPARE(picks[1].feature, int64_t(0));
    QCOMPARE(picks[2].feature, int64_t(0));
  }

  // ----- the hand-checked run -----

  void confusionAndEveryMetricByHand() {
    const sae::Sae s = position_sae();
    const PsEvalRun run = run_pseval(position_model(), tok(), {{&s, "pos", {}}}, clean_pairs(), {}, PsEvalOptions{});
    QCOMPARE(run.saes.size(), std::size_t(1));
    const PsEvalScore& r = run.saes[0];
    QCOMPARE(QString::fromStdString(r.hook), QStringLiteral("hook_pos_embed"));
    const Confusion& c = r.pairs.confusion;
    QCOMPARE(c.tp, std::size_t(2));
    QCOMPARE(c.fn, std::size_t(1));
    QCOMPARE(c.fp, std::size_t(1));
    QCOMPARE(c.tn, std::size_t(3));
    const ClassificationMetrics& m = r.pairs.metrics;
    QVERIFY(std::abs(m.accuracy - 5.0 / 7) < 1e-12);
    QVERIFY(std::abs(m.precision - 2.0 / 3) < 1e-12);
    QVERIFY(std::abs(m.recall - 2.0 / 3) < 1e-12);
    QVERIFY(std::abs(m.specificity - 3.0 / 4) < 1e-12);
    QVERIFY(std::abs(m.f1 - 2.0 / 3) < 1e-12);
    const auto skipped = [&](SkipReason why) { return r.pairs.skipped[static_cast<std::size_t>(why)]; };
    QCOMPARE(skipped(SkipReason::multi_token), std::size_t(1));
    QCOMPARE(skipped(SkipReason::all_zero), std::size_t(1));
    QCOMPARE(skipped(SkipReason::too_long), std::size_t(1));
    QCOMPARE(skipped(SkipReason::token_mismatch), std::size_t(0));
    QCOMPARE(skipped(SkipReason::not_found), std::size_t(0));
    // Encoder columns are one-hot: cos 1 for a shared feature, else 0.
    QVERIFY(std::abs(r.cos_enc.same - 2.0 / 3) < 1e-6);       // pairs 1, 2, 6
    QVERIFY(std::abs(r.cos_enc.different - 1.0 / 4) < 1e-6);  // pairs 3, 4, 5, 10
    // Decoder rows e_i + e_(i+1): pair 2 (4 vs 5) gives 1/2.
    QVERIFY(std::abs(r.cos_dec.same - 5.0 / 6) < 1e-6);
    QVERIFY(std::abs(r.cos_dec.different - 1.0 / 4) < 1e-6);
    QCOMPARE(r.cos_enc.same_pairs, std::size_t(3));
    // MSE/L0 on prompt 1 of the 7 kept pairs: every token with p < 12
    // reconstructs as e_p + e_(p+1) (error 1, one feature); pair 6's prompt
    // 1 has a 13th, zero token.
    QCOMPARE(r.reconstruction_prompts, std::size_t(7));
    QVERIFY(std::abs(r.mse - (6 + 12.0 / 13) / 7) < 1e-6);
    QVERIFY(std::abs(r.l0 - (6 + 12.0 / 13) / 7) < 1e-6);
    QCOMPARE(r.pairs.per_word.at("bank"), c);
    // The baseline's raw activation is the same one-hot vector.
    QCOMPARE(run.baselines.size(), std::size_t(1));
    QCOMPARE(run.baselines[0].pairs.confusion, c);
    QVERIFY(!run.baselines[0].has_geometry && !run.baselines[0].has_reconstruction);
    QCOMPARE(run.stats.prompts, std::size_t(7));
    // Only the prompt read solely at its target (5 context tokens, prompt 2
    // of pair 5) loses its trailing " means": 62 tokens in full, 61 run.
    QCOMPARE(run.stats.tokens, int64_t(61));
  }

  void referenceCompatDiffersAsDocumented() {
    const sae::Sae s = position_sae();
    PsEvalOptions clean_opts, compat_opts;
    compat_opts.reference_compat = true;
    const PsEvalScore clean = run_pseval(position_model(), tok(), {{&s, "pos", {}}}, compat_pairs(), {}, clean_opts).saes[0];
    const PsEvalScore compat = run_pseval(position_model(), tok(), {{&s, "pos", {}}}, compat_pairs(), {}, compat_opts).saes[0];
    // Clean: P2 FP, P6 skipped (all zero), P8 TN.
    QCOMPARE(clean.pairs.confusion.tp, std::size_t(3));
    QCOMPARE(clean.pairs.confusion.fn, std::size_t(1));
    QCOMPARE(clean.pairs.confusion.fp, std::size_t(1));
    QCOMPARE(clean.pairs.confusion.tn, std::size_t(2));
    QCOMPARE(clean.pairs.skipped[static_cast<std::size_t>(SkipReason::all_zero)], std::size_t(1));
    // Reference: P2 dropped by the lookup, P6 scored as feature 0 (FP), P8
    // reads the context's second " banks" (FP); 3 label-0 survivors keep the
    // first 3 label-1 pairs (P3, P4, P5): P7 is truncated away.
    QCOMPARE(compat.pairs.confusion.tp, std::size_t(2));
    QCOMPARE(compat.pairs.confusion.fn, std::size_t(1));
    QCOMPARE(compat.pairs.confusion.fp, std::size_t(2));
    QCOMPARE(compat.pairs.confusion.tn, std::size_t(1));
    QCOMPARE(compat.reference_lookup, std::size_t(1));
    QCOMPARE(compat.pairs.not_selected, std::size_t(1));
    QCOMPARE(compat.all_zero_as_feature_0, std::size_t(1));
    QCOMPARE(compat.pairs.skipped[static_cast<std::size_t>(SkipReason::all_zero)], std::size_t(0));
    // Geometry over every survivor, before the truncation (P7 included).
    QVERIFY(std::abs(compat.cos_enc.same - 3.0 / 4) < 1e-6);
    QVERIFY(std::abs(compat.cos_enc.different - 2.0 / 3) < 1e-6);
    QCOMPARE(compat.reconstruction_prompts, std::size_t(7));
    const auto j = pseval_score_json(compat, compat_opts);
    QCOMPARE(j["skipped"]["reference_lookup"].get<int>(), 1);
    QCOMPARE(j["skipped"]["not_found"].get<int>(), 0);
    QVERIFY(!pseval_score_json(clean, clean_opts)["skipped"].contains("reference_lookup"));
  }

  void sensesPurityNmiAndPca() {
    const sae::Sae s = position_sae();
    const PsEvalScore r =
        run_pseval(position_model(), tok(), {{&s, "pos", {}}}, {}, clean_occurrences(), PsEvalOptions{}).saes[0];
    QVERIFY(r.has_senses);
    std::vector<int64_t> features;
    for (const auto& o : r.occurrences) features.push_back(o.feature);
    QCOMPARE(features, (std::vector<int64_t>{4, 4, 5, 7, 7, -1, 3, -1}));
    QCOMPARE(r.occurrences[5].skipped, std::optional<SkipReason>(SkipReason::all_zero));
    QVERIFY(r.occurrences[5].has_code && !r.occurrences[7].has_code);
    QCOMPARE(r.occurrences[0].activation, 1.f);
    // bank: A -> 4, 4, 5; B -> 7, 7. Features never mix senses (purity 1);
    // sense A is split (inverse purity 4/5); NMI = 2 H(S) / (H(S) + H(F)).
    QCOMPARE(r.senses.words_averaged, std::size_t(1));  // spring has one sense
    const double hs = entropy({0.6, 0.4}), hf = entropy({0.4, 0.2, 0.4});
    QVERIFY(std::abs(r.senses.mean_purity - 1.0) < 1e-12);
    QVERIFY(std::abs(r.senses.mean_inverse_purity - 0.8) < 1e-12);
    QVERIFY(std::abs(r.senses.mean_nmi - 2 * hs / (hs + hf)) < 1e-12);
    QCOMPARE(r.senses.skipped[static_cast<std::size_t>(SkipReason::multi_token)], std::size_t(1));
    QCOMPARE(r.senses.skipped[static_cast<std::size_t>(SkipReason::all_zero)], std::size_t(1));
    // PCA of bank's six codes: equal codes, equal points; centred; distinct
    // codes apart.
    const auto& o = r.occurrences;
    QVERIFY(std::hypot(o[0].pca_x - o[1].pca_x, o[0].pca_y - o[1].pca_y) < 1e-9);
    QVERIFY(std::hypot(o[3].pca_x - o[4].pca_x, o[3].pca_y - o[4].pca_y) < 1e-9);
    double sx = 0, sy = 0;
    for (int i = 0; i < 6; ++i) sx += o[static_cast<std::size_t>(i)].pca_x, sy += o[static_cast<std::size_t>(i)].pca_y;
    QVERIFY(std::abs(sx) < 1e-9 && std::abs(sy) < 1e-9);
    QVERIFY(std::hypot(o[0].pca_x - o[3].pca_x, o[0].pca_y - o[3].pca_y) > 0.5);
    QCOMPARE(o[6].pca_x, 0.0);  // spring: a single point
  }

  void charSpanOccurrencesReadTheContextWord() {
    const sae::Sae s = position_sae();
    PsEvalOptions opts;
    opts.target = TargetRule::char_span;
    const PsEvalScore r = run_pseval(position_model(), tok(), {{&s, "pos", {}}}, {},
                                     {occurrence("bank", "A", "a b bank c", CharSpan{4, 8}),
                                      occurrence("bank", "B", "bank", CharSpan{0, 4}),
                                      occurrence("bank", "B", "a bank")},
                                     opts)
                              .saes[0];
    QCOMPARE(r.occurrences[0].feature, int64_t(3));
    QCOMPARE(r.occurrences[1].feature, int64_t(1));
    QCOMPARE(r.occurrences[2].skipped, std::optional<SkipReason>(SkipReason::not_found));
  }

  void pcaAxesAndSigns() {
    const at::Tensor rows = at::tensor({1.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, -2.0, 0.0}, at::kDouble).view({4, 3});
    const at::Tensor xy = pca_2d(rows);
    // First axis: the y direction (variance 2), the larger |coordinate| (2) positive.
    const double first = xy[2][0].item<double>(), second = xy[0][1].item<double>();
    QVERIFY(std::abs(std::abs(first) - 2) < 1e-9 && std::abs(xy[0][0].item<double>()) < 1e-9);
    QVERIFY(std::abs(std::abs(second) - 1) < 1e-9);
    QVERIFY(xy.select(1, 0).max().item<double>() > 1.99);
    QCOMPARE(pca_2d(rows.slice(0, 0, 1)).abs().sum().item<double>(), 0.0);
  }

  // ----- batching -----

  void batchedSweepEqualsPromptByPrompt() {
    model::Gpt2Config c;
    c.n_layer = 3, c.d_model = 32, c.n_head = 4, c.d_head = 8, c.d_mlp = 128;
    c.n_positions = 64, c.vocab_size = 50257, c.bos_token_id = c.eos_token_id = 50256;
    const model::Gpt2 gpt2(c, model::random_gpt2_weights(c, 5));
    const sae::Sae s0 = random_sae("blocks.0.hook_resid_post", 32, 64, 1);
    const sae::Sae s1 = random_sae("blocks.2.hook_resid_pre", 32, 64, 2, sae::Architecture::TopK);
    const sae::Sae s2 = random_sae("blocks.1.attn.hook_z", 32, 48, 3);
    const sae::Sae s3 = random_sae("blocks.0.hook_resid_post", 32, 96, 4);
    const std::vector<PsEvalSae> saes = {{&s0, "s0", {}}, {&s1, "s1", {}}, {&s2, "s2", {}}, {&s3, "s3", {}}};
    const auto wn = build_wordnet_occurrences(kWordNetMini);
    std::vector<WordPair> pairs = make_sense_pairs(wn.occurrences).pairs;
    for (const WordPair& p : clean_pairs()) pairs.push_back(p);
    QVERIFY(pairs.size() >= 20);

    PsEvalOptions batched, single;
    batched.batch_size = 5;
    single.batch_size = 1;
    const PsEvalRun a = run_pseval(gpt2, tok(), saes, pairs, wn.occurrences, batched);
    const PsEvalRun b = run_pseval(gpt2, tok(), saes, pairs, wn.occurrences, single);
    // One pass for all four SAEs at three hooks: ceil(prompts / 5) batches.
    QCOMPARE(a.stats.batches, static_cast<int64_t>((a.stats.prompts + 4) / 5));
    QVERIFY(a.stats.prompts < a.stats.prompt_uses);
    QVERIFY(a.stats.padded_tokens > a.stats.tokens);  // padding happened, and was harmless:
    QCOMPARE(a.baselines.size(), std::size_t(3));
    for (std::size_t i = 0; i < saes.size(); ++i) {
      const PsEvalScore &x = a.saes[i], &y = b.saes[i];
      QCOMPARE(x.pairs.confusion, y.pairs.confusion);
      QCOMPARE(x.pairs.per_word, y.pairs.per_word);
      QVERIFY(x.pairs.confusion.total() > 0);
      QVERIFY(std::abs(x.cos_enc.same - y.cos_enc.same) < 1e-9);
      QVERIFY(std::abs(x.cos_dec.different - y.cos_dec.different) < 1e-9);
      QVERIFY(std::abs(x.mse - y.mse) <= 1e-4 * std::abs(y.mse));
      QVERIFY(std::abs(x.l0 - y.l0) < 1e-9);
      for (std::size_t k = 0; k < x.occurrences.size(); ++k) {
        QCOMPARE(x.occurrences[k].feature, y.occurrences[k].feature);
        QVERIFY(std::abs(x.occurrences[k].pca_x - y.occurrences[k].pca_x) < 1e-3);
      }
    }
    for (std::size_t h = 0; h < a.baselines.size(); ++h)
      QCOMPARE(a.baselines[h].pairs.confusion, b.baselines[h].pairs.confusion);
    // Without MSE/L0 every prompt stops at its target: the same picks.
    PsEvalOptions trimmed = batched;
    trimmed.reconstruction = false;
    const PsEvalRun t = run_pseval(gpt2, tok(), saes, pairs, wn.occurrences, trimmed);
    QVERIFY(t.stats.tokens < a.stats.tokens);
    for (std::size_t i = 0; i < saes.size(); ++i) {
      QCOMPARE(t.saes[i].pairs.confusion, a.saes[i].pairs.confusion);
      for (std::size_t k = 0; k < t.saes[i].occurrences.size(); ++k)
        QCOMPARE(t.saes[i].occurrences[k].feature, a.saes[i].occurrences[k].feature);
    }

    // And against the plain procedure: one prompt, one SAE, one forward.
    const PromptPlan plan = plan_prompts(tok(), gpt2.info(), pairs, wn.occurrences,
                                         PlanOptions{kDefaultPromptTemplate, TargetRule::template_word, false});
    std::vector<SaeAtHook> at_hooks;
    for (const auto& s : saes) at_hooks.push_back({s.sae, s.sae->config().meta.hook_name});
    const Collected col = collect_picks(gpt2, plan, at_hooks, CollectOptions{7, true, true});
    for (std::size_t i = 0; i < saes.size(); ++i) {
      const std::string hook = at_hooks[i].hook;
      for (std::size_t p = 0; p < plan.prompts.size(); ++p) {
        const PlannedPrompt& prompt = plan.prompts[p];
        const model::RunResult one = gpt2.run(model::make_token_batch({prompt.ids}, gpt2.info(), false), {{hook}, {}});
        const at::Tensor value = position_major(one.hooks.at(hook))[0];
        const FeaturePick want = argmax_picks(saes[i].sae->encode(value.slice(0, prompt.target, prompt.target + 1)))[0];
        QCOMPARE(col.sae_picks[i][p].feature, want.feature);
        QVERIFY(std::abs(col.sae_picks[i][p].activation - want.activation) < 1e-4);
        if (!prompt.first_of_pair) continue;
        const sae::SaeOutput out = saes[i].sae->forward(value);
        const double mse = (out.reconstruction - value).pow(2).sum(1).mean().item<double>();
        QVERIFY(std::abs(col.mse[i][p] - mse) <= 1e-4 * mse);
      }
    }
  }

  void saeOnAHookOfAnotherWidthIsRefused() {
    const sae::Sae wrong = random_sae("blocks.0.mlp.hook_post", 16, 8, 9);  // hook_post is 64 wide
    QVERIFY(input_error_of([&] {
              run_pseval(position_model(), tok(), {{&wrong, "w", {}}}, clean_pairs(), {}, PsEvalOptions{});
            }).contains("64"));
    const sae::Sae nowhere = random_sae("", 16, 8, 9);
    QVERIFY(input_error_of([&] {
              run_pseval(position_model(), tok(), {{&nowhere, "n", {}}}, clean_pairs(), {}, PsEvalOptions{});
            }).contains("names no hook"));
    const sae::Sae pattern = random_sae("blocks.0.attn.hook_pattern", 16, 8, 9);
    QVERIFY(input_error_of([&] {
              run_pseval(position_model(), tok(), {{&pattern, "p", {}}}, clean_pairs(), {}, PsEvalOptions{});
            }).contains("attention pattern"));
  }

  // ----- workspace -----

  void workspaceReusesAndInvalidates() {
    const Files f = write_files("ws");
    const std::string ws_path = fs::path(f.model).parent_path().string() + "/ws.saescope";
    const PsEvalJobResult first = run_pseval_job(job_for(f, ws_path));
    QCOMPARE(first.saes.size(), std::size_t(2));
    QVERIFY(!first.saes[0].cached && !first.saes[1].cached);
    QVERIFY(first.stats.prompts > 0);
    const auto& m = first.saes[0].metrics;
    QCOMPARE(m["tp"].get<int>(), 2);
    QCOMPARE(m["fn"].get<int>(), 1);
    QCOMPARE(m["fp"].get<int>(), 1);
    QCOMPARE(m["tn"].get<int>(), 3);
    QVERIFY(std::abs(m["nmi"].get<double>() - 2 * entropy({0.6, 0.4}) / (entropy({0.6, 0.4}) + entropy({0.4, 0.2, 0.4}))) < 1e-9);
    QCOMPARE(m["baseline_at_hook"]["tp"].get<int>(), 2);
    QCOMPARE(first.baselines.size(), std::size_t(2));

    {
      auto ws = store::Workspace::open(ws_path);
      const auto results = ws->results("pseval");
      QCOMPARE(results.size(), std::size_t(2));
      store::EvaluationStore es(ws->db());
      const auto words = es.word_confusions(first.saes[0].result_id);
      QCOMPARE(words.size(), std::size_t(1));
      QCOMPARE(words[0].tp, int64_t(2));
      QCOMPARE(words[0].tn, int64_t(3));
      const auto occ = es.occurrences(first.saes[0].result_id, "bank");
      QCOMPARE(occ.size(), std::size_t(6));
      QCOMPARE(occ[2].argmax_feature, int64_t(5));
      QCOMPARE(occ[5].argmax_feature, int64_t(-1));
      QCOMPARE(es.senses(first.saes[0].result_id, "bank").size(), std::size_t(2));
      // The word's own separation scores are stored with it (one word: the
      // word's NMI is the mean the metrics report).
      const auto score = es.word_score(first.saes[0].result_id, "bank");
      QVERIFY(score.has_value());
      QCOMPARE(score->occurrences, int64_t(5));  // the all-zero occurrence is not scored
      QVERIFY(std::abs(score->nmi - m["nmi"].get<double>()) < 1e-12);
      QVERIFY(std::abs(score->purity - m["purity"].get<double>()) < 1e-12);
      const auto saes = ws->inputs(store::InputKind::Sae);
      QCOMPARE(saes.size(), std::size_t(2));
      QCOMPARE(QString::fromStdString(saes[1].config["hook_name"].get<std::string>()),
               QStringLiteral("blocks.0.hook_resid_post"));
      QCOMPARE(saes[1].config["l1_coefficient"].get<double>(), 5.0);
      QCOMPARE(saes[1].config["d_sae"].get<int>(), 32);
      QCOMPARE(results[0].params["reference_compat"].get<bool>(), false);
    }

    // Same request (through an open workspace, as the GUI holds one):
    // nothing computed, the same numbers and per-word rows.
    auto open_ws = store::Workspace::open(ws_path);
    PsEvalJob again = job_for(f, "");
    again.workspace = open_ws.get();
    const PsEvalJobResult second = run_pseval_job(again);
    QVERIFY(second.saes[0].cached && second.saes[1].cached);
    QCOMPARE(second.stats.prompts, std::size_t(0));
    QCOMPARE(second.saes[0].result_id, first.saes[0].result_id);
    QCOMPARE(second.saes[1].metrics["f1"].get<double>(), first.saes[1].metrics["f1"].get<double>());
    QCOMPARE(second.baselines.size(), std::size_t(2));
    QCOMPARE(second.saes[0].per_word.size(), first.saes[0].per_word.size());
    QCOMPARE(second.saes[0].per_word[0].senses.nmi, first.saes[0].per_word[0].senses.nmi);
    QCOMPARE(second.saes[0].per_word[0].confusion, first.saes[0].per_word[0].confusion);

    // A changed SAE file is computed again; the other one is still reused.
    sae::save_sae(random_sae("blocks.0.hook_resid_post", 16, 32, 12), f.rand_sae);
    const PsEvalJobResult third = run_pseval_job(job_for(f, ws_path));
    QVERIFY(third.saes[0].cached);
    QVERIFY(!third.saes[1].cached);
    QVERIFY(third.saes[1].result_id != first.saes[1].result_id);

    // A changed parameter is another result.
    PsEvalJob compat = job_for(f, ws_path);
    compat.options.reference_compat = true;
    QVERIFY(!run_pseval_job(compat).saes[0].cached);
  }

  void corpusOccurrencesAreShownNotScored() {
    const Files f = write_files("corpus_occ");
    const std::string corpus = fs::path(f.model).parent_path().string() + "/corpus.jsonl";
    std::ofstream(corpus) << nlohmann::json{{"text", "We walked to the bank. Then the bank closed early."}}.dump()
                          << "\n"
                          << nlohmann::json{{"text", "A banker is not a bank! The bank of a river."}}.dump()
                          << "\n";
    const auto found = find_corpus_occurrences(corpus, {"bank", "spring"}, {2, 300});
    QCOMPARE(found.size(), std::size_t(2));  // the first two of "bank"; no "spring", not "banker"
    QCOMPARE(QString::fromStdString(found[0].context), QStringLiteral("We walked to the bank."));
    QCOMPARE(QString::fromStdString(found[1].context), QStringLiteral("Then the bank closed early."));
    QCOMPARE(found[1].span->start, std::size_t(9));
    QVERIFY(found[0].sense_id.empty());

    const std::string ws_path = fs::path(f.model).parent_path().string() + "/ws.saescope";
    const PsEvalJobResult plain = run_pseval_job(job_for(f, ""));
    PsEvalJob job = job_for(f, ws_path);
    job.corpus_path = corpus;
    job.corpus_per_word = 3;
    const PsEvalJobResult with = run_pseval_job(job);
    // Purity and NMI are over the labelled occurrences only: unchanged.
    QCOMPARE(with.saes[0].metrics["nmi"].get<double>(), plain.saes[0].metrics["nmi"].get<double>());
    QCOMPARE(with.saes[0].metrics["purity"].get<double>(), plain.saes[0].metrics["purity"].get<double>());
    QCOMPARE(with.occurrences, plain.occurrences + 3);
    auto ws = store::Workspace::open(ws_path);
    store::EvaluationStore es(ws->db());
    const auto rows = es.occurrences(with.saes[0].result_id, "bank");
    int unlabelled = 0;
    for (const auto& r : rows) unlabelled += r.sense_id.empty();
    QCOMPARE(unlabelled, 3);
    QCOMPARE(es.senses(with.saes[0].result_id, "bank").size(), std::size_t(2));  // no "" sense
    QCOMPARE(with.saes[0].per_word[0].senses.nmi, plain.saes[0].per_word[0].senses.nmi);
    // Another corpus setting is another result.
    job.corpus_per_word = 1;
    QVERIFY(!run_pseval_job(job).saes[0].cached);
  }

  void jobRefusesEmptyInput() {
    const Files f = write_files("empty");
    PsEvalJob none = job_for(f, "");
    none.sae_dirs.clear();
    QVERIFY(input_error_of([&] { run_pseval_job(none); }).contains("no SAE"));
    const std::string empty = fs::path(f.model).parent_path().string() + "/empty.jsonl";
    std::ofstream(empty) << "\n";
    PsEvalJob nothing = job_for(f, "");
    nothing.dataset_path = empty;
    nothing.occurrences_path.clear();
    QVERIFY(input_error_of([&] { run_pseval_job(nothing); }).contains("no usable pair"));
  }

  void cancelledRunWritesNothing() {
    const Files f = write_files("cancel");
    const std::string ws_path = fs::path(f.model).parent_path().string() + "/ws.saescope";
    jobs::CancelFlag flag;
    flag.cancel();
    jobs::ProgressSink sink({}, &flag);
    bool cancelled = false;
    try {
      run_pseval_job(job_for(f, ws_path), &sink);
    } catch (const Cancelled&) {
      cancelled = true;
    }
    QVERIFY(cancelled);
    auto ws = store::Workspace::open(ws_path);
    QVERIFY(ws->results("pseval").empty());
    QVERIFY(ws->inputs().empty());
  }

  // ----- CLI -----

  void cliJsonShapeAndPerWordCsv() {
    const Files f = write_files("cli");
    const std::string csv = fs::path(f.model).parent_path().string() + "/per_word.csv";
    QProcess p;
    p.start(SAESCOPE_CLI_PATH, {"ps-eval", "--model", QString::fromStdString(f.model), "--sae",
                                QString::fromStdString(f.pos_sae), "--sae", QString::fromStdString(f.rand_sae),
                                "--dataset", QString::fromStdString(f.pairs), "--occurrences",
                                QString::fromStdString(f.occurrences), "--batch", "3", "--per-word",
                                QString::fromStdString(csv), "--json"});
    QVERIFY(p.waitForFinished(120000));
    const QByteArray err = p.readAllStandardError();
    QVERIFY2(p.exitCode() == 0, err.constData());
    QVERIFY(err.contains("ps-eval:"));  // the progress line
    const QJsonDocument doc = QJsonDocument::fromJson(p.readAllStandardOutput());
    QVERIFY(doc.isArray());
    const QJsonArray arr = doc.array();
    QCOMPARE(arr.size(), 4);  // two SAEs, then a baseline per hook
    for (int i = 0; i < 2; ++i) {
      const QJsonObject o = arr[i].toObject();
      for (const char* key : {"sae", "hook", "tp", "fp", "tn", "fn", "accuracy", "precision", "recall",
                              "specificity", "f1", "cos_enc", "cos_dec", "skipped", "pairs", "mse", "l0",
                              "purity", "nmi", "headline"})
        QVERIFY2(o.contains(QLatin1String(key)), key);
      QVERIFY(o["cos_enc"].toObject().contains("same") && o["cos_dec"].toObject().contains("different"));
      QCOMPARE(o["skipped"].toObject()["multi_token"].toInt(), 1);
      QCOMPARE(o["baseline"].toBool(), false);
    }
    QCOMPARE(arr[0].toObject()["hook"].toString(), QStringLiteral("hook_pos_embed"));
    QCOMPARE(arr[0].toObject()["tp"].toInt(), 2);
    QCOMPARE(arr[0].toObject()["pairs"].toInt(), 7);
    for (int i = 2; i < 4; ++i) {
      const QJsonObject o = arr[i].toObject();
      QVERIFY(o["baseline"].toBool());
      QVERIFY(o.contains("hook") && o.contains("f1") && o.contains("skipped"));
      QVERIFY(!o.contains("cos_enc"));
    }
    std::ifstream in(csv);
    std::stringstream text;
    text << in.rdbuf();
    const QString s = QString::fromStdString(text.str());
    QVERIFY2(s.startsWith("sae,hook,word,tp,fp,tn,fn,pairs,accuracy,f1,occurrences,senses,features,purity,"
                          "inverse_purity,nmi\n"),
             qPrintable(s));
    QVERIFY2(s.contains(QString::fromStdString(f.pos_sae) + ",hook_pos_embed,bank,2,1,3,1,7,"), qPrintable(s));
    QVERIFY(s.contains(",spring,,,,,,,,1,1,1,1,1,"));  // occurrences only

    QProcess table;
    table.start(SAESCOPE_CLI_PATH, {"ps-eval", "--model", QString::fromStdString(f.model), "--sae",
                                    QString::fromStdString(f.pos_sae), "--dataset", QString::fromStdString(f.pairs),
                                    "--reference-compat"});
    QVERIFY(table.waitForFinished(120000));
    QCOMPARE(table.exitCode(), 0);
    const QString out = QString::fromUtf8(table.readAllStandardOutput());
    QVERIFY2(out.contains("F1*") && out.contains("baseline") && out.contains("REFERENCE-COMPAT"), qPrintable(out));
  }

  void cliBadInputExitsTwo() {
    const Files f = write_files("cli_bad");
    const QString model = QString::fromStdString(f.model), sae = QString::fromStdString(f.pos_sae),
                  pairs = QString::fromStdString(f.pairs);
    const QList<QStringList> cases = {
        {"ps-eval", "--model", model, "--sae", sae, "--dataset", pairs, "--template", "The {target_word}"},
        {"ps-eval", "--model", model, "--sae", sae, "--dataset", pairs + ".missing"},
        {"ps-eval", "--model", model, "--sae", sae, "--dataset", pairs, "--target", "span"},
        {"ps-eval", "--model", model, "--sae", sae, "--dataset", pairs, "--batch", "0"},
        {"ps-eval", "--model", model, "--sae", sae, "--dataset", pairs, "--center-writing-weights", "yes"},
        {"ps-eval", "--model", model, "--dataset", pairs}};
    for (const QStringList& args : cases) {
      QProcess p;
      p.start(SAESCOPE_CLI_PATH, args);
      QVERIFY(p.waitForFinished(60000));
      QVERIFY2(p.exitCode() == 2, qPrintable(args.join(' ') + "\n" + p.readAllStandardError()));
    }
  }
};

QTEST_GUILESS_MAIN(TestPsEval)
#include "test_pseval.moc"
