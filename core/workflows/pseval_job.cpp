#include "core/workflows/pseval_job.h"

#include <algorithm>

#include "core/workflows/run_inputs.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "core/polysemy/corpus_occurrences.h"
#include "core/common/error.h"
#include "core/common/sha256.h"
#include "core/distributed/process_group.h"
#include "core/workflows/input_probe.h"
#include "core/model/model_registry.h"
#include "core/model/model_summary.h"
#include "core/polysemy/occurrence_reader.h"
#include "core/polysemy/pair_dataset.h"
#include "core/polysemy/pseval_store.h"
#include "core/sae/formats/sae_formats.h"
#include "core/store/workspace.h"
#include "core/tokenizer/bpe_tokenizer.h"

namespace saescope::polysemy {
namespace {

namespace fs = std::filesystem;

struct LoadedSae {
  std::string dir;
  sae::Sae sae;
  nlohmann::json raw_cfg;  // cfg.json as written: for fields SaeConfig does not keep
  bool centred = true;
  bool fold_values = false;  // fold_value_biases (hook_v / hook_z SAEs of TransformerLens models)
  std::string hash, key;
  nlohmann::json params;
};

// What the GUI's evaluation table shows for an SAE input.
nlohmann::json sae_input_config(const LoadedSae& s) {
  nlohmann::json j = jobs::sae_input_config(s.sae.config(), s.raw_cfg);
  j["center_writing_weights"] = s.centred;  // as this run resolved it
  return j;
}

nlohmann::json model_input_config(const std::string& dir) {
  return model::model_summary_json(model::read_model_info(dir));
}

void add_stats(PsEvalStats& total, const PsEvalStats& s) {
  total.pairs = s.pairs;
  total.occurrences = s.occurrences;
  total.prompt_uses += s.prompt_uses;
  total.prompts += s.prompts;
  total.batches += s.batches;
  total.tokens += s.tokens;
  total.padded_tokens += s.padded_tokens;
  total.seconds += s.seconds;
}

// Distributed: rank 0 alone holds the workspace, so its stored results decide
// which SAEs run everywhere; then every rank must have been given the same
// files, compared by content hash before any work.
void agree_across_ranks(dist::ProcessGroup& group, const PsEvalJob& job, const std::vector<LoadedSae>& saes,
                        PsEvalJobResult& result, store::Workspace* ws) {
  at::Tensor stored = at::zeros({static_cast<int64_t>(saes.size())}, at::kLong);
  for (std::size_t i = 0; i < saes.size(); ++i) stored[static_cast<int64_t>(i)] = result.saes[i].cached ? 1 : 0;
  group.broadcast(stored, 0, "agreeing on which SAEs to evaluate");
  for (std::size_t i = 0; i < saes.size(); ++i) result.saes[i].cached = stored[static_cast<int64_t>(i)].item<int64_t>() != 0;
  const auto hash = [&](const std::string& path) { return ws ? ws->content_hash(path) : sha256_tree(path); };
  std::string fingerprint = hash(job.model_dir) + " " + hash(job.dataset_path);
  if (!job.occurrences_path.empty()) fingerprint += " " + hash(job.occurrences_path);
  if (!job.corpus_path.empty()) fingerprint += " " + hash(job.corpus_path);
  for (std::size_t i = 0; i < saes.size(); ++i)
    if (!result.saes[i].cached) fingerprint += " " + hash(saes[i].dir);
  group.check_same(fingerprint, "the model, SAE and dataset files");
}

}  // namespace

PsEvalJobResult run_pseval_job(const PsEvalJob& job, jobs::ProgressSink* progress) {
  if (job.sae_dirs.empty()) throw InputError("no SAE given: PS-Eval scores SAEs (--sae DIR)");
  check_prompt_template(job.options.prompt_template);
  const c10::Device device = model::parse_device(job.device);
  const at::ScalarType dtype = model::parse_dtype(job.dtype);
  PsEvalJobResult result;

  // Dataset: pairs, and sense-labelled occurrences when there are any.
  ReadOptions read;
  read.split = job.split;
  PairDataset data = load_pair_dataset(job.dataset_path, read);
  std::vector<SenseOccurrence> occurrences = std::move(data.occurrences);
  ReadReport occ_report;
  if (!job.occurrences_path.empty()) occurrences = read_occurrences_jsonl(job.occurrences_path, occ_report);
  for (const ReadReport* r : {&data.report, &occ_report})
    for (const ReadIssue& issue : r->issues) result.dataset_issues.push_back(format_issue(issue));
  const bool with_corpus = !job.corpus_path.empty() && job.corpus_per_word > 0 && !occurrences.empty();
  if (with_corpus) {
    std::set<std::string> words;
    for (const SenseOccurrence& o : occurrences) words.insert(o.word);
    CorpusOccurrenceOptions corpus_options;
    corpus_options.per_word = job.corpus_per_word;
    for (SenseOccurrence& o : find_corpus_occurrences(job.corpus_path, words, corpus_options))
      occurrences.push_back(std::move(o));
  }
  if (data.pairs.empty() && occurrences.empty())
    throw InputError(job.dataset_path + ": no usable pair" + (job.split.empty() ? "" : " in split '" + job.split + "'"));
  result.pairs = data.pairs.size();
  result.occurrences = occurrences.size();

  std::vector<LoadedSae> saes;
  for (const std::string& dir : job.sae_dirs) {
    LoadedSae s{dir, sae::open_sae(dir), jobs::read_raw_sae_cfg(dir), true, false, {}, {}, {}};
    const model::ModelOptions run = workflows::model_options_for(
        {{dir, &s.sae.config()}}, job.device, job.dtype,
        job.centering == Centering::from_sae ? std::nullopt : std::optional<bool>(job.centering == Centering::on));
    s.centred = run.center_writing_weights;
    s.fold_values = run.fold_value_biases;
    s.params = pseval_params(job.options, job.split, s.centred, model::dtype_name(dtype));
    if (s.fold_values) s.params["fold_value_biases"] = true;
    saes.push_back(std::move(s));
  }
  result.saes.resize(saes.size());
  for (std::size_t i = 0; i < saes.size(); ++i) result.saes[i].dir = saes[i].dir;

  // Reuse what the workspace already holds.
  std::unique_ptr<store::Workspace> opened;
  if (!job.workspace && !job.workspace_path.empty()) opened = store::Workspace::open(job.workspace_path);
  store::Workspace* ws = job.workspace ? job.workspace : opened.get();
  if (ws) {
    std::vector<std::string> hashes = {ws->content_hash(job.model_dir), "", ws->content_hash(job.dataset_path)};
    if (!job.occurrences_path.empty()) hashes.push_back("occurrences:" + ws->content_hash(job.occurrences_path));
    if (with_corpus)
      hashes.push_back("corpus:" + ws->content_hash(job.corpus_path) + ":" + std::to_string(job.corpus_per_word));
    if (!job.tokenizer_dir.empty()) hashes.push_back("tokenizer:" + ws->content_hash(job.tokenizer_dir));
    for (std::size_t i = 0; i < saes.size(); ++i) {
      LoadedSae& s = saes[i];
      s.hash = hashes[1] = ws->content_hash(s.dir);
      s.key = store::Workspace::result_key("pseval", hashes, s.params);
      const auto found = ws->find_result(s.key);
      if (!found || !found->done) continue;
      PsEvalJobSae& out = result.saes[i];
      out.cached = true;
      out.result_id = found->id;
      out.metrics = nlohmann::ordered_json::parse(found->metrics.dump());
      if (job.per_word) out.per_word = stored_per_word_rows(*ws, found->id, s.dir, s.sae.config().meta.hook_name);
    }
  }

  if (dist::ProcessGroup* group = dist::world()) agree_across_ranks(*group, job, saes, result, ws);

  // Compute the rest: one model (and one pass) per weight-processing setting.
  std::map<std::pair<bool, bool>, std::vector<std::size_t>> groups;  // (centred, values folded)
  for (std::size_t i = 0; i < saes.size(); ++i)
    if (!result.saes[i].cached) groups[{saes[i].centred, saes[i].fold_values}].push_back(i);
  // A baseline at a hook is per processing: folding changes hook_v / hook_z.
  const auto at_hook = [](const std::string& hook, bool folded) { return folded ? hook + "|fold_value_biases" : hook; };
  std::vector<std::optional<PsEvalScore>> computed(saes.size());
  std::optional<tokenizer::BpeTokenizer> tok;
  std::map<std::pair<std::string, bool>, nlohmann::ordered_json> baselines;
  for (auto& [setting, members] : groups) {
    const auto [centred, folded] = setting;
    if (!tok) tok.emplace(tokenizer::load_tokenizer(job.tokenizer_dir.empty() ? job.model_dir : job.tokenizer_dir));
    model::ModelOptions mo;
    mo.device = device;
    mo.dtype = dtype;
    mo.center_writing_weights = centred;
    mo.fold_value_biases = folded;
    const auto gpt2 = model::load_language_model(job.model_dir, mo);
    std::vector<PsEvalSae> run_saes;
    for (std::size_t i : members) {
      saes[i].sae.to_device(device);
      run_saes.push_back({&saes[i].sae, saes[i].dir, {}});
    }
    PsEvalRun run = run_pseval(*gpt2, *tok, run_saes, data.pairs, occurrences, job.options, progress);
    add_stats(result.stats, run.stats);
    for (const PsEvalScore& b : run.baselines) {
      nlohmann::ordered_json j = pseval_score_json(b, job.options);
      j["center_writing_weights"] = centred;
      baselines[{at_hook(b.hook, folded), centred}] = j;
    }
    for (std::size_t k = 0; k < members.size(); ++k) {
      const std::size_t i = members[k];
      PsEvalScore& s = run.saes[k];
      nlohmann::ordered_json j = pseval_score_json(s, job.options);
      const nlohmann::json described = sae_input_config(saes[i]);
      for (const auto& [key, value] : described.items())
        if (key != "hook_name") j[key] = value;
      if (auto b = baselines.find({at_hook(s.hook, folded), centred}); b != baselines.end())
        j["baseline_at_hook"] = b->second;
      result.saes[i].metrics = std::move(j);
      if (job.per_word) result.saes[i].per_word = per_word_rows(s);
      computed[i] = std::move(s);
    }
  }
  for (std::size_t i = 0; i < saes.size(); ++i) {  // baselines of hooks only cached results cover
    const auto& m = result.saes[i].metrics;
    if (result.saes[i].cached && m.contains("baseline_at_hook"))
      baselines.emplace(std::make_pair(at_hook(m["hook"].get<std::string>(), saes[i].fold_values), saes[i].centred),
                        m["baseline_at_hook"]);
  }
  for (std::size_t i = 0; i < saes.size(); ++i) {  // in the order of the SAEs' hooks
    const std::string hook = result.saes[i].metrics.value("hook", std::string());
    if (auto b = baselines.find({at_hook(hook, saes[i].fold_values), saes[i].centred}); b != baselines.end()) {
      result.baselines.push_back(std::move(b->second));
      baselines.erase(b);
    }
  }

  // Store everything computed, together.
  if (ws && !groups.empty()) {
    store::Transaction tx(ws->db());
    const int64_t model_id = ws->register_input(store::InputKind::Model, job.model_dir, model_input_config(job.model_dir));
    const int64_t data_id = ws->register_input(
        store::InputKind::Dataset, job.dataset_path,
        {{"kind", dataset_kind_name(data.kind)}, {"pairs", data.pairs.size()}, {"split", job.split}});
    if (!job.occurrences_path.empty())
      ws->register_input(store::InputKind::Dataset, job.occurrences_path,
                         {{"kind", "occurrences-jsonl"}, {"occurrences", occurrences.size()}});
    const double to_store = static_cast<double>(std::count_if(computed.begin(), computed.end(),
                                                               [](const auto& c) { return c.has_value(); }));
    double stored = 0;
    for (std::size_t i = 0; i < saes.size(); ++i) {
      if (!computed[i]) continue;
      const int64_t sae_id = ws->register_input(store::InputKind::Sae, saes[i].dir, sae_input_config(saes[i]));
      result.saes[i].result_id =
          write_pseval_result(*ws, saes[i].key, model_id, sae_id, data_id, saes[i].params,
                              nlohmann::json::parse(result.saes[i].metrics.dump()), *computed[i], occurrences);
      if (progress) progress->report({"ps-eval storing", ++stored, to_store, "SAEs", ""});
    }
    tx.commit();
  }
  return result;
}

}  // namespace saescope::polysemy
