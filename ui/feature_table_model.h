#pragma once
// All features of one harvest as a table (id, density, max, mean, top tokens).
// The rows are the store's own summaries, loaded once per harvest; sorting and
// filtering go through a QSortFilterProxyModel using SortRole.
#include <QAbstractTableModel>
#include <vector>

#include "core/store/feature_store.h"

namespace saescope::ui {

class FeatureTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Id, Density, MaxAct, MeanAct, TopTokens, ColumnCount };
  static constexpr int SortRole = Qt::UserRole + 1;
  static constexpr int FeatureIdRole = Qt::UserRole + 2;

  using QAbstractTableModel::QAbstractTableModel;
  void setFeatures(std::vector<store::FeatureSummary> features);
  const store::FeatureSummary& feature(int row) const { return features_[static_cast<size_t>(row)]; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;

 private:
  std::vector<store::FeatureSummary> features_;
};

}  // namespace saescope::ui
