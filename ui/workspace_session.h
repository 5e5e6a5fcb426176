#pragma once
// The workspace open in the window, shared by every view. Views read results
// from the store through this; they never compute.
#include <QObject>
#include <QString>
#include <memory>
#include <optional>
#include <vector>

#include "core/workflows/engine_cache.h"
#include "core/store/workspace.h"

namespace saescope::ui {

// An SAE the workspace knows, with its latest finished harvest if any.
struct SaeEntry {
  store::InputRecord input;
  std::optional<store::ResultRecord> harvest;
  QString displayName() const;  // "blocks.3.hook_resid_post · topk k=32 · 4096"
};

class WorkspaceSession : public QObject {
  Q_OBJECT
 public:
  explicit WorkspaceSession(QObject* parent = nullptr);
  ~WorkspaceSession() override;

  // Opens (or creates) a workspace; throws InputError / WorkspaceDamaged.
  void open(const QString& path);
  void close();
  bool isOpen() const { return workspace_ != nullptr; }
  QString path() const;
  store::Workspace* workspace() { return workspace_.get(); }

  std::vector<SaeEntry> saes();
  // The model folder an SAE runs with (store::model_for_sae); empty when
  // the workspace has no model.
  std::string modelPathFor(const SaeEntry& sae);
  // Models, SAEs and tokenizers loaded by jobs, kept between them.
  jobs::EngineCache& engine() { return engine_; }
  // Tells the views that results changed (a job finished, or a stage of one).
  void notifyResultsChanged() { emit resultsChanged(); }
  // The job filling this workspace as it runs (the demo's first build), ""
  // when none: a view still empty says what is coming instead of what to do.
  void setBuilding(const QString& job_title);
  const QString& building() const { return building_; }

 signals:
  void opened();
  void closed();
  void resultsChanged();
  void buildingChanged();

 private:
  std::unique_ptr<store::Workspace> workspace_;
  jobs::EngineCache engine_;
  QString building_;
};

}  // namespace saescope::ui
