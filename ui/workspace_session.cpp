#include "ui/workspace_session.h"

#include <QFileInfo>

#include "core/store/sae_model.h"

namespace saescope::ui {

QString SaeEntry::displayName() const {
  const auto& c = input.config;
  QString name = QString::fromStdString(c.value("hook_name", std::string()));
  if (name.isEmpty()) name = QFileInfo(QString::fromStdString(input.path)).fileName();
  // A transcoder reads one hook and writes another: show both.
  if (c.value("transcoder", false))
    name += QStringLiteral(" → ") + QString::fromStdString(c.value("hook_name_out", std::string()));
  const QString arch = QString::fromStdString(c.value("architecture", std::string()));
  if (!arch.isEmpty()) name += QStringLiteral(" · ") + arch;
  if (c.contains("k") && c["k"].is_number()) name += QStringLiteral(" k=%1").arg(c["k"].get<int>());
  if (c.contains("d_sae") && c["d_sae"].is_number())
    name += QStringLiteral(" · %1").arg(c["d_sae"].get<long long>());
  return name;
}

WorkspaceSession::WorkspaceSession(QObject* parent) : QObject(parent) {}
WorkspaceSession::~WorkspaceSession() = default;

void WorkspaceSession::open(const QString& path) {
  // Throws before we drop the old one. The full integrity check runs in the
  // background (MainWindow::openWorkspace): it reads every page.
  auto ws = store::Workspace::open(path.toStdString(), store::IntegrityCheck::Skip);
  workspace_ = std::move(ws);
  building_.clear();  // a build of the workspace open before fills that one
  emit opened();
}

void WorkspaceSession::setBuilding(const QString& job_title) {
  if (building_ == job_title) return;
  building_ = job_title;
  emit buildingChanged();
}

void WorkspaceSession::close() {
  workspace_.reset();
  building_.clear();
  emit closed();
}

QString WorkspaceSession::path() const {
  return workspace_ ? QString::fromStdString(workspace_->path()) : QString();
}

std::vector<SaeEntry> WorkspaceSession::saes() {
  std::vector<SaeEntry> out;
  if (!workspace_) return out;
  const auto harvests = workspace_->results("harvest");
  for (auto& input : workspace_->inputs(store::InputKind::Sae)) {
    SaeEntry e{input, std::nullopt};
    for (const auto& h : harvests)  // latest finished harvest of this SAE
      if (h.done && h.sae_id == input.id) e.harvest = h;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace saescope::ui

namespace saescope::ui {

std::string WorkspaceSession::modelPathFor(const SaeEntry& sae) {
  if (!workspace_) return {};
  const auto model = store::model_for_sae(*workspace_, sae.input.id);
  return model ? model->path : std::string();
}

}  // namespace saescope::ui
