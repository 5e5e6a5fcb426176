#pragma once
// The evaluation report (A4 landscape PDF): a title page saying what was
// evaluated, each chart on its own page at full size with a caption on how to
// read it, and the table with whole hook names and every column (the font
// shrinks until the widest cells fit; pages follow when rows do not).
#include <QString>
#include <QStringList>
#include <vector>

class QAbstractItemModel;
class QCustomPlot;

namespace saescope::ui {

struct ReportChart {
  QCustomPlot* plot = nullptr;
  QString caption;  // how to read it
};

struct ReportContent {
  QString title;
  QStringList summary;  // the title page's lines, in words
  std::vector<ReportChart> charts;
  const QAbstractItemModel* table = nullptr;
};

// False (and *error naming the file) when the PDF cannot be written.
bool writeEvaluationReport(const QString& path, const ReportContent& content, QString* error);

}  // namespace saescope::ui
