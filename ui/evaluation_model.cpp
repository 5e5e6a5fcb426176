#include "ui/evaluation_model.h"

#include <cmath>

#include "core/store/evaluation_table.h"

namespace saescope::ui {
namespace {

// Three significant digits, never an exponent: 3167.38 → "3170", 74.018 →
// "74.0", 0.01783 → "0.0178". The table compares SAEs; more digits are noise.
QString threeSignificant(double v) {
  if (v == 0.0 || !std::isfinite(v)) return QString::number(v);
  const int magnitude = static_cast<int>(std::floor(std::log10(std::abs(v))));
  if (magnitude >= 2) {
    const double unit = std::pow(10.0, magnitude - 2);
    return QString::number(std::round(v / unit) * unit, 'f', 0);
  }
  return QString::number(v, 'f', 2 - magnitude);
}

}  // namespace

void EvaluationModel::reload(store::Workspace* ws) {
  beginResetModel();
  rows_ = ws ? store::evaluation_table(*ws) : std::vector<EvaluationRow>();
  endResetModel();
}

QStringList EvaluationModel::scoreNames() {
  return {tr("F1"), tr("Accuracy"), tr("Precision"), tr("Recall"), tr("Specificity"),
          tr("Purity"), tr("NMI")};
}

std::optional<double> EvaluationModel::score(const EvaluationRow& r, const QString& name) {
  const QStringList names = scoreNames();
  const std::optional<double> EvaluationRow::*fields[] = {
      &EvaluationRow::f1, &EvaluationRow::accuracy, &EvaluationRow::precision,
      &EvaluationRow::recall, &EvaluationRow::specificity, &EvaluationRow::purity,
      &EvaluationRow::nmi};
  const int i = names.indexOf(name);
  return i < 0 ? std::nullopt : r.*fields[i];
}

int EvaluationModel::rowCount(const QModelIndex& p) const {
  return p.isValid() ? 0 : static_cast<int>(rows_.size());
}
int EvaluationModel::columnCount(const QModelIndex& p) const { return p.isValid() ? 0 : ColumnCount; }

QVariant EvaluationModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid()) return {};
  const auto& r = rows_[static_cast<size_t>(index.row())];
  auto num = [role](const std::optional<double>& v) -> QVariant {
    if (!v) return role == SortRole ? QVariant(-1e300) : QVariant(QStringLiteral("—"));
    return role == SortRole ? QVariant(*v) : QVariant(threeSignificant(*v));
  };
  const auto text = [](const std::string& s) { return QString::fromStdString(s); };
  if (role == Qt::DisplayRole || role == SortRole) {
    switch (index.column()) {
      case Model: return text(r.model);
      case Hook: return text(r.hook);
      case Layer: return r.layer;
      case Architecture: return text(r.architecture);
      case DSae: return r.d_sae;
      case Sparsity: return text(r.sparsity);
      case Mse: return num(r.mse);
      case L0: return num(r.l0);
      case ExplainedVariance: return num(r.explained_variance);
      case CeRecovered: return num(r.ce_recovered);
      case Accuracy: return num(r.accuracy);
      case Precision: return num(r.precision);
      case Recall: return num(r.recall);
      case Specificity: return num(r.specificity);
      case F1: return num(r.f1);
      case Dataset: return text(r.dataset);
    }
  }
  if (role == Qt::ToolTipRole) return text(r.sae_path);
  return {};
}

QVariant EvaluationModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* names[] = {"Model", "Hook", "Layer", "Architecture", "d_sae", "k / L1",
                                "MSE", "L0", "Expl. var.", "CE rec.", "PS accuracy",
                                "PS precision", "PS recall", "PS specificity", "PS F1",
                                "Dataset"};
  return tr(names[section]);
}

QString EvaluationModel::toCsv() const {
  return QString::fromStdString(store::evaluation_csv(rows_));
}

}  // namespace saescope::ui
