#pragma once
// One row per SAE in the workspace with its latest reconstruction and PS-Eval
// results (read from results.metrics). Drives the Evaluation table and charts.
#include <QAbstractTableModel>
#include <optional>
#include <vector>

#include "core/store/evaluation_table.h"
#include "core/store/workspace.h"

namespace saescope::ui {

struct EvaluationRow {
  store::InputRecord sae;
  QString model, hook, architecture, family, dataset;
  int layer = -1;
  long long d_sae = 0;
  QString sparsity;  // "k=32" or "l1=5"
  std::optional<double> mse, l0, explained_variance, ce_recovered;
  std::optional<double> accuracy, precision, recall, specificity, f1, purity, nmi;
};

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
  std::vector<store::EvaluationTableRow> table_;  // the same rows, for CSV
};

}  // namespace saescope::ui
