#pragma once
// The Evaluation view: every SAE of the workspace with its reconstruction and
// PS-Eval numbers; MSE against L0 coloured by a separation score, the score
// against L0, and a per-layer comparison (one series per SAE family). Points
// are clickable (select the SAE) and hoverable (its parameters). Charts export
// to PNG/PDF/SVG, the table to CSV, and everything to a multi-page PDF report.
#include <QWidget>

#include "ui/evaluation_model.h"
#include "ui/workspace_session.h"

class QComboBox;
class QLabel;
namespace saescope::ui {
struct ReportContent;
}
class QCustomPlot;
class QCPColorScale;
class QTableView;
class QSortFilterProxyModel;

namespace saescope::ui {

class EvaluationView : public QWidget {
  Q_OBJECT
 public:
  explicit EvaluationView(WorkspaceSession* session, QWidget* parent = nullptr);
  void reload();

  EvaluationModel* model() const { return model_; }
  QTableView* table() const { return table_; }
  QCustomPlot* mseChart() const { return mse_l0_; }
  QCustomPlot* scoreChart() const { return score_l0_; }
  QCustomPlot* layerChart() const { return layers_; }
  QComboBox* scoreChoice() const { return score_; }
  QLabel* status() const { return status_; }  // what is missing and what to do; hidden when complete
  // "fvu" (1 − explained variance: comparable across hooks, the default) or
  // "mse" (each hook on its own scale).
  QComboBox* reconstructionChoice() const { return reconstruction_; }
  // Number of SAE points drawn on a chart (tests check one per evaluated SAE).
  static int pointCount(QCustomPlot* plot);

  bool exportCsv(const QString& path, QString* error) const;
  bool exportReport(const QString& path, QString* error);   // A4 (evaluation_report.h)
  bool exportSlides(const QString& path, QString* error);   // 16:9, the same content
  // Writes each chart as <dir>/<name>.{png,pdf,svg}; returns the files.
  QStringList exportCharts(const QString& dir, int width, int height, int dpi, QString* error);

 signals:
  void saeClicked(qint64 sae_input_id);
  void evaluateRequested(const QList<qint64>& sae_input_ids);

 private:
  ReportContent reportContent() const;
  void replot();
  // What the status line says while scores are missing: what is coming, or what to do; "" when complete.
  QString missingText() const;
  void hover(QCustomPlot* plot, QMouseEvent* event);
  QString describe(const EvaluationRow& row) const;
  void exportDialog();

  WorkspaceSession* session_;
  EvaluationModel* model_ = nullptr;
  QSortFilterProxyModel* proxy_ = nullptr;
  QTableView* table_ = nullptr;
  QComboBox* score_ = nullptr;
  QLabel* status_ = nullptr;
  QComboBox* reconstruction_ = nullptr;
  QCustomPlot* mse_l0_ = nullptr;
  QCustomPlot* score_l0_ = nullptr;
  QCustomPlot* layers_ = nullptr;
  QCPColorScale* colour_scale_ = nullptr;
};

}  // namespace saescope::ui
