// `saescope-cli senses`: polysemy datasets without a model.
//   senses wordnet  builds sense-labelled occurrences and WiC-style pairs from
//                   the WordNet 3.0 database (Debian: wordnet-base)
//   senses import   a sense set of one's own: a CSV (word, sense, sentence)
//                   into occurrences (and pairs) for ps-eval
//   senses read     loads any pair dataset (PS-Eval JSONL/JSON/CSV, WiC folder,
//                   occurrence JSONL) and reports counts and unusable lines
// Progress goes to stderr, the summary to stdout (--json for machines).
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "core/polysemy/custom_senses.h"
#include "core/polysemy/dataset_writers.h"
#include "core/polysemy/pair_dataset.h"
#include "core/polysemy/sense_pairs.h"
#include "core/polysemy/wordnet_occurrences.h"

namespace saescope::cli {
namespace {

using namespace saescope::polysemy;

struct WordNetArgs {
  std::string wordnet_dir = default_wordnet_dir();
  std::uint64_t seed = 0;
  double dev_fraction = 0.2;
  bool no_balance = false;
  std::string out_occurrences;
  std::string out_pairs;
  bool as_json = false;
};

nlohmann::ordered_json split_json(const SplitPairCounts& c) {
  return {{"words", c.words},
          {"same_sense_candidates", c.same_candidates},
          {"different_sense_candidates", c.different_candidates},
          {"same_sense_pairs", c.same_sense},
          {"different_sense_pairs", c.different_sense}};
}

int run_wordnet(const WordNetArgs& args) {
  const auto built = build_wordnet_occurrences(
      args.wordnet_dir, [](const std::string& line) { std::cerr << line << "\n"; });
  SensePairOptions options;
  options.seed = args.seed;
  options.dev_fraction = args.dev_fraction;
  options.balance_labels = !args.no_balance;
  options.id_prefix = "wn";
  const SensePairSet pairs = make_sense_pairs(built.occurrences, options);
  write_occurrences_jsonl(args.out_occurrences, built.occurrences);
  write_pairs_jsonl(args.out_pairs, pairs.pairs);
  std::cerr << "wrote " << args.out_occurrences << " and " << args.out_pairs << "\n";

  const WordNetBuildCounts& c = built.counts;
  const SensePairCounts& p = pairs.counts;
  if (args.as_json) {
    nlohmann::ordered_json j;
    j["wordnet_dir"] = args.wordnet_dir;
    j["seed"] = args.seed;
    j["dev_fraction"] = args.dev_fraction;
    j["balanced"] = !args.no_balance;
    j["synsets"] = c.synsets;
    j["synsets_with_examples"] = c.synsets_with_examples;
    j["examples"] = c.examples;
    j["examples_matched"] = c.examples_matched;
    j["examples_unmatched"] = c.examples_unmatched;
    j["lemma_misses"] = c.lemma_misses;
    j["ambiguous_occurrences_dropped"] = c.ambiguous_dropped;
    j["candidate_words"] = c.candidate_words;
    j["words"] = c.words;
    j["lemmas"] = c.lemmas;
    j["senses"] = c.senses;
    j["senses_with_2_examples"] = c.senses_with_2_examples;
    j["occurrences"] = c.occurrences;
    j["identical_contexts_skipped"] = p.identical_contexts_skipped;
    j["pairs"] = pairs.pairs.size();
    j["dev"] = split_json(p.dev);
    j["test"] = split_json(p.test);
    j["out_occurrences"] = args.out_occurrences;
    j["out_pairs"] = args.out_pairs;
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "wordnet      " << args.wordnet_dir << "\n"
            << "synsets      " << c.synsets << " (" << c.synsets_with_examples << " with examples)\n"
            << "examples     " << c.examples << ": " << c.examples_matched << " matched a lemma, "
            << c.examples_unmatched << " skipped (no lemma of the synset found)\n"
            << "words        " << c.words << " (lemma, POS) with examples in 2+ senses, "
            << c.lemmas << " distinct lemmas\n"
            << "senses       " << c.senses << " (" << c.senses_with_2_examples << " with 2+ examples)\n"
            << "occurrences  " << c.occurrences << " (" << c.ambiguous_dropped
            << " dropped: one sentence under 2+ senses of a word)\n";
  for (const auto& [name, s] : {std::pair<const char*, const SplitPairCounts&>{"dev", p.dev}, {"test", p.test}})
    std::cout << "pairs " << name << (name[0] == 'd' ? "    " : "   ") << s.same_sense << " same + "
              << s.different_sense << " different, " << s.words << " words (candidates "
              << s.same_candidates << " same, " << s.different_candidates << " different)\n";
  std::cout << "seed         " << args.seed << ", dev fraction " << args.dev_fraction << " of words, "
            << (args.no_balance ? "unbalanced" : "balanced by label") << "\n"
            << "wrote        " << args.out_occurrences << "\n"
            << "             " << args.out_pairs << "\n";
  return 0;
}

struct ReadArgs {
  std::string path;
  std::string split;
  bool strict = false;
  bool as_json = false;
  std::size_t max_issues = 20;
};

int run_read(const ReadArgs& args) {
  ReadOptions options;
  options.strict = args.strict;
  options.split = args.split;
  const PairDataset data = load_pair_dataset(args.path, options);
  std::size_t same = 0, spans = 0;
  std::map<std::string, std::size_t> splits;
  std::map<std::string, std::size_t> words;
  for (const auto& pair : data.pairs) {
    same += pair.same_sense ? 1 : 0;
    spans += pair.span_1 && pair.span_2 ? 1 : 0;
    ++splits[pair.split.empty() ? "(none)" : pair.split];
    ++words[pair.target_word];
  }
  const ReadReport& r = data.report;
  if (args.as_json) {
    nlohmann::ordered_json j;
    j["path"] = args.path;
    j["kind"] = dataset_kind_name(data.kind);
    j["records_seen"] = r.records_seen;
    j["records_kept"] = r.records_kept;
    j["pairs"] = data.pairs.size();
    j["same_sense"] = same;
    j["different_sense"] = data.pairs.size() - same;
    j["pairs_with_locations"] = spans;
    j["target_words"] = words.size();
    j["splits"] = splits;
    if (data.kind == DatasetKind::occurrences_jsonl) j["occurrences"] = data.occurrences.size();
    j["skipped_records"] = r.skipped_count();
    auto issues = nlohmann::ordered_json::array();
    for (const auto& issue : r.issues)
      issues.push_back({{"file", issue.file}, {"line", issue.line}, {"reason", issue.reason}, {"skipped", issue.skipped}});
    j["issues"] = issues;
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "dataset      " << args.path << " (" << dataset_kind_name(data.kind) << ")\n"
            << "records      " << r.records_seen << " read, " << r.records_kept << " kept, "
            << r.skipped_count() << " skipped\n";
  if (data.kind == DatasetKind::occurrences_jsonl)
    std::cout << "occurrences  " << data.occurrences.size() << " (pairs formed with seed 0)\n";
  std::cout << "pairs        " << data.pairs.size() << ": " << same << " same sense, "
            << data.pairs.size() - same << " different; " << words.size() << " target words; "
            << spans << " with both locations\n";
  std::cout << "splits      ";
  for (const auto& [name, n] : splits) std::cout << " " << name << "=" << n;
  std::cout << "\n";
  if (!r.issues.empty()) {
    std::cout << "issues       " << r.issues.size() << "\n";
    for (std::size_t i = 0; i < r.issues.size() && i < args.max_issues; ++i)
      std::cout << "  " << (r.issues[i].skipped ? "skipped " : "warning ") << format_issue(r.issues[i]) << "\n";
    if (r.issues.size() > args.max_issues)
      std::cout << "  ... " << r.issues.size() - args.max_issues << " more (--max-issues, --json)\n";
  }
  return 0;
}

struct ImportArgs {
  std::string csv, out, out_pairs;
  double dev_fraction = 0;
  bool as_json = false;
};

int run_import(const ImportArgs& a) {
  const CustomSenseSet set = import_custom_senses(a.csv);
  write_occurrences_jsonl(a.out, set.occurrences);
  SensePairCounts pair_counts;
  std::size_t pairs = 0;
  if (!a.out_pairs.empty()) {
    SensePairOptions options;
    options.dev_fraction = a.dev_fraction;
    options.id_prefix = "custom";
    const SensePairSet ps = make_sense_pairs(set.occurrences, options);
    write_pairs_jsonl(a.out_pairs, ps.pairs);
    pairs = ps.pairs.size();
  }
  if (a.as_json) {
    nlohmann::ordered_json j;
    j["csv"] = a.csv;
    j["out"] = a.out;
    j["words"] = set.words;
    j["senses"] = set.senses;
    j["occurrences"] = set.occurrences.size();
    if (!a.out_pairs.empty()) j["pairs"] = pairs;
    j["skipped"] = nlohmann::ordered_json::array();
    for (const auto& p : set.problems) j["skipped"].push_back({{"line", p.line}, {"problem", p.what}});
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "wrote " << a.out << ": " << set.occurrences.size() << " occurrences of " << set.words << " words, "
              << set.senses << " senses" << (a.out_pairs.empty() ? "" : "; " + std::to_string(pairs) + " pairs in " + a.out_pairs)
              << "\n";
  }
  for (const auto& p : set.problems) std::cerr << a.csv << ":" << p.line << ": skipped: " << p.what << "\n";
  return 0;
}

const bool registered = register_command(
    "senses", "Polysemy datasets: build from WordNet, import your own, read PS-Eval/WiC files", [](CLI::App* sub) {
      sub->require_subcommand(1);
      auto wn = std::make_shared<WordNetArgs>();
      CLI::App* wordnet = sub->add_subcommand(
          "wordnet", "Sense-labelled occurrences + WiC-style pairs from WordNet 3.0 examples");
      wordnet->add_option("--wordnet-dir", wn->wordnet_dir, "Folder with data.noun, noun.exc, ...")
          ->capture_default_str();
      wordnet->add_option("--seed", wn->seed, "Seed for the split and the sampling")->capture_default_str();
      wordnet->add_option("--dev-fraction", wn->dev_fraction, "Share of words in the dev split")
          ->capture_default_str();
      wordnet->add_flag("--no-balance", wn->no_balance, "Keep every pair instead of balancing labels");
      wordnet->add_option("--out-occurrences", wn->out_occurrences, "Occurrences JSONL to write")->required();
      wordnet->add_option("--out-pairs", wn->out_pairs, "Pairs JSONL (PS-Eval fields) to write")->required();
      wordnet->add_flag("--json", wn->as_json, "Print the summary as JSON");

      auto rd = std::make_shared<ReadArgs>();
      CLI::App* read = sub->add_subcommand("read", "Load a pair dataset and report counts and bad lines");
      read->add_option("path", rd->path, "PS-Eval .jsonl/.json/.csv, occurrences .jsonl, or a WiC folder")
          ->required();
      read->add_option("--split", rd->split, "Only this split");
      read->add_flag("--strict", rd->strict, "Stop at the first unusable line (exit code 2)");
      read->add_option("--max-issues", rd->max_issues, "Issues to list")->capture_default_str();
      read->add_flag("--json", rd->as_json, "Print as JSON, every issue included");

      auto im = std::make_shared<ImportArgs>();
      CLI::App* imp = sub->add_subcommand(
          "import", "A sense set of one's own: a CSV of word, sense, sentence into occurrences (and pairs)");
      imp->add_option("--csv", im->csv, "CSV: word, sense, sentence (a header row is allowed)")
          ->check(non_empty_path())->required();
      imp->add_option("--out", im->out, "Occurrences JSONL to write (give it to ps-eval --dataset)")
          ->check(non_empty_path())->required();
      imp->add_option("--out-pairs", im->out_pairs, "Also PS-Eval pairs JSONL within the set")->check(non_empty_path());
      imp->add_option("--dev-fraction", im->dev_fraction, "Share of words in the pairs' dev split")->capture_default_str();
      imp->add_flag("--json", im->as_json, "Print the summary and every skipped row as JSON");

      return [wordnet, wn, rd, imp, im] {
        if (wordnet->parsed()) return run_wordnet(*wn);
        if (imp->parsed()) return run_import(*im);
        return run_read(*rd);
      };
    });

}  // namespace
}  // namespace saescope::cli
