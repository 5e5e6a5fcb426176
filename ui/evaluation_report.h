#pragma once
// The evaluation report (A4 landscape PDF): a title page saying what was
// evaluated, the findings written from the numbers, each chart on its own
// page at full size with a caption on how to read it, and the table with
// whole hook names and every column (the font shrinks until the widest cells
// fit; pages follow when rows do not). The slides (16:9) carry the same, one
// message per slide, body text at 18 pt or more: the table in titled parts.
#include <QString>
#include <QStringList>
#include <functional>
#include <vector>

#include "core/polysemy/report_word_pages.h"

class QAbstractItemModel;
class QCustomPlot;

namespace saescope::ui {

struct ReportChart {
  QCustomPlot* plot = nullptr;
  QString caption;  // how to read it
  // For a wide slide: moves a legend that sits below the axes beside them
  // (true) and back (false), so the axes keep their height.
  std::function<void(bool beside)> legend_beside;
};

// Some of the table's columns under a title: a slide's table. The label
// columns are joined into its first cell (under `label_header`), which every
// slide repeats when the columns need more than one; `headers`, when given,
// replace the model's names of `columns` (shorter names under a title that
// says what they are).
struct ReportTable {
  QString title;
  QString label_header;
  std::vector<int> label_columns;
  std::vector<int> columns;
  QStringList headers;
};

struct ReportContent {
  QString title;
  QStringList summary;  // the title page's lines, in words
  QStringList findings;  // store::evaluation_findings, one sentence each
  QStringList methods;   // how the numbers were made: PS-Eval, the metrics' formulas, the data's size
  std::vector<ReportChart> charts;
  std::vector<polysemy::WordPage> words;  // a page each: the best and worst separated words
  const QAbstractItemModel* table = nullptr;  // the report prints every column
  std::vector<ReportTable> slide_tables;       // the slides, these parts of it
};

// False (and *error naming the file) when the PDF cannot be written.
bool writeEvaluationReport(const QString& path, const ReportContent& content, QString* error);
bool writeEvaluationSlides(const QString& path, const ReportContent& content, QString* error);

}  // namespace saescope::ui
