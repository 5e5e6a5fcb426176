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
  font.setBold(true);
  const QString heading = QObject::tr("“%1”: among the %2 separated words")
                              .arg(q(w.word), w.best ? QObject::tr("best") : QObject::tr("worst"));
  // A long word shrinks the heading (to two thirds at most) rather than lose its end.
  font.setPointSize(heading_pt);
  for (int pt = heading_pt; pt > heading_pt * 2 / 3; --pt) {
    font.setPointSize(pt);
    if (QFontMetrics(font, p.device()).horizontalAdvance(heading) <= page.width()) break;
  }
  p.setFont(font);
  const QFontMetrics head(font, p.device());
  p.setPen(Qt::black);
  p.drawText(QRect(page.left(), page.top(), page.width(), head.height() * 2), Qt::AlignLeft | Qt::AlignVCenter,
             head.elidedText(heading, Qt::ElideRight, page.width()));
  int y = page.top() + head.height() * 2;
  font.setPointSize(body_pt);
  font.setBold(false);
  p.setFont(font);
  const QFontMetrics fm(font, p.device());
  const int line = fm.height() + fm.height() / 3;
  const QString scores = QObject::tr("NMI %1 · purity %2 · %3 sense-labelled occurrences · SAE %4%5")
                             .arg(w.nmi, 0, 'f', 2)
                             .arg(w.purity, 0, 'f', 2)
                             .arg(w.occurrences)
                             .arg(QFileInfo(q(w.sae)).fileName(),
                                  w.hook.empty() ? QString() : QObject::tr(" at %1").arg(q(w.hook)));
  const QRect scoresBox(page.left(), y, page.width(), page.bottom() - y);
  const int scoresHeight = p.boundingRect(scoresBox, Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap, scores).height();
  p.drawText(scoresBox, Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap, scores);
  y += scoresHeight + line / 2;
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
  QString text = first_sentence ? chart.caption.section(QStringLiteral(". "), 0, 0) : chart.caption;
  if (!text.endsWith(QLatin1Char('.'))) text += QLatin1Char('.');
  QFont caption = p.font();
  caption.setPointSize(caption_pt);
  caption.setBold(false);
  p.setFont(caption);
  const int captionHeight =
      p.boundingRect(QRect(0, 0, page.width(), page.height()), Qt::AlignLeft | Qt::TextWordWrap, text).height();
  const QRect captionBox(page.left(), page.bottom() - captionHeight, page.width(), captionHeight);
  const int w = page.width(), h = page.height() - captionBox.height() - 12;
  const bool wide = zoom > 1.0 && chart.legend_beside;
  if (wide) chart.legend_beside(true);
  p.save();
  p.translate(page.topLeft());
  p.scale(zoom, zoom);
  chart.plot->toPainter(&p, static_cast<int>(w / zoom), static_cast<int>(h / zoom));
  p.restore();
  if (wide) chart.legend_beside(false);
  p.setPen(Qt::black);
  p.setFont(caption);
  p.drawText(captionBox, Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap, text);
}

// A table as it is printed: headers and cells as text, chosen columns of the
// model; `label` joins several columns into the first cell ("blocks.2.hook_
// resid_post topk 1536 k=32") so a narrow slide still says which row is which.
struct TableText {
  QStringList headers;
  std::vector<QStringList> rows;
  std::vector<bool> numeric;  // right-aligned: every cell a number or a dash
};

TableText tableText(const QAbstractItemModel& m, const ReportTable& spec) {
  TableText t;
  const auto cell = [&](int r, int c) { return m.data(m.index(r, c)).toString(); };
  if (!spec.label_columns.empty()) t.headers << spec.label_header;
  for (size_t i = 0; i < spec.columns.size(); ++i)
    t.headers << (i < static_cast<size_t>(spec.headers.size()) ? spec.headers[static_cast<int>(i)]
                                                               : m.headerData(spec.columns[i], Qt::Horizontal).toString());
  for (int r = 0; r < m.rowCount(); ++r) {
    QStringList row, label;
    for (int c : spec.label_columns) label << cell(r, c);
    if (!spec.label_columns.empty()) row << label.join(QLatin1Char(' '));
    for (int c : spec.columns) row << cell(r, c);
    t.rows.push_back(row);
  }
  for (int c = 0; c < t.headers.size(); ++c) {
    bool numeric = true;
    for (const QStringList& row : t.rows) {
      bool ok = false;
      row[c].toDouble(&ok);
      numeric = numeric && (ok || row[c] == QStringLiteral("—"));
    }
    t.numeric.push_back(numeric && !t.rows.empty());
  }
  return t;
}

// The narrowest a header can be on at most two lines: split at its best space.
int twoLineWidth(const QString& header, const QFontMetrics& bold) {
  int best = bold.horizontalAdvance(header);
  for (int i = header.indexOf(QLatin1Char(' ')); i >= 0; i = header.indexOf(QLatin1Char(' '), i + 1))
    best = std::min(best, std::max(bold.horizontalAdvance(header.left(i)), bold.horizontalAdvance(header.mid(i + 1))));
  return best;
}

int totalWidth(const std::vector<int>& widths) {
  int total = 0;
  for (int w : widths) total += w;
  return total;
}

// Column widths at `pt`: the widest cell or header (bold, as drawn), and a
// gap. When that is wider than `fit`, headers go on two lines ("PS" over
// "specificity") where they are wider than their cells.
std::vector<int> columnWidths(const TableText& t, QFont font, int pt, QPaintDevice* device, int fit) {
  font.setPointSize(pt);
  font.setBold(false);
  QFont bold = font;
  bold.setBold(true);
  const QFontMetrics fm(font, device), bm(bold, device);
  std::vector<int> w;
  for (bool two_lines : {false, true}) {
    w.clear();
    for (int c = 0; c < t.headers.size(); ++c) {
      int widest = two_lines ? twoLineWidth(t.headers[c], bm) : bm.horizontalAdvance(t.headers[c]);
      for (const QStringList& row : t.rows) widest = std::max(widest, fm.horizontalAdvance(row[c]));
      w.push_back(widest + fm.averageCharWidth() * 3 / 2);
    }
    if (totalWidth(w) <= fit) break;
  }
  return w;
}

// The table under a heading at `pt`, continued on further pages (the heading
// and the header row repeated) when the rows do not fit one.
void drawTable(QPainter& p, QPdfWriter& pdf, const QRect& page, const QString& title, int heading_pt,
               const TableText& t, int pt) {
  const std::vector<int> widths = columnWidths(t, p.font(), pt, &pdf, page.width());
  QFont font = p.font(), bold = p.font(), heading = p.font();
  font.setPointSize(pt);
  font.setBold(false);
  bold.setPointSize(pt);
  bold.setBold(true);
  heading.setPointSize(heading_pt);
  heading.setBold(true);
  const QFontMetrics fm(font, &pdf);
  const int line = fm.height() + fm.height() / 6, pad = fm.averageCharWidth();
  const auto row = [&](int y, int height, const QStringList& cells) {
    int x = page.left();
    for (int c = 0; c < cells.size(); ++c) {
      const int w = widths[static_cast<size_t>(c)];
      const int align = t.numeric[static_cast<size_t>(c)] ? Qt::AlignRight : Qt::AlignLeft;
      p.drawText(QRect(x, y, w - pad, height), align | Qt::AlignBottom | Qt::TextWordWrap, cells[c]);
      x += w;
    }
  };
  const QFontMetrics bm(bold, &pdf);
  bool wrapped = false;  // a header on two lines makes the header row two lines high
  for (int c = 0; c < t.headers.size(); ++c)
    wrapped = wrapped || bm.horizontalAdvance(t.headers[c]) > widths[static_cast<size_t>(c)] - pad;
  const int header_height = wrapped ? line + bm.lineSpacing() : line;
  const auto top = [&](bool continued) {
    p.setFont(heading);
    const int head = QFontMetrics(heading, &pdf).height() * 8 / 5;
    p.drawText(QRect(page.left(), page.top(), page.width(), head), Qt::AlignLeft | Qt::AlignVCenter,
               continued ? QObject::tr("%1 (continued)").arg(title) : title);
    p.setFont(bold);
    const int y = page.top() + head;
    row(y, header_height, t.headers);
    p.drawLine(page.left(), y + header_height + 2, page.left() + totalWidth(widths), y + header_height + 2);
    p.setFont(font);
    return y + header_height + line / 4;
  };
  int y = top(false);
  for (const QStringList& cells : t.rows) {
    if (y + line > page.bottom()) {
      pdf.newPage();
      y = top(true);
    }
    row(y, line, cells);
    y += line;
  }
}

// The report's table: every column, at the largest size (11 pt down to 6)
// at which the widest cells fit the page's width.
void drawReportTable(QPainter& p, QPdfWriter& pdf, const QRect& page, const QAbstractItemModel& m) {
  ReportTable all;
  for (int c = 0; c < m.columnCount(); ++c) all.columns.push_back(c);
  const TableText t = tableText(m, all);
  int pt = 11;
  while (pt > 6 && totalWidth(columnWidths(t, p.font(), pt, &pdf, page.width())) > page.width()) --pt;
  drawTable(p, pdf, page, QObject::tr("Every SAE evaluated"), 20, t, pt);
}

// Table slides at 18 pt, each on a new page: when the columns do not fit the
// slide's width they go on as many slides as they need, each repeating the
// label column.
void drawSlideTables(QPainter& p, QPdfWriter& pdf, const QRect& page, const QAbstractItemModel& m,
                     const ReportTable& spec) {
  constexpr int kPt = 18;
  const TableText whole = tableText(m, spec);
  const std::vector<int> widths = columnWidths(whole, p.font(), kPt, &pdf, page.width());
  const int label = spec.label_columns.empty() ? 0 : 1;
  const int label_width = label ? widths.front() : 0;
  std::vector<std::vector<size_t>> groups;  // indices into spec.columns
  int used = label_width;
  for (size_t i = 0; i < spec.columns.size(); ++i) {
    const int w = widths[i + static_cast<size_t>(label)];
    if (groups.empty() || used + w > page.width()) groups.emplace_back(), used = label_width;
    groups.back().push_back(i);
    used += w;
  }
  for (size_t g = 0; g < groups.size(); ++g) {
    ReportTable part = spec;
    part.columns.clear();
    part.headers.clear();
    for (size_t i : groups[g]) {
      part.columns.push_back(spec.columns[i]);
      if (i < static_cast<size_t>(spec.headers.size())) part.headers << spec.headers[static_cast<int>(i)];
    }
    pdf.newPage();
    const QString title = groups.size() == 1 ? spec.title
                                             : QObject::tr("%1 (%2 of %3)").arg(spec.title).arg(g + 1).arg(groups.size());
    drawTable(p, pdf, page, title, 24, tableText(m, part), kPt);
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
      drawReportTable(p, pdf, page, *c.table);
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
      drawChartPage(p, page, chart, 18, 2.0, /*first_sentence=*/true);
    }
    if (c.table && c.table->rowCount() > 0)
      for (const ReportTable& table : c.slide_tables) drawSlideTables(p, pdf, page, *c.table, table);
    for (const polysemy::WordPage& w : c.words) {  // fewer, larger lines: read from the back of a room
      pdf.newPage();
      drawWordPage(p, page, w, 28, 18, 5);
    }
  }, error);
}

}  // namespace saescope::ui
