#include "ui/model_panel.h"

#include <QFileInfo>
#include <QGroupBox>
#include <QLabel>
#include <QListWidget>
#include <QVBoxLayout>

namespace saescope::ui {

ModelPanel::ModelPanel(WorkspaceSession* session, QWidget* parent)
    : QWidget(parent), session_(session) {
  summary_ = new QLabel(this);
  summary_->setObjectName(QStringLiteral("modelSummary"));
  summary_->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
  saes_ = new QListWidget(this);
  saes_->setObjectName(QStringLiteral("saeList"));
  auto* workspaceBox = new QGroupBox(tr("Workspace"), this);
  (new QVBoxLayout(workspaceBox))->addWidget(summary_);
  auto* saeBox = new QGroupBox(tr("SAEs"), this);
  (new QVBoxLayout(saeBox))->addWidget(saes_);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(workspaceBox);
  layout->addWidget(saeBox, 1);
  connect(saes_, &QListWidget::currentRowChanged, this, [this](int) {
    emit saeSelected(currentSae());
  });
  connect(session_, &WorkspaceSession::opened, this, &ModelPanel::reload);
  connect(session_, &WorkspaceSession::closed, this, &ModelPanel::reload);
  connect(session_, &WorkspaceSession::resultsChanged, this, &ModelPanel::reload);
  reload();
}

void ModelPanel::reload() {
  const auto previous = currentSae();
  entries_ = session_->saes();
  QSignalBlocker block(saes_);
  saes_->clear();
  for (const auto& e : entries_) {
    auto* item = new QListWidgetItem(e.displayName(), saes_);
    item->setToolTip(QString::fromStdString(e.input.path));
    if (!e.harvest) item->setForeground(saes_->palette().color(QPalette::PlaceholderText));
  }
  store::Workspace* ws = session_->workspace();
  if (!ws) {
    summary_->setText(tr("No workspace open. File › Open workspace…"));
  } else {
    const auto models = ws->inputs(store::InputKind::Model);
    QString text = QFileInfo(session_->path()).fileName();
    for (const auto& m : models) {
      const auto& c = m.config;
      text += QStringLiteral("\n") +
              tr("Model %1 · %2 layers · width %3")
                  .arg(QFileInfo(QString::fromStdString(m.path)).fileName())
                  .arg(c.value("n_layer", 0))
                  .arg(c.value("n_embd", 0));
    }
    summary_->setText(text);
  }

  int row = entries_.empty() ? -1 : 0;
  for (size_t i = 0; previous && i < entries_.size(); ++i)
    if (entries_[i].input.id == previous->input.id) row = static_cast<int>(i);
  saes_->setCurrentRow(row);
  block.unblock();
  emit saeSelected(currentSae());
}

std::optional<SaeEntry> ModelPanel::currentSae() const {
  const int row = saes_->currentRow();
  if (row < 0 || row >= static_cast<int>(entries_.size())) return std::nullopt;
  return entries_[static_cast<size_t>(row)];
}

bool ModelPanel::selectSae(int64_t input_id) {
  for (size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].input.id == input_id) {
      saes_->setCurrentRow(static_cast<int>(i));
      return true;
    }
  return false;
}

}  // namespace saescope::ui
