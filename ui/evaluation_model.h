#pragma once
// One row per SAE in the workspace with its latest reconstruction and PS-Eval
// results (read from results.metrics). Drives the Evaluation table and charts.
#include <QAbstractTableModel>
#include <optional>
#include <vector>

#include "core/store/evaluation_table.h"
#include "core/store/workspace.h"

namespace saescope::ui {

// A row is the store's (store::evaluation_table): the view shows what the
// headless report writes.
using EvaluationRow = store::EvaluationTableRow;

class EvaluationModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column {
    Model, Hook, Layer, Architecture, DSae, Sparsity, Mse, L0, ExplainedVariance, CeRecovered,
    Accuracy, Precision, Recall, Specificity, F1, Dataset, ColumnCount
  };
  static constexpr int SortRole = Qt::UserRole + 1;

  using QAbstractTableModel::QAbstractTableModel;
  void reload(store::Workspace* ws);
  const std::vector<EvaluationRow>& rows() const { return rows_; }

  // The separation scores an analyst can colour charts by.
  static QStringList scoreNames();  // F1 (default), accuracy, precision, ...
  static std::optional<double> score(const EvaluationRow& row, const QString& name);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;
  // CSV of the whole table (store::evaluation_csv: full precision, empty cells for
  // missing numbers), for export.
  QString toCsv() const;

 private:
  std::vector<EvaluationRow> rows_;
};

}  // namespace saescope::ui
