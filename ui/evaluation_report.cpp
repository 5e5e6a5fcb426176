#include "ui/evaluation_report.h"

#include <QAbstractItemModel>
#include <QFileInfo>
#include <QPdfWriter>
#include <algorithm>
#include <functional>
#include <qcustomplot.h>

#include "ui/sense_palette.h"

namespace saescope::ui {
namespace {

constexpr int kMargin = 38;  // device pixels at 96 dpi: 1 cm

// A heading and lines of text below it; `body_pt` sets the reading size.
void drawTextPage(QPainter& p, const QRect& page, const QString& heading, const QStringList& lines, int heading_pt,
                  int body_pt, const QString& bullet = QString()) {
  QFont title = p.font();
  title.setPointSize(heading_pt);
  title.setBold(true);
  p.setFont(title);
  const int head = QFontMetrics(title, p.device()).height() * 2;
  p.drawText(QRect(page.left(), page.top(), page.width(), head), Qt::AlignLeft | Qt::AlignVCenter, heading);
  QFont body = title;
  body.setPointSize(body_pt);
  body.setBold(false);
  p.setFont(body);
  int y = page.top() + head + head / 4;
  for (const QString& line : lines) {
    const QRect box(page.left(), y, page.width(), page.bottom() - y);
    const QRect used = p.boundingRect(box, Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap, bullet + line);
    p.drawText(box, Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap, bullet + line);
    y += used.height() + QFontMetrics(body, p.device()).height() / 2;
  }
}

// A word's page: its scores, its senses (a colour each), and occurrences
// with the word in its gold sense's colour and a chip for its argmax feature
// in the colour of the sense that feature mostly fires for.
void drawWordPage(QPainter& p, const QRect& page, const polysemy::WordPage& w, int heading_pt, int body_pt,
                  int max_rows) {
  const auto q = [](const std::string& s) { return QString::fromStdString(s); };
  QFont font = p.font();
  font.setPointSize(heading_pt);
  font.setBold(true);
  p.setFont(font);
  const QFontMetrics head(font, p.device());
  p.setPen(Qt::black);
  p.drawText(QRect(page.left(), page.top(), page.width(), head.height() * 2), Qt::AlignLeft | Qt::AlignVCenter,
             QObject::tr("“%1”: among the %2 separated words").arg(q(w.word), w.best ? QObject::tr("best")
                                                                                      : QObject::tr("worst")));
  int y = page.top() + head.height() * 2;
  font.setPointSize(body_pt);
  font.setBold(false);
  p.setFont(font);
  const QFontMetrics fm(font, p.device());
  const int line = fm.height() + fm.height() / 3;
  p.drawText(QRect(page.left(), y, page.width(), line), Qt::AlignLeft | Qt::AlignVCenter,
             QObject::tr("NMI %1 · purity %2 · %3 sense-labelled occurrences · SAE %4%5")
                 .arg(w.nmi, 0, 'f', 2)
                 .arg(w.purity, 0, 'f', 2)
                 .arg(w.occurrences)
                 .arg(QFileInfo(q(w.sae)).fileName(),
                      w.hook.empty() ? QString() : QObject::tr(" at %1").arg(q(w.hook))));
  y += line * 3 / 2;
  const int swatch = fm.height() * 2 / 3;
  for (size_t s = 0; s < w.senses.size() && y + line < page.bottom(); ++s) {
    p.fillRect(QRect(page.left(), y + (line - swatch) / 2, swatch, swatch), senseColourAt(static_cast<int>(s)));
    p.drawText(QRect(page.left() + swatch * 2, y, page.width() - swatch * 2, line), Qt::AlignLeft | Qt::AlignVCenter,
               fm.elidedText(q(w.senses[s]), Qt::ElideRight, page.width() - swatch * 2));
    y += line;
  }
  y += line / 2;
  const int chip_w = fm.horizontalAdvance(QStringLiteral(" f00000 ")), gap = fm.horizontalAdvance(QLatin1Char(' '));
  QFont bold = font;
  bold.setBold(true);
  const QFontMetrics bm(bold, p.device());
  int shown = 0;
  for (const polysemy::WordPageOccurrence& o : w.rows) {
    if (shown++ >= max_rows || y + line > page.bottom()) break;
    const QRect chip(page.left(), y + 2, chip_w, line - 4);
    p.fillRect(chip, senseColourAt(o.feature_sense));
    p.setPen(Qt::white);
    p.drawText(chip, Qt::AlignCenter, o.feature < 0 ? QObject::tr("none") : QStringLiteral("f%1").arg(o.feature));
    // The word sits two fifths across the text: the context elided at both ends.
    const int left = page.left() + chip_w + gap, width = page.right() - left;
    const QString word = q(o.word).simplified();
    const int word_w = bm.horizontalAdvance(word);
    const int before_w = std::max(0, width * 2 / 5 - word_w / 2);
    const QString before = fm.elidedText(q(o.before).simplified(), Qt::ElideLeft, before_w);
    const int word_x = left + before_w;
    p.setPen(Qt::black);
    p.setFont(font);
    p.drawText(QRect(left, y, before_w, line), Qt::AlignRight | Qt::AlignVCenter, before);
    p.setFont(bold);
    p.setPen(senseColourAt(o.sense));
    p.drawText(QRect(word_x + gap, y, word_w + gap, line), Qt::AlignLeft | Qt::AlignVCenter, word);
    p.setFont(font);
    p.setPen(Qt::black);
    const int after_x = word_x + gap + word_w + gap;
    p.drawText(QRect(after_x, y, page.right() - after_x, line), Qt::AlignLeft | Qt::AlignVCenter,
               fm.elidedText(q(o.after).simplified(), Qt::ElideRight, page.right() - after_x));
    y += line;
  }
  p.setPen(Qt::black);
}

void drawTitlePage(QPainter& p, const QRect& page, const ReportContent& c) {
  drawTextPage(p, page, c.title, c.summary, 22, 13);
}

// The chart drawn at the page's size (not the widget's, which may be tiny or
// unshown in a headless export), the caption below it.
// `zoom` > 1 draws the chart smaller and scales it up: larger text for slides.
void drawChartPage(QCPPainter& p, const QRect& page, const ReportChart& chart, int caption_pt, double zoom = 1.0,
                   bool first_sentence = false) {
  const QString text = first_sentence ? chart.caption.section(QStringLiteral(". "), 0, 0) + QLatin1Char('.') : chart.caption;
  QFont caption = p.font();
  caption.setPointSize(caption_pt);
  caption.setBold(false);
  p.setFont(caption);
  const int captionHeight =
      p.boundingRect(QRect(0, 0, page.width(), page.height()), Qt::AlignLeft | Qt::TextWordWrap, text).height();
  const QRect captionBox(page.left(), page.bottom() - captionHeight, page.width(), captionHeight);
  const int w = page.width(), h = page.height() - captionBox.height() - 12;
  p.save();
  p.translate(page.topLeft());
  p.scale(zoom, zoom);
  chart.plot->toPainter(&p, static_cast<int>(w / zoom), static_cast<int>(h / zoom));
  p.restore();
  p.setPen(Qt::black);
  p.setFont(caption);
  p.drawText(captionBox, Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap, text);
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


// One PDF of pages drawn by `pages` (which calls newPage between them).
bool writePdf(const QString& path, const QPageLayout& layout, const QString& title,
              const std::function<void(QCPPainter&, QPdfWriter&, const QRect&)>& pages, QString* error) {
  QPdfWriter pdf(path);
  pdf.setPageLayout(layout);
  pdf.setResolution(96);  // the screen's: QCustomPlot lays out its text with screen metrics
  pdf.setTitle(title);
  pdf.setCreator(QStringLiteral("SAEScope " SAESCOPE_VERSION));
  QCPPainter painter;  // a QPainter that QCustomPlot can draw into
  if (!painter.begin(&pdf)) {
    if (error) *error = QObject::tr("%1: cannot write the file").arg(path);
    return false;
  }
  painter.setPen(Qt::black);
  pages(painter, pdf, painter.viewport().adjusted(kMargin, kMargin, -kMargin, -kMargin));
  if (!painter.end()) {
    if (error) *error = QObject::tr("%1: could not finish the file").arg(path);
    return false;
  }
  return true;
}

}  // namespace

bool writeEvaluationReport(const QString& path, const ReportContent& c, QString* error) {
  const QPageLayout a4(QPageSize(QPageSize::A4), QPageLayout::Landscape, QMarginsF());
  return writePdf(path, a4, c.title, [&](QCPPainter& p, QPdfWriter& pdf, const QRect& page) {
    drawTitlePage(p, page, c);
    if (!c.findings.isEmpty()) {
      pdf.newPage();
      drawTextPage(p, page, QObject::tr("Findings"), c.findings, 20, 13, QStringLiteral("•  "));
    }
    for (const ReportChart& chart : c.charts) {
      pdf.newPage();
      drawChartPage(p, page, chart, 11);
    }
    if (c.table && c.table->rowCount() > 0) {
      pdf.newPage();
      drawTable(p, pdf, page, *c.table);
    }
    for (const polysemy::WordPage& w : c.words) {
      pdf.newPage();
      drawWordPage(p, page, w, 20, 12, 16);
    }
    if (!c.methods.isEmpty()) {
      pdf.newPage();
      drawTextPage(p, page, QObject::tr("Methods"), c.methods, 20, 12);
    }
  }, error);
}

bool writeEvaluationSlides(const QString& path, const ReportContent& c, QString* error) {
  // 16:9, 10 x 5.625 in: what presentation software calls widescreen.
  const QPageLayout wide(QPageSize(QSizeF(254.0, 142.875), QPageSize::Millimeter, QStringLiteral("16:9")),
                         QPageLayout::Portrait, QMarginsF());
  return writePdf(path, wide, c.title, [&](QCPPainter& p, QPdfWriter& pdf, const QRect& page) {
    drawTextPage(p, page, c.title, c.summary.mid(0, 4), 32, 20);
    for (const QString& finding : c.findings) {  // one message per slide
      pdf.newPage();
      drawTextPage(p, page, QObject::tr("Finding"), {finding}, 28, 24);
    }
    for (const ReportChart& chart : c.charts) {
      pdf.newPage();
      drawChartPage(p, page, chart, 18, 1.5, /*first_sentence=*/true);
    }
    if (c.table && c.table->rowCount() > 0) {
      pdf.newPage();
      drawTable(p, pdf, page, *c.table);
    }
    for (const polysemy::WordPage& w : c.words) {  // fewer, larger lines: read from the back of a room
      pdf.newPage();
      drawWordPage(p, page, w, 28, 18, 5);
    }
  }, error);
}

}  // namespace saescope::ui
