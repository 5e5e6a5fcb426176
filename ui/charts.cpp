#include "ui/charts.h"

#include "ui/export_dialog.h"
#include "ui/token_context_view.h"

#include <QAction>
#include <QDir>
#include <QMessageBox>

#include <QApplication>
#include <QFileInfo>
#include <QPalette>
#include <QSvgGenerator>
#include <cmath>
#include <qcustomplot.h>

namespace saescope::ui {

void applyPalette(QCustomPlot* plot) {
  const QPalette pal = plot->palette();
  const QColor fg = pal.color(QPalette::WindowText), bg = pal.color(QPalette::Base);
  plot->setBackground(bg);
  for (QCPAxis* axis : plot->axisRect()->axes()) {
    axis->setBasePen(QPen(fg));
    axis->setTickPen(QPen(fg));
    axis->setSubTickPen(QPen(fg));
    axis->setTickLabelColor(fg);
    axis->setLabelColor(fg);
    axis->grid()->setPen(QPen(QColor(fg.red(), fg.green(), fg.blue(), 40), 0, Qt::DotLine));
  }
}

namespace {
QCPTextElement* titleOf(QCustomPlot* plot) {
  if (plot->plotLayout()->rowCount() < 2) {
    plot->plotLayout()->insertRow(0);
    plot->plotLayout()->addElement(0, 0, new QCPTextElement(plot, QString(), QFont()));
  }
  auto* title = qobject_cast<QCPTextElement*>(plot->plotLayout()->element(0, 0));
  title->setTextColor(plot->palette().color(QPalette::WindowText));
  return title;
}
}  // namespace

void plotHistogram(QCustomPlot* plot, const store::Histogram& h, double density) {
  plot->clearPlottables();
  applyPalette(plot);
  titleOf(plot)->setText(QObject::tr("Activations (non-zero) · density %1").arg(density, 0, 'g', 3));
  if (h.counts.empty()) {
    plot->replot();
    return;
  }
  auto* bars = new QCPBars(plot->xAxis, plot->yAxis);
  bars->setBrush(QColor(255, 140, 0, 180));
  bars->setPen(Qt::NoPen);
  QVector<double> keys, values;
  for (size_t i = 0; i < h.counts.size(); ++i) {
    // Bars centred in log space: geometric mid of the bin edges.
    keys << std::sqrt(double(h.edges[i]) * double(h.edges[i + 1]));
    values << double(h.counts[i]);
  }
  bars->setData(keys, values);
  // Equal-width bins in log space: a fixed fraction of the axis rect each.
  bars->setWidthType(QCPBars::wtAxisRectRatio);
  bars->setWidth(0.8 / std::max<size_t>(1, h.counts.size()));
  plot->xAxis->setScaleType(QCPAxis::stLogarithmic);
  plot->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
  plot->xAxis->setRange(h.edges.front(), h.edges.back());
  plot->xAxis->setLabel(QObject::tr("activation"));
  plot->yAxis->setLabel(QObject::tr("tokens"));
  plot->yAxis->rescale();
  plot->yAxis->setRangeLower(0);
  plot->replot();
}

void plotLogitEffects(QCustomPlot* plot, const std::vector<store::LogitEffect>& effects) {
  plot->clearPlottables();
  applyPalette(plot);
  titleOf(plot)->setText(QObject::tr("Logit effects: promoted (green) / suppressed (red)"));
  auto* up = new QCPBars(plot->yAxis, plot->xAxis);
  auto* down = new QCPBars(plot->yAxis, plot->xAxis);
  up->setBrush(QColor(60, 170, 90));
  down->setBrush(QColor(210, 70, 60));
  up->setPen(Qt::NoPen);
  down->setPen(Qt::NoPen);
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  int position = 0;
  QVector<double> up_keys, up_vals, down_keys, down_vals;
  // Promoted on top (largest first), suppressed below.
  for (const auto& e : effects) {
    const double key = -(position++);
    const QString label =
        QStringLiteral("“%1”").arg(TokenContextView::displayToken(QString::fromStdString(e.token)));
    ticker->addTick(key, label);
    if (e.sign > 0) up_keys << key, up_vals << e.value;
    else down_keys << key, down_vals << e.value;
  }
  up->setData(up_keys, up_vals);
  down->setData(down_keys, down_vals);
  plot->yAxis->setTicker(ticker);
  plot->yAxis->setRange(-position + 0.5, 0.5);
  plot->xAxis->rescale();
  plot->xAxis->setLabel(QObject::tr("logit effect"));
  plot->replot();
}

bool exportChart(QCustomPlot* plot, const QString& path, int width, int height, int dpi,
                 QString* error) {
  const QString ext = QFileInfo(path).suffix().toLower();
  bool ok = false;
  if (ext == QLatin1String("png")) {
    ok = plot->savePng(path, width, height, 1.0, -1, dpi, QCP::ruDotsPerInch);
  } else if (ext == QLatin1String("pdf")) {
    ok = plot->savePdf(path, width, height, QCP::epNoCosmetic, QStringLiteral("SAEScope"),
                       QFileInfo(path).baseName());
  } else if (ext == QLatin1String("svg")) {
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(QSize(width, height));
    svg.setViewBox(QRect(0, 0, width, height));
    svg.setTitle(QFileInfo(path).baseName());
    QCPPainter painter;
    ok = painter.begin(&svg);
    if (ok) {
      plot->toPainter(&painter, width, height);
      ok = painter.end();
    }
  } else {
    if (error) *error = QObject::tr("%1: unknown chart format “%2” (png, pdf, svg)").arg(path, ext);
    return false;
  }
  if (!ok && error) *error = QObject::tr("%1: could not write the chart").arg(path);
  return ok;
}

void addExportAction(QCustomPlot* plot) {
  plot->setContextMenuPolicy(Qt::ActionsContextMenu);
  auto* action = new QAction(QObject::tr("Export chart…"), plot);
  QObject::connect(action, &QAction::triggered, plot, [plot] {
    ExportDialog dialog(QObject::tr("Export chart"),
                        QDir::home().filePath(plot->objectName() + QStringLiteral(".png")), true,
                        plot->window());
    if (dialog.exec() != QDialog::Accepted) return;
    const ExportOptions o = dialog.options();
    QString error;
    if (!exportChart(plot, o.path, o.width, o.height, o.dpi, &error))
      QMessageBox::critical(plot->window(), QObject::tr("Export failed"), error);
  });
  plot->addAction(action);
}

}  // namespace saescope::ui
