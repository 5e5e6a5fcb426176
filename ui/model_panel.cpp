#include "ui/model_panel.h"

#include <QComboBox>
#include <QFileInfo>
#include <QGroupBox>
#include <QLabel>
#include <QListWidget>
#include <QVBoxLayout>

#include "core/model/model_registry.h"
#include "ui/settings_dialog.h"

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
  hooks_ = new QComboBox(this);
  hooks_->setObjectName(QStringLiteral("hookPicker"));
  hooks_->setToolTip(tr("Hook point (TransformerLens names): the SAEs listed are those trained there"));
  auto* saeBox = new QGroupBox(tr("Hook and SAEs"), this);
  auto* saeLayout = new QVBoxLayout(saeBox);
  saeLayout->addWidget(hooks_);
  saeLayout->addWidget(saes_);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(workspaceBox);
  layout->addWidget(saeBox, 1);
  connect(saes_, &QListWidget::currentRowChanged, this, [this](int) {
    emit saeSelected(currentSae());
  });
  connect(hooks_, &QComboBox::currentIndexChanged, this, [this] { reload(); });
  connect(session_, &WorkspaceSession::opened, this, &ModelPanel::reload);
  connect(session_, &WorkspaceSession::closed, this, &ModelPanel::reload);
  connect(session_, &WorkspaceSession::resultsChanged, this, &ModelPanel::reload);
  reload();
}

void ModelPanel::reload() {
  const auto previous = currentSae();
  store::Workspace* ws = session_->workspace();
  // Hook picker: every hook point of the workspace's model(s); SAEs' hooks
  // marked with their count.
  const QString chosen = currentHook();
  std::vector<SaeEntry> all = session_->saes();
  QStringList hookNames;
  if (ws)
    for (const auto& m : ws->inputs(store::InputKind::Model)) {
      std::vector<std::string> names;
      try {  // the folder may be gone (a workspace from another machine): SAEs' hooks still list
        names = model::read_hook_schema(m.path).names();
      } catch (const std::exception&) {
        names = model::common_hook_names(m.config.value("n_layer", 0));
      }
      for (const auto& h : names)
        if (!hookNames.contains(QString::fromStdString(h))) hookNames << QString::fromStdString(h);
    }
  for (const auto& e : all) {
    const QString h = QString::fromStdString(e.input.config.value("hook_name", std::string()));
    if (!h.isEmpty() && !hookNames.contains(h)) hookNames << h;
  }
  {
    QSignalBlocker blockHooks(hooks_);
    hooks_->clear();
    hooks_->addItem(tr("All hooks (%1 SAEs)").arg(all.size()), QString());
    for (const QString& h : hookNames) {
      int n = 0;
      for (const auto& e : all) n += QString::fromStdString(e.input.config.value("hook_name", std::string())) == h;
      hooks_->addItem(n ? tr("%1 (%2 SAEs)").arg(h).arg(n) : h, h);
    }
    const int index = hooks_->findData(chosen);
    hooks_->setCurrentIndex(index < 0 ? 0 : index);
  }
  entries_.clear();
  for (auto& e : all)
    if (currentHook().isEmpty() ||
        QString::fromStdString(e.input.config.value("hook_name", std::string())) == currentHook())
      entries_.push_back(std::move(e));
  QSignalBlocker block(saes_);
  saes_->clear();
  for (const auto& e : entries_) {
    auto* item = new QListWidgetItem(e.displayName(), saes_);
    item->setToolTip(QString::fromStdString(e.input.path));
    if (!e.harvest) item->setForeground(saes_->palette().color(QPalette::PlaceholderText));
  }
  if (!ws) {
    summary_->setText(tr("No workspace open. File › Open workspace…"));
  } else {
    const auto models = ws->inputs(store::InputKind::Model);
    QString text = QFileInfo(session_->path()).fileName();
    for (const auto& m : models) {
      const auto& c = m.config;
      text += QStringLiteral("\n") +
              tr("Model %1 (%2) · %3 layers · width %4")
                  .arg(QString::fromStdString(c.value("name", QFileInfo(QString::fromStdString(m.path)).fileName().toStdString())),
                       QString::fromStdString(c.value("model_type", std::string("gpt2"))))
                  .arg(c.value("n_layer", 0))
                  .arg(c.value("n_embd", 0));
    }
    text += QStringLiteral("\n") + tr("Runs on %1").arg(EngineSettings::load().device);
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

QString ModelPanel::currentHook() const { return hooks_->currentData().toString(); }

bool ModelPanel::selectSae(int64_t input_id) {
  if (hooks_->currentIndex() != 0) {  // make sure it is listed
    bool listed = false;
    for (const auto& e : entries_) listed = listed || e.input.id == input_id;
    if (!listed) hooks_->setCurrentIndex(0);
  }
  for (size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].input.id == input_id) {
      saes_->setCurrentRow(static_cast<int>(i));
      return true;
    }
  return false;
}

}  // namespace saescope::ui
