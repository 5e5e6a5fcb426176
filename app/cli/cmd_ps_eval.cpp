// `saescope-cli ps-eval`: PS-Eval (../shared/docs/pseval.md) of one or more
// SAEs on a word-in-context dataset, with the no-SAE baseline at each hook.
// Every distinct prompt runs through the model once for all the SAEs.
// Progress on stderr; the report on stdout (--json: one JSON array holding one
// object per SAE, then one per hook for the baseline).
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "app/cli/distributed_options.h"
#include "core/common/error.h"
#include "core/common/progress.h"
#include "core/workflows/pseval_job.h"

namespace saescope::cli {
namespace {

using namespace saescope::polysemy;

struct PsEvalArgs {
  PsEvalJob job;
  std::string target = "template-word";
  std::string centering = "auto";
  std::string per_word_csv;
  bool no_baseline = false, no_mse = false, as_json = false;
  DistributedOptions dist;
};

std::string fixed(const nlohmann::ordered_json& j, const char* key, int decimals = 3) {
  if (!j.contains(key) || !j[key].is_number()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, j[key].get<double>());
  return buf;
}

std::string count(const nlohmann::ordered_json& j, const char* key) {
  return j.contains(key) ? j[key].dump() : "-";
}

std::size_t skipped_total(const nlohmann::ordered_json& j) {
  std::size_t n = 0;
  if (j.contains("skipped"))
    for (const auto& [reason, c] : j["skipped"].items()) n += c.get<std::size_t>();
  return n;
}

void print_table(const PsEvalArgs& a, const PsEvalJobResult& r) {
  std::printf("PS-Eval of %zu SAE(s) on %s: %zu pairs%s, template \"%s\", %s\n", r.saes.size(),
              a.job.dataset_path.c_str(), r.pairs,
              r.occurrences ? (", " + std::to_string(r.occurrences) + " sense-labelled occurrences").c_str() : "",
              a.job.options.prompt_template.c_str(),
              a.job.options.reference_compat ? "REFERENCE-COMPAT (gouki510/PS-Eval filtering and truncation)"
                                             : "clean procedure");
  std::printf("%-32s %-26s %6s %6s %6s %6s %6s %6s %6s %6s %6s %6s %7s %13s %13s %9s %7s %6s %6s\n",
              "sae", "hook", "F1*", "acc", "prec", "recall", "spec", "TP", "FP", "TN", "FN", "pairs",
              "skipped", "cos_enc s/d", "cos_dec s/d", "MSE", "L0", "purity", "NMI");
  const auto row = [](const std::string& name, const nlohmann::ordered_json& j) {
    const auto pair = [&](const char* key) {
      if (!j.contains(key)) return std::string("-");
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.2f/%.2f", j[key]["same"].get<double>(), j[key]["different"].get<double>());
      return std::string(buf);
    };
    std::printf("%-32s %-26s %6s %6s %6s %6s %6s %6s %6s %6s %6s %6s %7zu %13s %13s %9s %7s %6s %6s\n",
                name.c_str(), j["hook"].get<std::string>().c_str(), fixed(j, "f1").c_str(),
                fixed(j, "accuracy").c_str(), fixed(j, "precision").c_str(), fixed(j, "recall").c_str(),
                fixed(j, "specificity").c_str(), count(j, "tp").c_str(), count(j, "fp").c_str(),
                count(j, "tn").c_str(), count(j, "fn").c_str(), count(j, "pairs").c_str(), skipped_total(j),
                pair("cos_enc").c_str(), pair("cos_dec").c_str(), fixed(j, "mse", 4).c_str(),
                fixed(j, "l0", 1).c_str(), fixed(j, "purity").c_str(), fixed(j, "nmi").c_str());
  };
  for (const PsEvalJobSae& s : r.saes) row(s.dir + (s.cached ? " (stored)" : ""), s.metrics);
  for (const auto& b : r.baselines) row("baseline: no SAE, raw argmax", b);
  std::printf("* F1 is the headline. Positive = both prompts share their argmax feature; label 1 (same "
              "meaning) -> TP/FN, label 0 -> FP/TN.\n  cos s/d = mean cosine of the two argmax "
              "features' W_enc columns / W_dec rows over same / different-meaning pairs.\n");
  if (!r.saes.empty() && r.saes[0].metrics.contains("skipped")) {
    std::printf("  skipped pairs of %s:", r.saes[0].dir.c_str());
    for (const auto& [reason, c] : r.saes[0].metrics["skipped"].items()) std::printf(" %s %s", reason.c_str(), c.dump().c_str());
    std::printf("\n");
  }
  if (r.stats.prompts)
    std::printf("  computed: %zu distinct prompts (%zu asked for), %lld forward batches, %lld tokens "
                "(%lld with padding), %.1f s\n",
                r.stats.prompts, r.stats.prompt_uses, static_cast<long long>(r.stats.batches),
                static_cast<long long>(r.stats.tokens), static_cast<long long>(r.stats.padded_tokens),
                r.stats.seconds);
}

int run_ps_eval(PsEvalArgs& a) {
  a.job.options.target = parse_target_rule(a.target);
  a.job.options.baseline = !a.no_baseline;
  a.job.options.reconstruction = !a.no_mse;
  a.job.per_word = !a.per_word_csv.empty();
  if (a.centering == "auto") a.job.centering = Centering::from_sae;
  else if (a.centering == "on") a.job.centering = Centering::on;
  else if (a.centering == "off") a.job.centering = Centering::off;
  else throw InputError("--center-writing-weights: expected auto, on or off, got '" + a.centering + "'");

  // Distributed (torchrun / launch): prompt batches split across ranks, picks
  // merged; rank 0 alone keeps the workspace and prints.
  join_ranks(a.dist);
  if (!prints_results()) a.job.workspace_path.clear();
  jobs::ProgressSink progress(prints_results() ? jobs::stderr_progress_line() : jobs::ProgressSink::Callback());
  const PsEvalJobResult r = run_pseval_job(a.job, &progress);
  if (!prints_results()) return 0;
  if (!r.dataset_issues.empty()) {
    std::cerr << r.dataset_issues.size() << " dataset line(s) could not be used fully, e.g.\n";
    for (std::size_t i = 0; i < r.dataset_issues.size() && i < 5; ++i) std::cerr << "  " << r.dataset_issues[i] << "\n";
  }
  if (!a.per_word_csv.empty()) {
    std::vector<PerWordRow> rows;
    for (const PsEvalJobSae& s : r.saes) rows.insert(rows.end(), s.per_word.begin(), s.per_word.end());
    write_per_word_csv(a.per_word_csv, rows);
    std::cerr << "wrote per-word results to " << a.per_word_csv << "\n";
  }
  if (a.as_json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const PsEvalJobSae& s : r.saes) {
      nlohmann::ordered_json j = s.metrics;
      j["cached"] = s.cached;
      if (s.result_id >= 0) j["result_id"] = s.result_id;
      out.push_back(std::move(j));
    }
    for (const auto& b : r.baselines) out.push_back(b);
    std::cout << out.dump(2) << "\n";
  } else {
    print_table(a, r);
  }
  return 0;
}

const bool registered = register_command(
    "ps-eval",
    "PS-Eval: do SAE features separate the meanings of polysemous words? (+ no-SAE baseline)",
    [](CLI::App* sub) {
      auto a = std::make_shared<PsEvalArgs>();
      sub->footer(
          "Procedure (clean, the default): prompt = template with BOS; target = the LAST token equal to "
          "the single token of \" \"+word; argmax SAE feature there (ties: lowest index); positive = "
          "both prompts share it. Pairs are skipped, by reason: multi_token, token_mismatch, all_zero, "
          "too_long, not_found. Reports accuracy, precision, recall, specificity and F1 (headline), "
          "W_enc/W_dec cosine of the two features per label, MSE and L0 (prompt 1, all positions), and "
          "the same scores for the raw activation's argmax dimension (baseline) at each hook.\n"
          "--reference-compat reproduces gouki510/PS-Eval wic_eval.py: its target lookup (drops pairs "
          "whose chosen token string occurs once: 'reference_lookup'), all-zero codes scored as "
          "feature 0, and its truncation (all surviving label-0 pairs, then the first that many label-1 "
          "pairs). Use it to match published numbers; the default is the clean procedure.");
      sub->add_option("--model", a->job.model_dir, "Hugging Face model folder")->check(non_empty_path())->required();
      sub->add_option("--tokenizer", a->job.tokenizer_dir,
                      "Folder with vocab.json + merges.txt or tokenizer.json (default: the model folder)");
      sub->add_option("--sae", a->job.sae_dirs, "SAE: a folder or .npz / .pt file in any layout sae-info reads (repeatable; all share one pass)")->check(non_empty_path())->required();
      sub->add_option("--dataset", a->job.dataset_path,
                      "Pairs: PS-Eval .jsonl/.json/.csv, a WiC folder, or sense-labelled occurrences .jsonl")->check(non_empty_path())
          ->required();
      sub->add_option("--split", a->job.split, "Only pairs of this split (e.g. test)");
      sub->add_option("--occurrences", a->job.occurrences_path,
                      "Sense-labelled occurrences (.jsonl, `senses wordnet` writes them): per-occurrence "
                      "features, purity, NMI, PCA")->check(non_empty_path());
      sub->add_option("--corpus", a->job.corpus_path,
                      "Also find unlabelled uses of the occurrence words in this corpus (.txt/.jsonl): "
                      "stored with their argmax feature for the Senses view, never scored")->check(non_empty_path());
      sub->add_option("--corpus-per-word", a->job.corpus_per_word,
                      "Unlabelled corpus uses per word (with --corpus)")
          ->capture_default_str();
      sub->add_option("--template", a->job.options.prompt_template,
                      "Prompt template with {context} and {target_word}")
          ->capture_default_str();
      sub->add_option("--target", a->target,
                      "template-word (the word in the template) or char-span (the word in the context)")
          ->capture_default_str();
      sub->add_flag("--reference-compat", a->job.options.reference_compat,
                    "Reproduce the reference script's filtering, all-zero handling and label-1 truncation");
      sub->add_option("--center-writing-weights", a->centering,
                      "auto (as each SAE's config says), on or off")
          ->capture_default_str();
      sub->add_flag("--no-baseline", a->no_baseline, "Skip the no-SAE baseline");
      sub->add_flag("--no-mse", a->no_mse, "Skip MSE and L0");
      sub->add_option("--per-word", a->per_word_csv, "Write per-word confusion and sense scores (CSV)");
      sub->add_option("--workspace", a->job.workspace_path,
                      "Workspace file: reuse stored results, store new ones")->check(non_empty_path());
      sub->add_option("--device", a->job.device, "cpu, cuda or cuda:N")->capture_default_str();
      sub->add_option("--dtype", a->job.dtype, "float32 or bfloat16")->capture_default_str();
      sub->add_option("--batch", a->job.options.batch_size, "Prompts per forward pass")->capture_default_str();
      sub->add_flag("--json", a->as_json, "Print a JSON array: one object per SAE, then the baselines");
      add_distributed_options(sub, a->dist);
      return [a] { return run_ps_eval(*a); };
    });

}  // namespace
}  // namespace saescope::cli
