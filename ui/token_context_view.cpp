#include "ui/token_context_view.h"

#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>

namespace saescope::ui {

namespace {
constexpr int kLabelWidth = 230;
constexpr int kPad = 2;
}  // namespace

TokenContextView::TokenContextView(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

QString TokenContextView::displayToken(const QString& token) {
  QString t = token;
  t.replace(QLatin1Char('\n'), QStringLiteral("↵"));
  t.replace(QLatin1Char('\t'), QStringLiteral("→"));
  t.replace(QLatin1Char('\r'), QString());
  return t.isEmpty() ? QStringLiteral("·") : t;
}

void TokenContextView::setRows(QVector<ContextRow> rows, float scale) {
  rows_ = std::move(rows);
  scale_ = scale > 0 ? scale : 1.0f;
  setMinimumHeight(sizeHint().height());
  updateGeometry();
  update();
}

int TokenContextView::rowHeight() const { return fontMetrics().height() + 2 * kPad + 2; }

QSize TokenContextView::sizeHint() const {
  return {800, std::max(1, static_cast<int>(rows_.size())) * rowHeight()};
}

void TokenContextView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  hits_.clear();
  const QFontMetrics fm = fontMetrics();
  const int h = rowHeight();
  const QColor text = palette().color(QPalette::Text);
  const QColor muted = palette().color(QPalette::PlaceholderText);
  for (int r = 0; r < rows_.size(); ++r) {
    const ContextRow& row = rows_[r];
    const int y = r * h;
    p.setPen(muted);
    p.drawText(QRect(kPad, y, kLabelWidth - 2 * kPad, h), Qt::AlignVCenter | Qt::AlignLeft,
               fm.elidedText(row.label, Qt::ElideRight, kLabelWidth - 2 * kPad));
    const int left = kLabelWidth, avail = width() - left - kPad;
    if (row.tokens.isEmpty() || avail <= 0) continue;
    QVector<int> widths(row.tokens.size());
    for (int i = 0; i < row.tokens.size(); ++i)
      widths[i] = fm.horizontalAdvance(displayToken(row.tokens[i])) + 2;
    // Start so that the focus token sits about 40% across the available width.
    int start = std::clamp(row.focus, 0, static_cast<int>(row.tokens.size()) - 1);
    int before = 0;
    while (start > 0 && before + widths[start - 1] < avail * 2 / 5) before += widths[--start];
    int x = left;
    for (int i = start; i < row.tokens.size() && x < left + avail; ++i) {
      const float a = i < row.activations.size() ? row.activations[i] : 0.0f;
      const QRect cell(x, y + kPad, widths[i], h - 2 * kPad);
      if (a > 0) {
        const float t = std::min(1.0f, a / scale_);
        p.fillRect(cell, QColor(255, 140, 0, static_cast<int>(40 + 200 * t)));
      } else if (a < 0) {
        const float t = std::min(1.0f, -a / scale_);
        p.fillRect(cell, QColor(40, 120, 255, static_cast<int>(40 + 200 * t)));
      }
      p.setPen(text);
      if (i == row.focus) {
        QFont bold = font();
        bold.setBold(true);
        p.setFont(bold);
      }
      p.drawText(cell, Qt::AlignCenter, displayToken(row.tokens[i]));
      if (i == row.focus) p.setFont(font());
      hits_.push_back({cell, r, i});
      x += widths[i];
    }
  }
}

bool TokenContextView::event(QEvent* e) {
  if (e->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(e);
    for (const Hit& hit : hits_) {
      if (!hit.rect.contains(help->pos())) continue;
      const ContextRow& row = rows_[hit.row];
      const float a = hit.token < row.activations.size() ? row.activations[hit.token] : 0.0f;
      QToolTip::showText(help->globalPos(),
                         tr("token %1 “%2” · %3 %4")
                             .arg(hit.token)
                             .arg(row.tokens[hit.token].toHtmlEscaped())
                             .arg(value_name_)
                             .arg(a, 0, 'f', 3),
                         this);
      return true;
    }
    QToolTip::hideText();
    e->ignore();
    return true;
  }
  return QWidget::event(e);
}

}  // namespace saescope::ui
