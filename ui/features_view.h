#pragma once
// The Features view: every feature of the selected SAE's harvest in a
// virtualised, sortable, filterable table; selecting one opens its page.
#include <QWidget>
#include <optional>

#include "ui/workspace_session.h"

class QLineEdit;
class QLabel;
class QScrollArea;
class QSortFilterProxyModel;
class QTableView;
class QTreeWidget;

namespace saescope::ui {

class FeaturePage;
class FeatureTableModel;
class JobsPanel;
class SteerPanel;

class FeaturesView : public QWidget {
  Q_OBJECT
 public:
  FeaturesView(WorkspaceSession* session, JobsPanel* jobs, QWidget* parent = nullptr);
  void setSae(const std::optional<SaeEntry>& sae);
  bool selectFeature(int64_t feature);  // false when the harvest lacks it

  QTableView* table() const { return table_; }
  QLabel* header() const { return header_; }  // the SAE and harvest, or what is coming / what to do
  FeaturePage* page() const { return page_; }
  SteerPanel* steerPanel() const { return steer_; }
  void scrollToSteerPanel();
  FeatureTableModel* model() const { return model_; }
  QLineEdit* promptInput() const { return prompt_; }
  QTreeWidget* promptResults() const { return prompt_results_; }
  // "What fires here": runs the model and SAE on `text` in a job; the
  // per-token top features fill promptResults() when it ends.
  void whatFiresHere(const QString& text);
  // The feature table (as sorted and filtered) as CSV.
  bool exportCsv(const QString& path, QString* error) const;

 private:
  void showFeature(int64_t feature);
  // What the header says while the table is empty: what is coming, or what to do.
  QString emptyText() const;
  WorkspaceSession* session_;
  JobsPanel* jobs_;
  QLineEdit* prompt_ = nullptr;
  QTreeWidget* prompt_results_ = nullptr;
  std::optional<SaeEntry> sae_;
  QLabel* header_ = nullptr;
  QLineEdit* filter_ = nullptr;
  QTableView* table_ = nullptr;
  FeatureTableModel* model_ = nullptr;
  QSortFilterProxyModel* proxy_ = nullptr;
  FeaturePage* page_ = nullptr;
  SteerPanel* steer_ = nullptr;
  QWidget* steer_box_ = nullptr;
  QScrollArea* scroll_ = nullptr;
};

}  // namespace saescope::ui
