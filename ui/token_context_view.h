#pragma once
// Rows of token contexts, each token shaded by its activation (tooltip: the
// token and its activation). Each row is centred on its focus token (the
// strongest) so long windows stay readable; painted in one pass, so 70 rows
// of 128 tokens cost one paint, not 9,000 widgets.
#include <QVector>
#include <QWidget>

namespace saescope::ui {

struct ContextRow {
  QString label;        // e.g. "top 1" or "interval 2.0–3.0"
  QStringList tokens;   // display text of each token
  QVector<float> activations;
  int focus = 0;        // token to centre on
};

class TokenContextView : public QWidget {
  Q_OBJECT
 public:
  explicit TokenContextView(QWidget* parent = nullptr);
  // `scale` is the activation painted at full intensity (the feature's max).
  // Negative values (an effect, not an activation) are shaded blue.
  void setRows(QVector<ContextRow> rows, float scale);
  // What the numbers are, for the tooltip ("activation" by default).
  void setValueName(const QString& name) { value_name_ = name; }
  const QVector<ContextRow>& rows() const { return rows_; }
  QSize sizeHint() const override;
  // Text of a token as shown: newlines and tabs made visible.
  static QString displayToken(const QString& token);

 protected:
  void paintEvent(QPaintEvent*) override;
  bool event(QEvent* e) override;

 private:
  struct Hit {
    QRect rect;
    int row, token;
  };
  int rowHeight() const;
  QVector<ContextRow> rows_;
  float scale_ = 1.0f;
  QString value_name_ = tr("activation");
  QVector<Hit> hits_;
};

}  // namespace saescope::ui
