#pragma once
// The long tasks the GUI starts, each a job on its own workspace connection:
// harvest an SAE's features, evaluate SAEs (PS-Eval), build the WordNet sense
// dataset. Each asks for what it needs (corpus, dataset) with sensible
// defaults: the workspace's inputs, then the Settings defaults.
#include <QObject>
#include <QString>
#include <optional>

#include "core/workflows/sae_train_request.h"
#include "ui/workspace_session.h"

class QWidget;

namespace saescope::ui {

class Job;
class JobsPanel;

class EngineActions : public QObject {
  Q_OBJECT
 public:
  EngineActions(WorkspaceSession* session, JobsPanel* jobs, QWidget* dialogParent);

  // Each returns the job started, or nullptr with `error` set (shown by the caller).
  Job* harvest(const SaeEntry& sae, const QString& corpus, qint64 max_tokens, QString* error);
  Job* evaluate(const QList<qint64>& sae_ids, const QString& dataset, QString* error);
  Job* buildWordNetSet(const QString& out_dir, QString* error);
  // A sense set of one's own from a CSV (word, sense, sentence): occurrences
  // and pairs written beside it, both added to the workspace as datasets;
  // skipped rows listed in the job's detail.
  Job* importSenseSet(const QString& csv, QString* error);
  // Trains an SAE (activation cache, training, held-out evaluation) and adds
  // it to the workspace. `request.model_dir` empty: the workspace's model.
  Job* train(sae::SaeTrainRequest request, QString* error);

  // The corpus / dataset to use when the user has not chosen: the newest of
  // that kind in the workspace, else the Settings default, else "".
  QString defaultCorpus();
  QString defaultDataset();

 private:
  WorkspaceSession* session_;
  JobsPanel* jobs_;
  QWidget* parent_;
};

}  // namespace saescope::ui
