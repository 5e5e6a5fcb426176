#include "ui/feature_table_model.h"

namespace saescope::ui {

void FeatureTableModel::setFeatures(std::vector<store::FeatureSummary> features) {
  beginResetModel();
  features_ = std::move(features);
  endResetModel();
}

int FeatureTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(features_.size());
}

int FeatureTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant FeatureTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid()) return {};
  const auto& f = features_[static_cast<size_t>(index.row())];
  if (role == FeatureIdRole) return QVariant::fromValue<qlonglong>(f.feature);
  if (role == SortRole) {
    switch (index.column()) {
      case Id: return QVariant::fromValue<qlonglong>(f.feature);
      case Density: return f.density;
      case MaxAct: return f.max_act;
      case MeanAct: return f.mean_act;
      case TopTokens: return QString::fromStdString(f.top_tokens);
    }
  }
  if (role == Qt::DisplayRole) {
    switch (index.column()) {
      case Id: return QVariant::fromValue<qlonglong>(f.feature);
      case Density: return f.fire_count == 0 ? tr("dead") : QString::number(f.density, 'g', 3);
      case MaxAct: return QString::number(f.max_act, 'f', 3);
      case MeanAct: return QString::number(f.mean_act, 'f', 3);
      case TopTokens: return QString::fromStdString(f.top_tokens);
    }
  }
  if (role == Qt::TextAlignmentRole && index.column() != TopTokens)
    return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
  return {};
}

QVariant FeatureTableModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case Id: return tr("Feature");
    case Density: return tr("Density");
    case MaxAct: return tr("Max");
    case MeanAct: return tr("Mean");
    case TopTokens: return tr("Top tokens");
  }
  return {};
}

}  // namespace saescope::ui
