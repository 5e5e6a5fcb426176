#include "ui/model_panel.h"

#include <QComboBox>
#include <QFileInfo>
#include <QGroupBox>
#include <QInputDialog>
#include <QLineEdit>
#include <QLabel>
#include <QListWidget>
#include <QMessageBox>
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
  models_ = new QListWidget(this);
  models_->setObjectName(QStringLiteral("modelList"));
  models_->setToolTip(tr("Double-click a model to give it the name the views and reports use"));
  models_->setMaximumHeight(4 * models_->fontMetrics().height() + 8);
  connect(models_, &QListWidget::itemDoubleClicked, this, [this](QListWidgetItem* item) {
    bool ok = false;
    const QString name = QInputDialog::getText(this, tr("Name the model"),
                                               tr("Name (empty: the one read from its config or folder):"),
                                               QLineEdit::Normal, item->data(Qt::UserRole + 1).toString(), &ok);
    if (ok) renameModel(item->data(Qt::UserRole).toLongLong(), name.trimmed());
  });
  auto* workspaceBox = new QGroupBox(tr("Workspace"), this);
  auto* workspaceLayout = new QVBoxLayout(workspaceBox);
  workspaceLayout->addWidget(summary_);
  workspaceLayout->addWidget(models_);
  sae_hint_ = new QLabel(this);
  sae_hint_->setObjectName(QStringLiteral("saeHint"));
  sae_hint_->setWordWrap(true);
  hooks_ = new QComboBox(this);
  hooks_->setObjectName(QStringLiteral("hookPicker"));
  hooks_->setToolTip(tr("Hook point (TransformerLens names): the SAEs listed are those trained there"));
  auto* saeBox = new QGroupBox(tr("Hook and SAEs"), this);
  auto* saeLayout = new QVBoxLayout(saeBox);
  saeLayout->addWidget(hooks_);
  saeLayout->addWidget(saes_);
  saeLayout->addWidget(sae_hint_);
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
  connect(session_, &WorkspaceSession::buildingChanged, this, &ModelPanel::reload);
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
  models_->clear();
  if (!ws) {
    summary_->setText(tr("No workspace open. File › Open workspace…, or File › Open the demo"));
  } else {
    summary_->setText(tr("%1 · runs on %2").arg(QFileInfo(session_->path()).fileName(), EngineSettings::load().device));
    for (const auto& m : ws->inputs(store::InputKind::Model)) {
      const auto& c = m.config;
      auto* item = new QListWidgetItem(tr("%1 (%2) · %3 layers · width %4")
                                           .arg(QString::fromStdString(store::input_name(m)),
                                                QString::fromStdString(c.value("model_type", std::string("gpt2"))))
                                           .arg(c.value("n_layer", 0))
                                           .arg(c.value("n_embd", 0)),
                                       models_);
      item->setData(Qt::UserRole, QVariant::fromValue<qlonglong>(m.id));
      item->setData(Qt::UserRole + 1, QString::fromStdString(c.value("given_name", std::string())));
      item->setToolTip(QString::fromStdString(m.path));
    }
    if (models_->count() == 0)
      new QListWidgetItem(tr("No model yet: drop a Hugging Face model folder on the window"), models_);
  }
  models_->setVisible(ws != nullptr);
  QString hint;
  if (ws && entries_.empty()) {
    if (!session_->building().isEmpty())
      hint = tr("“%1” is adding the SAEs: they are listed here in a moment.").arg(session_->building());
    else if (all.empty())
      hint = tr("No SAE yet: drop an SAE folder or file on the window (File › Add…), or train one (Analyse › "
                "Train SAE…, Ctrl+T).");
    else
      hint = tr("No SAE at this hook: pick another hook, or train one here (Analyse › Train SAE…).");
  }
  sae_hint_->setText(hint);
  sae_hint_->setVisible(!hint.isEmpty());

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

bool ModelPanel::renameModel(int64_t input_id, const QString& name) {
  store::Workspace* ws = session_->workspace();
  if (!ws) return false;
  const auto input = ws->input(input_id);
  if (!input || input->kind != store::InputKind::Model) return false;
  try {
    ws->set_input_name(input_id, name.toStdString());
  } catch (const std::exception& e) {  // a workspace that cannot be written (disk full, read-only)
    QMessageBox::warning(this, tr("Cannot name the model"), QString::fromStdString(e.what()));
    return false;
  }
  session_->notifyResultsChanged();  // the evaluation table and reports name it too
  return true;
}

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
