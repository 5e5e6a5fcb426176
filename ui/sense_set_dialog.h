#pragma once
// "New word…": a sense set of one's own typed in: a word, and rows of
// (sense label, example sentence). Saved as a CSV beside the workspace
// (senses/<word>.csv, the same file `saescope-cli senses import` reads), which
// the engine then imports, reporting any row it skips.
#include <QDialog>

class QLabel;
class QPushButton;
class QLineEdit;
class QTableWidget;

namespace saescope::ui {

class SenseSetDialog : public QDialog {
  Q_OBJECT
 public:
  explicit SenseSetDialog(QWidget* parent = nullptr);
  QLineEdit* wordEdit() const { return word_; }
  QTableWidget* table() const { return table_; }
  // The rows as CSV (word, sense, sentence), header first; empty rows left out.
  QString csv() const;
  QString word() const;

 private:
  void check();  // enables OK once a word has two senses with a sentence each
  QLineEdit* word_;
  QTableWidget* table_;
  QLabel* hint_;
  QPushButton* ok_ = nullptr;
};

}  // namespace saescope::ui
