#include "ui/evaluation_model.h"

#include <QFileInfo>
#include <QRegularExpression>

namespace saescope::ui {

namespace {
std::optional<double> metric(const nlohmann::json& m, const char* key) {
  if (m.is_object() && m.contains(key) && m[key].is_number()) return m[key].get<double>();
  return std::nullopt;
}
QString text(const nlohmann::json& c, const char* key) {
  return c.is_object() && c.contains(key) && c[key].is_string()
             ? QString::fromStdString(c[key].get<std::string>())
             : QString();
}
QString csvField(QString s) {
  if (s.contains(QLatin1Char(',')) || s.contains(QLatin1Char('"')) || s.contains(QLatin1Char('\n')))
    s = QLatin1Char('"') + s.replace(QLatin1Char('"'), QStringLiteral("\"\"")) + QLatin1Char('"');
  return s;
}
}  // namespace

void EvaluationModel::reload(store::Workspace* ws) {
  beginResetModel();
  rows_.clear();
  if (ws) {
    const auto recon = ws->results("reconstruction");
    const auto pseval = ws->results("pseval");
    for (const auto& sae : ws->inputs(store::InputKind::Sae)) {
      EvaluationRow r;
      r.sae = sae;
      const auto& c = sae.config;
      r.hook = text(c, "hook_name");
      static const QRegularExpression layerRe(QStringLiteral("blocks\\.(\\d+)\\."));
      if (auto m = layerRe.match(r.hook); m.hasMatch()) r.layer = m.captured(1).toInt();
      r.architecture = text(c, "architecture");
      r.d_sae = c.value("d_sae", 0LL);
      r.model = text(c, "model_name");
      if (c.contains("k") && c["k"].is_number()) r.sparsity = QStringLiteral("k=%1").arg(c["k"].get<int>());
      else if (c.contains("l1_coefficient") && c["l1_coefficient"].is_number())
        r.sparsity = QStringLiteral("l1=%1").arg(c["l1_coefficient"].get<double>());
      r.family = QStringLiteral("%1 %2").arg(r.architecture).arg(r.d_sae);
      for (const auto& res : recon)  // latest finished wins
        if (res.done && res.sae_id == sae.id) {
          r.mse = metric(res.metrics, "mse");
          r.l0 = metric(res.metrics, "l0");
          r.explained_variance = metric(res.metrics, "explained_variance");
          r.ce_recovered = metric(res.metrics, "ce_loss_recovered");
        }
      for (const auto& res : pseval)
        if (res.done && res.sae_id == sae.id) {
          r.accuracy = metric(res.metrics, "accuracy");
          r.precision = metric(res.metrics, "precision");
          r.recall = metric(res.metrics, "recall");
          r.specificity = metric(res.metrics, "specificity");
          r.f1 = metric(res.metrics, "f1");
          r.purity = metric(res.metrics, "purity");
          r.nmi = metric(res.metrics, "nmi");
          if (res.data_id)
            if (auto d = ws->input(*res.data_id))
              r.dataset = QFileInfo(QString::fromStdString(d->path)).fileName();
          if (r.l0 == std::nullopt) r.l0 = metric(res.metrics, "l0");
          if (r.mse == std::nullopt) r.mse = metric(res.metrics, "mse");
        }
      rows_.push_back(std::move(r));
    }
  }
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
  auto num = [role](const std::optional<double>& v, int decimals) -> QVariant {
    if (!v) return role == SortRole ? QVariant(-1e300) : QVariant(QStringLiteral("—"));
    return role == SortRole ? QVariant(*v) : QVariant(QString::number(*v, 'f', decimals));
  };
  if (role == Qt::DisplayRole || role == SortRole) {
    switch (index.column()) {
      case Model: return r.model;
      case Hook: return r.hook;
      case Layer: return r.layer;
      case Architecture: return r.architecture;
      case DSae: return r.d_sae;
      case Sparsity: return r.sparsity;
      case Mse: return num(r.mse, 4);
      case L0: return num(r.l0, 1);
      case ExplainedVariance: return num(r.explained_variance, 3);
      case CeRecovered: return num(r.ce_recovered, 3);
      case Accuracy: return num(r.accuracy, 3);
      case Precision: return num(r.precision, 3);
      case Recall: return num(r.recall, 3);
      case Specificity: return num(r.specificity, 3);
      case F1: return num(r.f1, 3);
      case Dataset: return r.dataset;
    }
  }
  if (role == Qt::ToolTipRole) return QString::fromStdString(r.sae.path);
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
  QStringList lines;
  QStringList header;
  for (int c = 0; c < ColumnCount; ++c) header << csvField(headerData(c, Qt::Horizontal, Qt::DisplayRole).toString());
  header << QStringLiteral("SAE path");
  lines << header.join(QLatin1Char(','));
  for (int r = 0; r < rowCount(); ++r) {
    QStringList fields;
    for (int c = 0; c < ColumnCount; ++c) {
      QString v = data(index(r, c), Qt::DisplayRole).toString();
      if (v == QStringLiteral("—")) v.clear();  // empty cell, not a dash, for spreadsheets
      fields << csvField(v);
    }
    fields << csvField(QString::fromStdString(rows_[static_cast<size_t>(r)].sae.path));
    lines << fields.join(QLatin1Char(','));
  }
  return lines.join(QLatin1Char('\n')) + QLatin1Char('\n');
}

}  // namespace saescope::ui
