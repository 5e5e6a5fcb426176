#pragma once
// Where and how big exported charts are: a folder (or file), width and height
// in pixels and the PNG's DPI (PDF and SVG are vector and keep the aspect).
#include <QDialog>

class QLineEdit;
class QSpinBox;

namespace saescope::ui {

struct ExportOptions {
  QString path;  // folder (export all) or file (one chart, format by extension)
  int width = 1200, height = 800, dpi = 150;
};

class ExportDialog : public QDialog {
  Q_OBJECT
 public:
  // `file`: ask for one chart file (.png/.pdf/.svg) instead of a folder.
  ExportDialog(const QString& title, const QString& suggested, bool file, QWidget* parent = nullptr);
  ExportOptions options() const;

 private:
  QLineEdit* path_ = nullptr;
  QSpinBox* width_ = nullptr;
  QSpinBox* height_ = nullptr;
  QSpinBox* dpi_ = nullptr;
};

}  // namespace saescope::ui
