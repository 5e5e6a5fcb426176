#include "ui/evaluation_view.h"

#include <QAction>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QToolTip>
#include <QVBoxLayout>
#include <algorithm>
#include <map>
#include <qcustomplot.h>

#include "ui/charts.h"
#include "core/polysemy/report_word_pages.h"
#include "core/store/evaluation_findings.h"
#include "core/store/evaluation_table.h"
#include "ui/evaluation_report.h"
#include "ui/export_dialog.h"

namespace saescope::ui {

namespace {

const char* kRowsProperty = "saescopeRows";  // QVariantList: model row of each data point

QCPGraph* addPoints(QCustomPlot* plot, const QVector<double>& x, const QVector<double>& y,
                    const QVariantList& rows, const QColor& colour, const QString& name,
                    bool line) {
  auto* g = plot->addGraph();
  g->setName(name);
  g->setData(x, y, /*alreadySorted=*/false);
  g->setLineStyle(line ? QCPGraph::lsLine : QCPGraph::lsNone);
  g->setPen(QPen(colour, 1.5));
  g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, colour, colour, 10));
  g->setProperty(kRowsProperty, rows);
  return g;
}

void titled(QCustomPlot* plot, const QString& title) {
  if (plot->plotLayout()->rowCount() < 2) {
    plot->plotLayout()->insertRow(0);
    plot->plotLayout()->addElement(0, 0, new QCPTextElement(plot, title, QFont()));
  }
  auto* t = qobject_cast<QCPTextElement*>(plot->plotLayout()->element(0, 0));
  t->setText(title);
  t->setTextColor(plot->palette().color(QPalette::WindowText));
}

QColor seriesColour(int i) {
  static const QColor colours[] = {QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44),
                                   QColor(214, 39, 40), QColor(148, 103, 189), QColor(140, 86, 75),
                                   QColor(227, 119, 194), QColor(127, 127, 127)};
  return colours[i % 8];
}

}  // namespace

EvaluationView::EvaluationView(WorkspaceSession* session, QWidget* parent)
    : QWidget(parent), session_(session) {
  model_ = new EvaluationModel(this);
  proxy_ = new QSortFilterProxyModel(this);
  proxy_->setSourceModel(model_);
  proxy_->setSortRole(EvaluationModel::SortRole);
  table_ = new QTableView(this);
  table_->setObjectName(QStringLiteral("evaluationTable"));
  table_->setModel(proxy_);
  table_->setSortingEnabled(true);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);

  score_ = new QComboBox(this);
  score_->setObjectName(QStringLiteral("scoreChoice"));
  score_->addItems(EvaluationModel::scoreNames());
  auto* evaluate = new QPushButton(tr("Evaluate selected"), this);
  evaluate->setObjectName(QStringLiteral("evaluateSelected"));
  auto* exportButton = new QPushButton(tr("Export…"), this);
  auto* controls = new QHBoxLayout;
  reconstruction_ = new QComboBox(this);
  reconstruction_->setObjectName(QStringLiteral("reconstructionChoice"));
  reconstruction_->addItem(tr("FVU (1 − explained variance)"), QStringLiteral("fvu"));
  reconstruction_->addItem(tr("MSE (each hook's own scale)"), QStringLiteral("mse"));
  reconstruction_->setToolTip(tr("MSE of different hooks cannot be compared (attention outputs are far smaller than "
                                 "the residual stream); the fraction of variance unexplained can."));
  controls->addWidget(new QLabel(tr("Separation score:"), this));
  controls->addWidget(score_);
  controls->addWidget(new QLabel(tr("Reconstruction:"), this));
  controls->addWidget(reconstruction_);
  controls->addStretch(1);
  controls->addWidget(evaluate);
  controls->addWidget(exportButton);

  mse_l0_ = new QCustomPlot(this);
  mse_l0_->setObjectName(QStringLiteral("mseL0Chart"));
  score_l0_ = new QCustomPlot(this);
  score_l0_->setObjectName(QStringLiteral("scoreL0Chart"));
  layers_ = new QCustomPlot(this);
  layers_->setObjectName(QStringLiteral("layerChart"));
  auto* charts = new QHBoxLayout;
  for (QCustomPlot* plot : {mse_l0_, score_l0_, layers_}) {
    plot->setMinimumHeight(320);
    plot->setMouseTracking(true);
    charts->addWidget(plot, 1);
    connect(plot, &QCustomPlot::mouseMove, this,
            [this, plot](QMouseEvent* e) { hover(plot, e); });
    addExportAction(plot);
    connect(plot, &QCustomPlot::plottableClick, this,
            [this](QCPAbstractPlottable* p, int dataIndex, QMouseEvent*) {
              const QVariantList rows = p->property(kRowsProperty).toList();
              if (dataIndex < 0 || dataIndex >= rows.size()) return;
              const int row = rows[dataIndex].toInt();
              const QModelIndex source = model_->index(row, 0);
              table_->selectRow(proxy_->mapFromSource(source).row());
              emit saeClicked(model_->rows()[static_cast<size_t>(row)].sae_id);
            });
  }
  status_ = new QLabel(this);
  status_->setObjectName(QStringLiteral("evaluationStatus"));
  status_->setWordWrap(true);
  auto* top = new QWidget(this);
  auto* topLayout = new QVBoxLayout(top);
  topLayout->setContentsMargins(0, 0, 0, 0);
  topLayout->addWidget(status_);
  topLayout->addLayout(controls);
  topLayout->addWidget(table_);
  auto* bottom = new QWidget(this);
  bottom->setLayout(charts);
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(top);
  split->addWidget(bottom);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(split);

  connect(score_, &QComboBox::currentTextChanged, this, &EvaluationView::replot);
  connect(reconstruction_, &QComboBox::currentIndexChanged, this, &EvaluationView::replot);
  connect(evaluate, &QPushButton::clicked, this, [this] {
    QList<qint64> ids;
    for (const QModelIndex& i : table_->selectionModel()->selectedRows())
      ids << model_->rows()[static_cast<size_t>(proxy_->mapToSource(i).row())].sae_id;
    if (!ids.isEmpty()) emit evaluateRequested(ids);
  });
  connect(exportButton, &QPushButton::clicked, this, &EvaluationView::exportDialog);
  connect(session_, &WorkspaceSession::opened, this, &EvaluationView::reload);
  connect(session_, &WorkspaceSession::resultsChanged, this, &EvaluationView::reload);
  connect(session_, &WorkspaceSession::closed, this, &EvaluationView::reload);
  connect(session_, &WorkspaceSession::buildingChanged, this, &EvaluationView::reload);
  reload();
}

void EvaluationView::reload() {
  model_->reload(session_->workspace());
  status_->setText(missingText());
  status_->setVisible(!status_->text().isEmpty());
  replot();
}

QString EvaluationView::missingText() const {
  const QString building = session_->building();
  if (!session_->workspace())
    return tr("No workspace open: File › Open the demo, or open a workspace with SAEs.");
  const auto& rows = model_->rows();
  if (rows.empty())
    return building.isEmpty() ? tr("No SAE in this workspace yet: drop an SAE folder or file on the window (File › "
                                   "Add…), or train one (Analyse › Train SAE…).")
                              : tr("“%1” is adding the SAEs: they are listed here, and their scores fill in as its "
                                   "stages land.").arg(building);
  const bool recon = std::any_of(rows.begin(), rows.end(), [](const EvaluationRow& r) { return r.explained_variance.has_value(); });
  const bool scored = std::any_of(rows.begin(), rows.end(), [](const EvaluationRow& r) { return r.f1.has_value(); });
  if (recon && scored) return {};
  if (!building.isEmpty())
    return recon ? tr("PS-Eval scores fill in when the last stage of “%1” is stored (progress and time left in "
                      "Jobs, below).").arg(building)
                 : tr("“%1” is evaluating these SAEs: MSE, L0 and explained variance fill in after its "
                      "reconstruction stage, PS-Eval scores after its last stage (progress and time left in Jobs, "
                      "below).").arg(building);
  return tr("%1: select rows and press Evaluate selected (PS-Eval needs a sense dataset: Analyse › Build the "
            "WordNet sense dataset; MSE and L0 are measured on the workspace's corpus).")
      .arg(recon ? tr("No PS-Eval score yet") : tr("No SAE evaluated yet"));
}

int EvaluationView::pointCount(QCustomPlot* plot) {
  int n = 0;
  for (int i = 0; i < plot->graphCount(); ++i) n += plot->graph(i)->dataCount();
  return n;
}

void EvaluationView::replot() {
  const QString scoreName = score_->currentText();
  const auto& rows = model_->rows();
  for (QCustomPlot* plot : {mse_l0_, score_l0_, layers_}) {
    plot->clearGraphs();
    plot->clearItems();
    applyPalette(plot);
  }
  // 1. MSE against L0, each SAE a point coloured by the score (grey: no score).
  QCPColorGradient gradient(QCPColorGradient::gpThermal);
  QCPRange scoreRange(0, 1);
  const bool fvu = reconstruction_->currentData().toString() == QLatin1String("fvu");
  double l0_min = 0, l0_max = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    const std::optional<double> y = fvu ? (r.explained_variance ? std::optional<double>(1.0 - *r.explained_variance)
                                                                : std::nullopt)
                                        : r.mse;
    if (!y || !r.l0) continue;
    l0_min = l0_min > 0 ? std::min(l0_min, *r.l0) : *r.l0;
    l0_max = std::max(l0_max, *r.l0);
    const auto s = EvaluationModel::score(r, scoreName);
    const QColor c = s ? QColor(gradient.color(*s, scoreRange)) : QColor(150, 150, 150);
    addPoints(mse_l0_, {*r.l0}, {*y}, {int(i)}, c, describe(r), false);
  }
  const QString yName = fvu ? tr("FVU (1 − explained variance)") : tr("MSE");
  titled(mse_l0_, tr("%1 against L0 · colour: %2 (0 → 1)").arg(fvu ? tr("FVU") : tr("MSE"), scoreName));
  mse_l0_->xAxis->setLabel(tr("L0 (active features per token)"));
  mse_l0_->yAxis->setLabel(yName);
  // L0 16 / 32 / 64 crowd a linear axis: a log axis once it spans 4x or more.
  const bool log_l0 = l0_min > 0 && l0_max / l0_min >= 4.0;
  for (QCustomPlot* plot : {mse_l0_, score_l0_}) {
    plot->xAxis->setScaleType(log_l0 ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (log_l0) plot->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    else plot->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  }
  if (!colour_scale_) {
    colour_scale_ = new QCPColorScale(mse_l0_);
    colour_scale_->setGradient(gradient);
    colour_scale_->setDataRange(scoreRange);
    mse_l0_->plotLayout()->addElement(1, 1, colour_scale_);
  }
  colour_scale_->setLabel(scoreName);
  colour_scale_->axis()->setTickLabelColor(mse_l0_->palette().color(QPalette::WindowText));
  colour_scale_->axis()->setLabelColor(mse_l0_->palette().color(QPalette::WindowText));

  // 2. The score against L0.
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    const auto s = EvaluationModel::score(r, scoreName);
    if (!s || !r.l0) continue;
    addPoints(score_l0_, {*r.l0}, {*s}, {int(i)}, seriesColour(0), describe(r), false);
  }
  titled(score_l0_, tr("%1 against L0").arg(scoreName));
  score_l0_->xAxis->setLabel(tr("L0"));
  score_l0_->yAxis->setLabel(scoreName);

  // 3. The score per layer, one series per SAE family (architecture + width).
  std::map<std::string, std::vector<size_t>> families;
  for (size_t i = 0; i < rows.size(); ++i)
    if (rows[i].layer >= 0 && EvaluationModel::score(rows[i], scoreName))
      families[rows[i].family].push_back(i);
  int series = 0;
  for (auto& [family, members] : families) {
    std::sort(members.begin(), members.end(),
              [&](size_t a, size_t b) { return rows[a].layer < rows[b].layer; });
    QVector<double> x, y;
    QVariantList indices;
    for (size_t i : members) {
      x << rows[i].layer;
      y << *EvaluationModel::score(rows[i], scoreName);
      indices << int(i);
    }
    addPoints(layers_, x, y, indices, seriesColour(series++), QString::fromStdString(family), true);
  }
  titled(layers_, tr("%1 by layer").arg(scoreName));
  QSharedPointer<QCPAxisTickerFixed> integers(new QCPAxisTickerFixed);
  integers->setTickStep(1.0);
  integers->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
  layers_->xAxis->setTicker(integers);
  layers_->xAxis->setLabel(tr("layer"));
  layers_->yAxis->setLabel(scoreName);
  if (layers_->plotLayout()->rowCount() < 3 && layers_->plotLayout()->columnCount() < 2) {
    // The legend in rows below the axes: inside them it hides points.
    auto* legendRow = new QCPLayoutGrid;
    layers_->plotLayout()->addElement(2, 0, legendRow);
    layers_->axisRect()->insetLayout()->take(layers_->legend);
    legendRow->addElement(0, 0, layers_->legend);
    layers_->legend->setWrap(2);  // two entries a row
    layers_->legend->setFillOrder(QCPLegend::foColumnsFirst, /*rearrange=*/true);
    layers_->legend->setBorderPen(Qt::NoPen);
    layers_->plotLayout()->setRowStretchFactor(2, 0.001);
  }
  layers_->legend->setVisible(series > 0);
  layers_->legend->setBrush(layers_->palette().color(QPalette::Base));
  layers_->legend->setTextColor(layers_->palette().color(QPalette::WindowText));

  for (QCustomPlot* plot : {mse_l0_, score_l0_, layers_}) {
    plot->rescaleAxes();
    for (QCPAxis* axis : {plot->xAxis, plot->yAxis}) {  // breathing room around points
      const QCPRange r = axis->range();
      const double pad = r.size() > 0 ? r.size() * 0.08 : 0.5;
      axis->setRange(r.lower - pad, r.upper + pad);
    }
    plot->replot();
  }
}

QString EvaluationView::describe(const EvaluationRow& r) const {
  QStringList parts{QString::fromStdString(r.hook), QString::fromStdString(r.architecture)};
  if (!r.sparsity.empty()) parts << QString::fromStdString(r.sparsity);
  parts << QStringLiteral("d_sae %1").arg(r.d_sae);
  if (r.mse) parts << QStringLiteral("MSE %1").arg(*r.mse, 0, 'f', 4);
  if (r.l0) parts << QStringLiteral("L0 %1").arg(*r.l0, 0, 'f', 1);
  if (r.f1) parts << QStringLiteral("F1 %1").arg(*r.f1, 0, 'f', 3);
  return parts.join(QStringLiteral(" · "));
}

void EvaluationView::hover(QCustomPlot* plot, QMouseEvent* event) {
  double best = 12;  // pixels
  QString text;
  for (int g = 0; g < plot->graphCount(); ++g) {
    QCPGraph* graph = plot->graph(g);
    const QVariantList rows = graph->property(kRowsProperty).toList();
    int k = 0;
    for (auto it = graph->data()->constBegin(); it != graph->data()->constEnd(); ++it, ++k) {
      const QPointF p = graph->coordsToPixels(it->key, it->value);
      const double d = QLineF(p, event->position()).length();
      if (d < best && k < rows.size()) {
        best = d;
        text = describe(model_->rows()[static_cast<size_t>(rows[k].toInt())]);
      }
    }
  }
  if (text.isEmpty()) QToolTip::hideText();
  else QToolTip::showText(event->globalPosition().toPoint(), text, plot);
}

bool EvaluationView::exportCsv(const QString& path, QString* error) const {
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
    if (error) *error = tr("%1: cannot write (%2)").arg(path, f.errorString());
    return false;
  }
  f.write(model_->toCsv().toUtf8());
  return f.error() == QFile::NoError;
}

QStringList EvaluationView::exportCharts(const QString& dir, int width, int height, int dpi,
                                         QString* error) {
  QStringList written;
  const std::pair<QCustomPlot*, QString> charts[] = {
      {mse_l0_, QStringLiteral("mse_l0")}, {score_l0_, QStringLiteral("separation_l0")},
      {layers_, QStringLiteral("layers")}};
  for (const auto& [plot, name] : charts)
    for (const char* ext : {"png", "pdf", "svg"}) {
      const QString path = QDir(dir).filePath(name + QLatin1Char('.') + QLatin1String(ext));
      if (!exportChart(plot, path, width, height, dpi, error)) return written;
      written << path;
    }
  return written;
}

namespace {

// The layer chart's legend sits in a row below the axes (two entries a row);
// on a wide slide that row would squash the axes, so it moves beside them,
// one entry a row, and back after.
void placeLegendRow(QCustomPlot* plot, bool beside) {
  QCPLayoutGrid* grid = plot->plotLayout();
  QCPLayoutElement* row = beside ? grid->element(2, 0) : grid->element(1, 1);
  if (!row) return;
  grid->take(row);
  grid->simplify();
  if (beside) {
    grid->addElement(1, 1, row);
    grid->setColumnStretchFactor(1, 0.001);
  } else {
    grid->addElement(2, 0, row);
    grid->setRowStretchFactor(2, 0.001);
  }
  plot->legend->setWrap(beside ? 1 : 2);
  plot->legend->setFillOrder(QCPLegend::foColumnsFirst, /*rearrange=*/true);
}

}  // namespace

ReportContent EvaluationView::reportContent() const {
  ReportContent c;
  c.title = tr("SAEScope evaluation report");
  const auto distinct = [this](int column) {  // a column's values, each once, in row order
    QStringList values;
    for (int r = 0; r < model_->rowCount(); ++r)
      if (const QString v = model_->data(model_->index(r, column), Qt::DisplayRole).toString(); !values.contains(v))
        values << v;
    return values;
  };
  QStringList hooks = distinct(EvaluationModel::Hook);
  hooks.removeAll(QString());
  if (auto* ws = session_->workspace()) {
    for (const auto& f : store::evaluation_findings(store::evaluation_table(*ws)))
      c.findings << QString::fromStdString(f.text);
    for (const auto& m : ws->inputs(store::InputKind::Model))
      c.summary << tr("Model: %1 (%2, %3 layers, width %4), from %5")
                       .arg(QString::fromStdString(store::input_name(m)),
                            QString::fromStdString(m.config.value("model_type", std::string())))
                       .arg(m.config.value("n_layer", 0))
                       .arg(m.config.value("n_embd", 0))
                       .arg(QString::fromStdString(m.path));
    for (const auto& d : ws->inputs(store::InputKind::Dataset))
      c.summary << tr("Sense dataset: %1").arg(QFileInfo(QString::fromStdString(d.path)).fileName());
    for (const auto& d : ws->inputs(store::InputKind::Corpus))
      c.summary << tr("Corpus: %1").arg(QFileInfo(QString::fromStdString(d.path)).fileName());
  }
  c.summary << tr("%n SAE(s) at %1 hook(s): %2", "", model_->rowCount()).arg(hooks.size()).arg(hooks.join(QStringLiteral(", ")));
  c.summary << tr("Separation score shown: %1").arg(score_->currentText());
  c.summary << tr("Workspace: %1").arg(session_->path());
  c.summary << tr("Date: %1 · SAEScope %2").arg(QDateTime::currentDateTime().toString(Qt::ISODate), QStringLiteral(SAESCOPE_VERSION));
  c.charts = {
      {mse_l0_, reconstruction_->currentData().toString() == QLatin1String("fvu")
                    ? tr("Each point is an SAE: how much of its input's variance it fails to reconstruct (FVU = 1 − "
                         "explained variance, lower is better; comparable across hooks, unlike MSE) against the "
                         "features that fire per token (L0, lower is sparser); colour is its sense-separation score. "
                         "Further down and left is a better reconstruction at the same sparsity.")
                    : tr("Each point is an SAE: reconstruction error (MSE, lower is better) against the features that "
                         "fire per token (L0, lower is sparser); colour is its sense-separation score. MSE is on each "
                         "hook's own scale: compare SAEs of one hook.")},
      {score_l0_, tr("Each point is an SAE: how well its most active feature tells a word's senses apart (PS-Eval, "
                     "higher is better) against L0. A better MSE-L0 trade-off does not imply better separation "
                     "(Minegishi et al., ICLR 2025); read F1 beside specificity, as F1 rewards a feature that fires "
                     "for every sense.")},
      {layers_,
       tr("Sense separation by layer, one line per hook: how it changes with depth, and attention against MLP "
          "outputs."),
       [plot = layers_](bool beside) { placeLegendRow(plot, beside); }}};
  c.methods << tr("PS-Eval (Minegishi et al., ICLR 2025): a word in two contexts is run through the model; the SAE "
                  "encodes the activation at the word, and the pair is predicted \"same sense\" when both contexts "
                  "share their most active feature. Against the pairs' labels this gives accuracy, precision, recall, "
                  "specificity (true negatives / all different-sense pairs) and F1 = 2PR / (P + R).")
            << tr("MSE: mean over tokens of the squared reconstruction error, summed over the hook's width. "
                  "L0: features active per token. Explained variance: 1 − Σ‖x − x̂‖² / Σ‖x − mean(x)‖²; "
                  "FVU = 1 − explained variance. CE loss recovered: (CE with the hook zeroed − CE with the SAE "
                  "spliced in) / (CE zeroed − CE clean), over next-token predictions.")
            << tr("Purity and NMI (Senses view): the argmax feature of each sense-labelled occurrence against its "
                  "sense, per word, averaged over words. The word pages show the SAE with the highest NMI "
                  "(weighted by each word's occurrences) and its best and worst words among those with two senses "
                  "seen at least twice and 8 occurrences: a word seen once per sense scores NMI 1 by construction.");
  if (auto* ws = session_->workspace())
    for (const auto& d : ws->inputs(store::InputKind::Dataset))
      c.methods << tr("Sense data: %1, %2 format, %3 pairs, %4 sense-labelled occurrences.")
                       .arg(QFileInfo(QString::fromStdString(d.path)).fileName(),
                            QString::fromStdString(d.config.value("format", std::string("?"))))
                       .arg(d.config.value("pairs", 0LL))
                       .arg(d.config.value("occurrences", 0LL));
  c.table = model_;
  // The slides: which SAE (the hook whole, its architecture, size and
  // sparsity setting) beside the scores comparable across hooks (not MSE),
  // then F1 beside specificity, which must be read together. Every column is
  // in the report; a slide with all of them is unreadable from the back.
  using M = EvaluationModel;
  std::vector<int> label = {M::Hook, M::Architecture, M::DSae, M::Sparsity};
  if (distinct(M::Model).size() > 1) label.insert(label.begin(), M::Model);
  c.slide_tables = {
      {tr("Reconstruction per SAE"), tr("SAE"), label, {M::L0, M::ExplainedVariance, M::CeRecovered}, {}},
      {tr("Sense separation per SAE (PS-Eval)"), tr("SAE"), label, {M::F1, M::Specificity},
       {tr("F1"), tr("specificity")}}};
  if (auto* ws = session_->workspace()) c.words = polysemy::report_word_pages(*ws);
  return c;
}

bool EvaluationView::exportReport(const QString& path, QString* error) {
  return writeEvaluationReport(path, reportContent(), error);
}

bool EvaluationView::exportSlides(const QString& path, QString* error) {
  return writeEvaluationSlides(path, reportContent(), error);
}

void EvaluationView::exportDialog() {
  ExportDialog dialog(tr("Export charts, table and report"), QDir::homePath(), false, this);
  if (dialog.exec() != QDialog::Accepted) return;
  const ExportOptions o = dialog.options();
  QString error;
  QStringList files;
  if (!QDir().mkpath(o.path)) error = tr("%1: cannot create the folder").arg(o.path);
  if (error.isEmpty()) files = exportCharts(o.path, o.width, o.height, o.dpi, &error);
  const QString csv = QDir(o.path).filePath(QStringLiteral("evaluation.csv"));
  if (error.isEmpty() && exportCsv(csv, &error)) files << csv;
  const QString report = QDir(o.path).filePath(QStringLiteral("report.pdf"));
  if (error.isEmpty() && exportReport(report, &error)) files << report;
  const QString slides = QDir(o.path).filePath(QStringLiteral("slides.pdf"));
  if (error.isEmpty() && exportSlides(slides, &error)) files << slides;
  if (!error.isEmpty()) QMessageBox::critical(this, tr("Export failed"), error);
  else QMessageBox::information(this, tr("Exported"), files.join(QLatin1Char('\n')));
}

}  // namespace saescope::ui
