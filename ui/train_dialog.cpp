#include "ui/train_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QPushButton>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLineEdit>
#include <QSpinBox>
#include <QVBoxLayout>

#include "core/sae/arch/architecture.h"

namespace saescope::ui {
namespace {

sae::SparsityKnob knobOf(const QString& name) {
  const sae::ArchitectureSpec* a = sae::find_architecture(name.toStdString());
  return a ? a->sparsity : sae::SparsityKnob::L1;
}

}  // namespace

TrainDialog::TrainDialog(const QStringList& hooks, const QString& hook, const QString& corpus,
                         const QString& out_dir, int context, QWidget* parent)
    : QDialog(parent) {
  setWindowTitle(tr("Train SAE"));
  hook_ = new QComboBox(this);
  hook_->setObjectName(QStringLiteral("trainHook"));
  hook_->addItems(hooks);
  hook_->setCurrentText(hook);
  arch_ = new QComboBox(this);
  arch_->setObjectName(QStringLiteral("trainArchitecture"));
  // Every architecture trained here, from the engine's registry.
  for (const sae::ArchitectureSpec& a : sae::architectures())
    if (a.step)
      arch_->addItem(QStringLiteral("%1 (%2)").arg(QString::fromUtf8(a.name), QString::fromUtf8(a.summary)),
                     QString::fromUtf8(a.name));
  arch_->setCurrentIndex(arch_->findData(QStringLiteral("topk")));
  expansion_ = new QDoubleSpinBox(this);
  expansion_->setRange(0.5, 256);
  expansion_->setValue(8);
  expansion_->setSuffix(tr(" × d_in"));
  k_ = new QSpinBox(this);
  k_->setRange(1, 4096);
  k_->setValue(32);
  l1_ = new QDoubleSpinBox(this);
  l1_->setDecimals(3);
  l1_->setRange(0, 1000);
  l1_->setValue(5);
  lr_ = new QDoubleSpinBox(this);
  lr_->setDecimals(5);
  lr_->setRange(1e-5, 1);
  lr_->setSingleStep(1e-4);
  lr_->setValue(3e-4);
  tokens_ = new QSpinBox(this);
  tokens_->setRange(1, 10'000'000);
  tokens_->setValue(1000);
  tokens_->setSuffix(tr(" thousand tokens"));
  batch_ = new QSpinBox(this);
  batch_->setRange(16, 65536);
  batch_->setValue(4096);
  context_ = new QSpinBox(this);
  context_->setRange(8, 4096);
  context_->setValue(context);
  seed_ = new QSpinBox(this);
  seed_->setRange(0, 1'000'000);
  seed_->setValue(42);
  corpus_ = new QLineEdit(corpus, this);
  out_ = new QLineEdit(out_dir, this);
  out_->setObjectName(QStringLiteral("trainOut"));

  auto* form = new QFormLayout;
  form->addRow(tr("Hook:"), hook_);
  form->addRow(tr("Architecture:"), arch_);
  form->addRow(tr("Dictionary size:"), expansion_);
  form->addRow(tr("k (active features):"), k_);
  form->addRow(tr("Sparsity coefficient (L1, or L0 for jumprelu):"), l1_);
  form->addRow(tr("Learning rate:"), lr_);
  form->addRow(tr("Training tokens:"), tokens_);
  form->addRow(tr("Batch (tokens):"), batch_);
  form->addRow(tr("Context (tokens per window):"), context_);
  form->addRow(tr("Seed:"), seed_);
  form->addRow(tr("Corpus:"), corpus_);
  form->addRow(tr("Save SAE to:"), out_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  buttons->button(QDialogButtonBox::Ok)->setText(tr("Train"));
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(arch_, &QComboBox::currentIndexChanged, this, &TrainDialog::updateEnabled);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(buttons);
  updateEnabled();
}

void TrainDialog::updateEnabled() {
  const sae::SparsityKnob knob = knobOf(arch_->currentData().toString());
  const bool by_k = knob == sae::SparsityKnob::K;
  k_->setEnabled(by_k);
  l1_->setEnabled(!by_k);  // L1 or L0, by the architecture's knob
  l1_->setToolTip(knob == sae::SparsityKnob::L0 ? tr("L0 coefficient (SAELens default 1)")
                                               : tr("L1 coefficient, weighted by decoder row norm"));
}

sae::SaeTrainRequest TrainDialog::request() const {
  sae::SaeTrainRequest r;
  r.hook = hook_->currentText().toStdString();
  r.architecture = arch_->currentData().toString().toStdString();
  r.expansion = expansion_->value();
  switch (knobOf(arch_->currentData().toString())) {
    case sae::SparsityKnob::K: r.k = k_->value(); break;
    case sae::SparsityKnob::L0: r.l0 = l1_->value(); break;
    case sae::SparsityKnob::L1: r.l1 = l1_->value(); break;
  }
  r.lr = lr_->value();
  r.tokens = static_cast<int64_t>(tokens_->value()) * 1000;
  r.batch = batch_->value();
  r.context = context_->value();
  r.seed = static_cast<uint64_t>(seed_->value());
  r.corpus = corpus_->text().trimmed().toStdString();
  r.out = out_->text().trimmed().toStdString();
  return r;
}

}  // namespace saescope::ui
