#pragma once
// The model panel: the workspace's models (named as store::input_name says,
// and renamed here), the SAEs it knows (grouped by hook), and the selection
// every view follows.
#include <QWidget>
#include <optional>

#include "ui/workspace_session.h"

class QComboBox;
class QListWidget;
class QLabel;

namespace saescope::ui {

class ModelPanel : public QWidget {
  Q_OBJECT
 public:
  explicit ModelPanel(WorkspaceSession* session, QWidget* parent = nullptr);
  void reload();
  std::optional<SaeEntry> currentSae() const;
  bool selectSae(int64_t input_id);
  QListWidget* saeList() const { return saes_; }
  QComboBox* hookPicker() const { return hooks_; }
  // The hook chosen ("" = all hooks): the SAE list shows the SAEs there.
  QString currentHook() const;
  QListWidget* modelList() const { return models_; }
  // Gives a model the name every view and report uses ("" takes it back);
  // false when no workspace is open or it lacks the model.
  bool renameModel(int64_t input_id, const QString& name);

 signals:
  void saeSelected(const std::optional<saescope::ui::SaeEntry>& sae);

 private:
  WorkspaceSession* session_;
  QLabel* summary_ = nullptr;
  QListWidget* saes_ = nullptr;
  QListWidget* models_ = nullptr;
  QLabel* sae_hint_ = nullptr;  // what to do (or what is coming) while no SAE is listed
  QComboBox* hooks_ = nullptr;
  std::vector<SaeEntry> entries_;  // those shown, in list order
};

}  // namespace saescope::ui
