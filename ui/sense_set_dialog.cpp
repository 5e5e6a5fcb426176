#include "ui/sense_set_dialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSet>
#include <QTableWidget>
#include <QVBoxLayout>

namespace saescope::ui {
namespace {

QString csv_field(QString s) {
  s = s.trimmed();
  if (s.contains(QLatin1Char(',')) || s.contains(QLatin1Char('"')) || s.contains(QLatin1Char('\n')))
    return QLatin1Char('"') + s.replace(QLatin1String("\""), QLatin1String("\"\"")) + QLatin1Char('"');
  return s;
}

QString cell(const QTableWidget* t, int row, int col) {
  const QTableWidgetItem* item = t->item(row, col);
  return item ? item->text().trimmed() : QString();
}

}  // namespace

SenseSetDialog::SenseSetDialog(QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("New word: a sense set of your own"));
  word_ = new QLineEdit(this);
  word_->setObjectName(QStringLiteral("senseSetWord"));
  word_->setPlaceholderText(tr("e.g. bank"));
  table_ = new QTableWidget(8, 2, this);
  table_->setObjectName(QStringLiteral("senseSetRows"));
  table_->setHorizontalHeaderLabels({tr("Sense (a short label)"), tr("Example sentence holding the word")});
  table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setStretchLastSection(true);
  auto* add = new QPushButton(tr("Add rows"), this);
  connect(add, &QPushButton::clicked, this, [this] { table_->setRowCount(table_->rowCount() + 4); });
  hint_ = new QLabel(this);
  hint_->setWordWrap(true);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  ok_ = buttons->button(QDialogButtonBox::Ok);
  ok_->setText(tr("Save and import"));
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* form = new QFormLayout;
  form->addRow(tr("Word:"), word_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(new QLabel(tr("Two senses or more, each with example sentences (more sentences, "
                                  "better scores). Rows without a sense or a sentence are left out."),
                               this));
  layout->addWidget(table_, 1);
  layout->addWidget(add, 0, Qt::AlignLeft);
  layout->addWidget(hint_);
  layout->addWidget(buttons);
  resize(760, 420);
  connect(word_, &QLineEdit::textChanged, this, &SenseSetDialog::check);
  connect(table_, &QTableWidget::itemChanged, this, &SenseSetDialog::check);
  check();
}

QString SenseSetDialog::word() const { return word_->text().trimmed(); }

QString SenseSetDialog::csv() const {
  QString out = QStringLiteral("word,sense,sentence\n");
  for (int r = 0; r < table_->rowCount(); ++r) {
    const QString sense = cell(table_, r, 0), sentence = cell(table_, r, 1);
    if (sense.isEmpty() && sentence.isEmpty()) continue;
    out += csv_field(word()) + QLatin1Char(',') + csv_field(sense) + QLatin1Char(',') + csv_field(sentence) +
           QLatin1Char('\n');
  }
  return out;
}

void SenseSetDialog::check() {
  QSet<QString> senses;
  for (int r = 0; r < table_->rowCount(); ++r)
    if (!cell(table_, r, 0).isEmpty() && !cell(table_, r, 1).isEmpty()) senses.insert(cell(table_, r, 0));
  const bool ok = !word().isEmpty() && senses.size() >= 2;
  ok_->setEnabled(ok);
  hint_->setText(word().isEmpty()      ? tr("Type the word first.")
                 : senses.size() < 2   ? tr("Give at least two senses, each with a sentence.")
                                       : tr("%n sense(s). Rows whose sentence lacks the word are reported and "
                                            "left out when it is imported.", nullptr, int(senses.size())));
}

}  // namespace saescope::ui
