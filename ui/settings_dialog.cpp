#include "ui/settings_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <thread>

#include "core/common/runtime_info.h"

namespace saescope::ui {

EngineSettings EngineSettings::load() {
  QSettings s;
  EngineSettings e;
  e.device = s.value(QStringLiteral("engine/device"), e.device).toString();
  e.threads = s.value(QStringLiteral("engine/threads"), 0).toInt();
  e.default_corpus = s.value(QStringLiteral("defaults/corpus")).toString();
  e.default_dataset = s.value(QStringLiteral("defaults/dataset")).toString();
  if (e.device.startsWith(QLatin1String("cuda")) && !runtime_info().cuda_available)
    e.device = QStringLiteral("cpu");  // a settings file from a CUDA machine
  return e;
}

void EngineSettings::save() const {
  QSettings s;
  s.setValue(QStringLiteral("engine/device"), device);
  s.setValue(QStringLiteral("engine/threads"), threads);
  s.setValue(QStringLiteral("defaults/corpus"), default_corpus);
  s.setValue(QStringLiteral("defaults/dataset"), default_dataset);
}

void EngineSettings::apply() const { set_engine_threads(threads); }

namespace {
QWidget* withBrowse(QLineEdit* edit, QWidget* parent, const QString& title) {
  auto* row = new QWidget(parent);
  auto* h = new QHBoxLayout(row);
  h->setContentsMargins(0, 0, 0, 0);
  auto* browse = new QPushButton(QObject::tr("Browse…"), row);
  h->addWidget(edit, 1);
  h->addWidget(browse);
  QObject::connect(browse, &QPushButton::clicked, row, [edit, parent, title] {
    const QString path = QFileDialog::getOpenFileName(parent, title, edit->text());
    if (!path.isEmpty()) edit->setText(path);
  });
  return row;
}
}  // namespace

SettingsDialog::SettingsDialog(QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Settings"));
  const RuntimeInfo info = runtime_info();
  const EngineSettings current = EngineSettings::load();
  device_ = new QComboBox(this);
  device_->setObjectName(QStringLiteral("device"));
  device_->addItem(tr("CPU"), QStringLiteral("cpu"));
  for (int i = 0; i < info.cuda_device_count; ++i)
    device_->addItem(tr("CUDA device %1").arg(i), QStringLiteral("cuda:%1").arg(i));
  device_->setCurrentIndex(std::max(0, device_->findData(current.device)));
  threads_ = new QSpinBox(this);
  threads_->setObjectName(QStringLiteral("threads"));
  threads_->setRange(0, std::max(1, info.hardware_threads) * 2);
  threads_->setSpecialValueText(tr("all cores (%1)").arg(info.hardware_threads));
  threads_->setValue(current.threads);
  corpus_ = new QLineEdit(current.default_corpus, this);
  dataset_ = new QLineEdit(current.default_dataset, this);
  auto* form = new QFormLayout;
  form->addRow(tr("Compute device:"), device_);
  form->addRow(tr("Engine threads:"), threads_);
  form->addRow(tr("Default corpus:"), withBrowse(corpus_, this, tr("Default corpus")));
  form->addRow(tr("Default sense dataset:"), withBrowse(dataset_, this, tr("Default sense dataset")));
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  connect(buttons, &QDialogButtonBox::accepted, this, [this] {
    const EngineSettings s = settings();
    s.save();
    s.apply();
    accept();
  });
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(buttons);
}

EngineSettings SettingsDialog::settings() const {
  EngineSettings s;
  s.device = device_->currentData().toString();
  s.threads = threads_->value();
  s.default_corpus = corpus_->text().trimmed();
  s.default_dataset = dataset_->text().trimmed();
  return s;
}

}  // namespace saescope::ui
