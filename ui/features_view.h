#pragma once
// The Features view: every feature of the selected SAE's harvest in a
// virtualised, sortable, filterable table; selecting one opens its page.
#include <QWidget>
#include <optional>

#include "ui/workspace_session.h"

class QLineEdit;
class QLabel;
class QSortFilterProxyModel;
class QTableView;

namespace saescope::ui {

class FeaturePage;
class FeatureTableModel;

class FeaturesView : public QWidget {
  Q_OBJECT
 public:
  explicit FeaturesView(WorkspaceSession* session, QWidget* parent = nullptr);
  void setSae(const std::optional<SaeEntry>& sae);
  bool selectFeature(int64_t feature);  // false when the harvest lacks it

  QTableView* table() const { return table_; }
  FeaturePage* page() const { return page_; }
  FeatureTableModel* model() const { return model_; }

 private:
  void showFeature(int64_t feature);
  WorkspaceSession* session_;
  std::optional<SaeEntry> sae_;
  QLabel* header_ = nullptr;
  QLineEdit* filter_ = nullptr;
  QTableView* table_ = nullptr;
  FeatureTableModel* model_ = nullptr;
  QSortFilterProxyModel* proxy_ = nullptr;
  FeaturePage* page_ = nullptr;
};

}  // namespace saescope::ui
