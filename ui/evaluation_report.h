#pragma once
// The evaluation report (A4 landscape PDF): a title page saying what was
// evaluated, the findings written from the numbers, each chart on its own
// page at full size with a caption on how to read it, and the table with
// whole hook names and every column (the font shrinks until the widest cells
// fit; pages follow when rows do not). The slides (16:9) carry the same, one
// message per slide, body text at 20 pt or more.
#include <QString>
#include <QStringList>
#include <vector>

#include "core/polysemy/report_word_pages.h"

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
  QStringList findings;  // store::evaluation_findings, one sentence each
  QStringList methods;   // how the numbers were made: PS-Eval, the metrics' formulas, the data's size
  std::vector<ReportChart> charts;
  std::vector<polysemy::WordPage> words;  // a page each: the best and worst separated words
  const QAbstractItemModel* table = nullptr;
};

// False (and *error naming the file) when the PDF cannot be written.
bool writeEvaluationReport(const QString& path, const ReportContent& content, QString* error);
bool writeEvaluationSlides(const QString& path, const ReportContent& content, QString* error);

}  // namespace saescope::ui
