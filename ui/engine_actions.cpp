#include "ui/engine_actions.h"

#include <QDir>
#include <QFileInfo>
#include <QWidget>

#include "core/workflows/harvest_request.h"
#include "core/workflows/input_probe.h"
#include "core/store/sae_model.h"
#include "core/workflows/workspace_choices.h"
#include "core/polysemy/custom_senses.h"
#include "core/polysemy/dataset_writers.h"
#include "core/workflows/pseval_job.h"
#include "core/polysemy/sense_pairs.h"
#include "core/polysemy/wordnet_occurrences.h"
#include "core/workflows/sae_evaluation_request.h"
#include "ui/jobs_panel.h"
#include "ui/settings_dialog.h"

namespace saescope::ui {

EngineActions::EngineActions(WorkspaceSession* session, JobsPanel* jobs, QWidget* parent)
    : QObject(parent), session_(session), jobs_(jobs), parent_(parent) {}

namespace {
QString newestInput(store::Workspace* ws, store::InputKind kind) {
  if (!ws) return {};
  const auto inputs = ws->inputs(kind);
  return inputs.empty() ? QString() : QString::fromStdString(inputs.back().path);
}
}  // namespace

QString EngineActions::defaultCorpus() {
  const QString fromWorkspace = newestInput(session_->workspace(), store::InputKind::Corpus);
  return fromWorkspace.isEmpty() ? EngineSettings::load().default_corpus : fromWorkspace;
}

QString EngineActions::defaultDataset() {
  const QString fromWorkspace = newestInput(session_->workspace(), store::InputKind::Dataset);
  return fromWorkspace.isEmpty() ? EngineSettings::load().default_dataset : fromWorkspace;
}

Job* EngineActions::harvest(const SaeEntry& sae, const QString& corpus, qint64 max_tokens,
                            QString* error) {
  const std::string model_dir = session_->modelPathFor(sae);
  if (model_dir.empty()) {
    *error = tr("%1: add its model folder to the workspace before harvesting.")
                 .arg(QString::fromStdString(sae.input.path));
    return nullptr;
  }
  if (corpus.isEmpty()) {
    *error = tr("No corpus: add a text or JSONL corpus to the workspace, or set a default in Settings.");
    return nullptr;
  }
  analysis::HarvestRequest request;
  request.model_dir = model_dir;
  request.sae_dirs = {sae.input.path};
  request.corpus = corpus.toStdString();
  request.max_tokens = max_tokens;
  try {
    request.context = workflows::default_context(model_dir);
  } catch (const std::exception& e) {
    *error = QString::fromStdString(e.what());
    return nullptr;
  }
  request.device = EngineSettings::load().device.toStdString();
  const std::string workspace = session_->path().toStdString();
  return jobs_->run(tr("Harvest %1").arg(sae.displayName()),
                    [workspace, request](jobs::ProgressSink& progress) {
                      auto ws = store::Workspace::open(workspace, store::IntegrityCheck::Skip);
                      analysis::run_harvest(*ws, request, progress);
                    });
}

Job* EngineActions::evaluate(const QList<qint64>& sae_ids, const QString& dataset, QString* error) {
  store::Workspace* ws = session_->workspace();
  if (!ws) {
    *error = tr("No workspace open.");
    return nullptr;
  }
  if (dataset.isEmpty()) {
    *error = tr("No sense dataset: add a PS-Eval / WiC / occurrences dataset to the workspace "
                "(or build the WordNet set), or set a default in Settings.");
    return nullptr;
  }
  // One job per model: PS-Eval runs every SAE of a model in one pass.
  std::map<std::string, std::vector<std::string>> by_model;
  for (const auto& entry : session_->saes()) {
    if (!sae_ids.contains(entry.input.id)) continue;
    const std::string model_dir = session_->modelPathFor(entry);
    if (model_dir.empty()) {
      *error = tr("%1: add its model folder to the workspace first.").arg(entry.displayName());
      return nullptr;
    }
    by_model[model_dir].push_back(entry.input.path);
  }
  // Sense-labelled occurrences for the Senses view: the workspace's newest
  // occurrences dataset, unless the chosen dataset is one itself.
  std::string occurrences;
  for (const auto& d : ws->inputs(store::InputKind::Dataset))
    if (d.config.value("format", std::string()) == "occurrences_jsonl" && d.path != dataset.toStdString())
      occurrences = d.path;
  Job* last = nullptr;
  for (const auto& [model_dir, sae_dirs] : by_model) {
    polysemy::PsEvalJob job;
    job.model_dir = model_dir;
    job.sae_dirs = sae_dirs;
    job.dataset_path = dataset.toStdString();
    job.occurrences_path = occurrences;
    job.device = EngineSettings::load().device.toStdString();
    job.workspace_path = session_->path().toStdString();
    // Unlabelled uses of the words in the corpus, for the Senses view's
    // predicted-sense rows.
    job.corpus_path = defaultCorpus().toStdString();
    job.corpus_per_word = job.corpus_path.empty() ? 0 : 8;
    last = jobs_->run(tr("PS-Eval of %n SAE(s) on %1", nullptr, int(sae_dirs.size()))
                          .arg(QFileInfo(dataset).fileName()),
                      [job](jobs::ProgressSink& progress) { polysemy::run_pseval_job(job, &progress); });
    // Reconstruction metrics (MSE, L0, explained variance, CE loss recovered)
    // on the corpus, when the workspace has one: the MSE–L0 chart needs them.
    const QString corpus = defaultCorpus();
    if (corpus.isEmpty()) continue;
    std::vector<sae::SaeEvalRequest> requests;
    for (const auto& sae_dir : sae_dirs) {
      sae::SaeEvalRequest request;
      request.model_dir = model_dir;
      request.sae_dir = sae_dir;
      request.corpus = corpus.toStdString();
      request.device = EngineSettings::load().device.toStdString();
      request.max_tokens = 20000;  // enough for stable MSE/L0; the CLI evaluates more on demand
      request.context = workflows::default_context(model_dir);
      requests.push_back(std::move(request));
    }
    // One job: the SAEs share the clean and zero-ablated passes of the model.
    const std::string workspace = session_->path().toStdString();
    last = jobs_->run(tr("Reconstruction metrics of %n SAE(s)", nullptr, int(requests.size())),
                      [requests, workspace](jobs::ProgressSink& progress) {
                        auto ws = store::Workspace::open(workspace, store::IntegrityCheck::Skip);
                        sae::run_sae_evals(requests, ws.get(), progress);
                      });
  }
  return last;
}

Job* EngineActions::importSenseSet(const QString& csv, QString* error) {
  if (!QFileInfo::exists(csv)) {
    *error = tr("%1: no such file").arg(csv);
    return nullptr;
  }
  const QString stem = QFileInfo(csv).absolutePath() + QLatin1Char('/') + QFileInfo(csv).completeBaseName();
  const std::string occurrences = (stem + QStringLiteral("_occurrences.jsonl")).toStdString();
  const std::string pairs = (stem + QStringLiteral("_pairs.jsonl")).toStdString();
  const std::string path = csv.toStdString(), workspace = session_->path().toStdString();
  return jobs_->run(tr("Import the sense set %1").arg(QFileInfo(csv).fileName()), [=](jobs::ProgressSink& progress) {
    progress.report({"read", 0, 2, "stages", ""});
    const polysemy::CustomSenseSet set = polysemy::import_custom_senses(path);
    polysemy::SensePairOptions options;
    options.dev_fraction = 0;  // a pilot's few words: all of them are the test
    options.id_prefix = "custom";
    polysemy::write_occurrences_jsonl(occurrences, set.occurrences);
    polysemy::write_pairs_jsonl(pairs, polysemy::make_sense_pairs(set.occurrences, options).pairs);
    if (!workspace.empty()) {
      auto ws = store::Workspace::open(workspace, store::IntegrityCheck::Skip);
      jobs::register_probed(*ws, occurrences);
      jobs::register_probed(*ws, pairs);
    }
    std::string detail = std::to_string(set.words) + " words, " + std::to_string(set.senses) + " senses, " +
                         std::to_string(set.occurrences.size()) + " sentences";
    if (!set.problems.empty()) {
      detail += "; skipped " + std::to_string(set.problems.size()) + " row(s): line " +
                std::to_string(set.problems.front().line) + ": " + set.problems.front().what;
      if (set.problems.size() > 1) detail += ", …";
    }
    progress.report({"done", 2, 2, "stages", detail});
  });
}

Job* EngineActions::buildWordNetSet(const QString& out_dir, QString* error) {
  if (!QDir().mkpath(out_dir)) {
    *error = tr("%1: cannot create the folder").arg(out_dir);
    return nullptr;
  }
  const std::string occurrences = QDir(out_dir).filePath(QStringLiteral("wordnet_occurrences.jsonl")).toStdString();
  const std::string pairs = QDir(out_dir).filePath(QStringLiteral("wordnet_pairs.jsonl")).toStdString();
  const std::string workspace = session_->path().toStdString();
  return jobs_->run(tr("Build the WordNet sense dataset"),
                    [=](jobs::ProgressSink& progress) {
                      progress.report({"read WordNet", 0, 3, "stages", ""});
                      const auto built = polysemy::build_wordnet_occurrences(polysemy::default_wordnet_dir());
                      progress.report({"form pairs", 1, 3, "stages", ""});
                      const auto set = polysemy::make_sense_pairs(built.occurrences, {});
                      polysemy::write_occurrences_jsonl(occurrences, built.occurrences);
                      polysemy::write_pairs_jsonl(pairs, set.pairs);
                      progress.report({"register", 2, 3, "stages",
                                       std::to_string(built.counts.words) + " words, " +
                                           std::to_string(set.pairs.size()) + " pairs"});
                      if (!workspace.empty()) {
                        auto ws = store::Workspace::open(workspace, store::IntegrityCheck::Skip);
                        jobs::register_probed(*ws, occurrences);
                        jobs::register_probed(*ws, pairs);
                      }
                      progress.report({"done", 3, 3, "stages", ""});
                    });
}

}  // namespace saescope::ui

namespace saescope::ui {

Job* EngineActions::train(sae::SaeTrainRequest request, QString* error) {
  store::Workspace* ws = session_->workspace();
  if (!ws) {
    *error = tr("No workspace open.");
    return nullptr;
  }
  if (request.model_dir.empty()) {
    const auto model = store::newest_model(*ws);
    if (!model) {
      *error = tr("Add a model folder to the workspace before training an SAE.");
      return nullptr;
    }
    request.model_dir = model->path;
  }
  if (request.corpus.empty()) request.corpus = defaultCorpus().toStdString();
  if (request.corpus.empty()) {
    *error = tr("No corpus: add one to the workspace or set a default in Settings.");
    return nullptr;
  }
  request.device = EngineSettings::load().device.toStdString();
  const std::string workspace = session_->path().toStdString();
  return jobs_->run(tr("Train %1 SAE at %2")
                        .arg(QString::fromStdString(request.architecture),
                             QString::fromStdString(request.hook)),
                    [request, workspace](jobs::ProgressSink& progress) {
                      sae::train_sae_from_corpus(request, progress.callback(), progress.cancel_flag());
                      auto ws = store::Workspace::open(workspace, store::IntegrityCheck::Skip);
                      jobs::register_probed(*ws, request.out);
                    });
}

}  // namespace saescope::ui
