#include "ui/export_dialog.h"

#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>

namespace saescope::ui {

ExportDialog::ExportDialog(const QString& title, const QString& suggested, bool file, QWidget* parent)
    : QDialog(parent) {
  setWindowTitle(title);
  QSettings settings;
  path_ = new QLineEdit(suggested, this);
  auto* browse = new QPushButton(tr("Browse…"), this);
  connect(browse, &QPushButton::clicked, this, [this, file] {
    const QString p = file ? QFileDialog::getSaveFileName(this, windowTitle(), path_->text(),
                                                          tr("Charts (*.png *.pdf *.svg)"))
                           : QFileDialog::getExistingDirectory(this, windowTitle(), path_->text());
    if (!p.isEmpty()) path_->setText(p);
  });
  auto* pathRow = new QHBoxLayout;
  pathRow->addWidget(path_, 1);
  pathRow->addWidget(browse);
  auto spin = [this](int lo, int hi, int value, const QString& suffix) {
    auto* s = new QSpinBox(this);
    s->setRange(lo, hi);
    s->setValue(value);
    s->setSuffix(suffix);
    return s;
  };
  width_ = spin(200, 10000, settings.value(QStringLiteral("export/width"), 1200).toInt(), tr(" px"));
  height_ = spin(150, 10000, settings.value(QStringLiteral("export/height"), 800).toInt(), tr(" px"));
  dpi_ = spin(72, 1200, settings.value(QStringLiteral("export/dpi"), 150).toInt(), tr(" DPI"));
  auto* form = new QFormLayout;
  form->addRow(file ? tr("File (.png, .pdf, .svg):") : tr("Folder:"), pathRow);
  form->addRow(tr("Width:"), width_);
  form->addRow(tr("Height:"), height_);
  form->addRow(tr("PNG resolution:"), dpi_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this);
  connect(buttons, &QDialogButtonBox::accepted, this, [this] {
    QSettings s;
    s.setValue(QStringLiteral("export/width"), width_->value());
    s.setValue(QStringLiteral("export/height"), height_->value());
    s.setValue(QStringLiteral("export/dpi"), dpi_->value());
    accept();
  });
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(buttons);
}

ExportOptions ExportDialog::options() const {
  return {path_->text().trimmed(), width_->value(), height_->value(), dpi_->value()};
}

}  // namespace saescope::ui
