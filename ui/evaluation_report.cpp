#include "ui/evaluation_report.h"

#include <QAbstractItemModel>
#include <QPdfWriter>
#include <algorithm>
#include <qcustomplot.h>

namespace saescope::ui {
namespace {

constexpr int kMargin = 38;  // device pixels at 96 dpi: 1 cm

void drawTitlePage(QPainter& p, const QRect& page, const ReportContent& c) {
  QFont title = p.font();
  title.setPointSize(22);
  title.setBold(true);
  p.setFont(title);
  p.drawText(QRect(page.left(), page.top(), page.width(), 140), Qt::AlignLeft | Qt::AlignVCenter, c.title);
  QFont body = title;
  body.setPointSize(13);
  body.setBold(false);
  p.setFont(body);
  p.drawText(QRect(page.left(), page.top() + 170, page.width(), page.height() - 170),
             Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap, c.summary.join(QLatin1Char('\n')));
}

// The chart drawn at the page's size (not the widget's, which may be tiny or
// unshown in a headless export), the caption below it.
void drawChartPage(QCPPainter& p, const QRect& page, const ReportChart& chart) {
  QFont caption = p.font();
  caption.setPointSize(11);
  caption.setBold(false);
  p.setFont(caption);
  const QRect captionBox(page.left(), page.bottom() - 90, page.width(), 90);
  const int w = page.width(), h = page.height() - captionBox.height() - 12;
  p.save();
  p.translate(page.topLeft());
  chart.plot->toPainter(&p, w, h);
  p.restore();
  p.setPen(Qt::black);
  p.setFont(caption);
  p.drawText(captionBox, Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap, chart.caption);
}

// Column widths for `font`: the widest header or cell of each column.
std::vector<int> columnWidths(const QAbstractItemModel& m, const QFont& font, QPaintDevice* device) {
  const QFontMetrics fm(font, device);
  std::vector<int> w(static_cast<size_t>(m.columnCount()), 0);
  for (int c = 0; c < m.columnCount(); ++c) {
    w[static_cast<size_t>(c)] = fm.horizontalAdvance(m.headerData(c, Qt::Horizontal).toString());
    for (int r = 0; r < m.rowCount(); ++r)
      w[static_cast<size_t>(c)] = std::max(w[static_cast<size_t>(c)], fm.horizontalAdvance(m.data(m.index(r, c)).toString()));
    w[static_cast<size_t>(c)] += fm.averageCharWidth() * 2;  // the gap between columns
  }
  return w;
}

void drawTable(QPainter& p, QPdfWriter& pdf, const QRect& page, const QAbstractItemModel& m) {
  QFont font = p.font();
  font.setBold(false);
  std::vector<int> widths;
  for (int pt = 10; pt >= 4; --pt) {  // the largest size at which every cell fits whole
    font.setPointSize(pt);
    widths = columnWidths(m, font, &pdf);
    int total = 0;
    for (int w : widths) total += w;
    if (total <= page.width()) break;
  }
  const QFontMetrics fm(font, &pdf);
  const int line = fm.height() + fm.height() / 3;
  const auto header = [&](int y) {
    QFont bold = font;
    bold.setBold(true);
    p.setFont(bold);
    int x = page.left();
    for (int c = 0; c < m.columnCount(); ++c) {
      p.drawText(QRect(x, y, widths[static_cast<size_t>(c)], line), Qt::AlignLeft | Qt::AlignVCenter,
                 m.headerData(c, Qt::Horizontal).toString());
      x += widths[static_cast<size_t>(c)];
    }
    p.drawLine(page.left(), y + line, page.right(), y + line);
    p.setFont(font);
    return y + line + 4;
  };
  int y = header(page.top());
  for (int r = 0; r < m.rowCount(); ++r) {
    if (y + line > page.bottom()) {
      pdf.newPage();
      y = header(page.top());
    }
    int x = page.left();
    for (int c = 0; c < m.columnCount(); ++c) {
      p.drawText(QRect(x, y, widths[static_cast<size_t>(c)], line), Qt::AlignLeft | Qt::AlignVCenter,
                 m.data(m.index(r, c)).toString());
      x += widths[static_cast<size_t>(c)];
    }
    y += line;
  }
}

}  // namespace

bool writeEvaluationReport(const QString& path, const ReportContent& c, QString* error) {
  QPdfWriter pdf(path);
  pdf.setPageSize(QPageSize(QPageSize::A4));
  pdf.setPageOrientation(QPageLayout::Landscape);
  pdf.setResolution(96);  // the screen's: QCustomPlot lays out its text with screen metrics
  pdf.setTitle(c.title);
  pdf.setCreator(QStringLiteral("SAEScope " SAESCOPE_VERSION));
  QCPPainter painter;  // a QPainter that QCustomPlot can draw into
  if (!painter.begin(&pdf)) {
    if (error) *error = QObject::tr("%1: cannot write the report").arg(path);
    return false;
  }
  painter.setPen(Qt::black);
  const QRect page = painter.viewport().adjusted(kMargin, kMargin, -kMargin, -kMargin);
  drawTitlePage(painter, page, c);
  for (const ReportChart& chart : c.charts) {
    pdf.newPage();
    drawChartPage(painter, page, chart);
  }
  if (c.table && c.table->rowCount() > 0) {
    pdf.newPage();
    drawTable(painter, pdf, page, *c.table);
  }
  if (!painter.end()) {
    if (error) *error = QObject::tr("%1: could not finish the report").arg(path);
    return false;
  }
  return true;
}

}  // namespace saescope::ui
