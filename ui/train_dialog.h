#pragma once
// "Train SAE…": the standard options of the training engine (architecture,
// width, k or L1, learning rate, tokens, batch, seed) for an SAE at the chosen
// hook, trained from the workspace's corpus into a SAELens folder.
#include <QDialog>

#include "core/workflows/sae_train_request.h"

class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QSpinBox;

namespace saescope::ui {

class TrainDialog : public QDialog {
  Q_OBJECT
 public:
  // `hooks`: the model's hook points; `hook`: the one preselected.
  TrainDialog(const QStringList& hooks, const QString& hook, const QString& corpus,
              const QString& out_dir, int context, QWidget* parent = nullptr);
  sae::SaeTrainRequest request() const;  // model_dir and device left to the caller

 private:
  void updateEnabled();
  QComboBox* hook_ = nullptr;
  QComboBox* arch_ = nullptr;
  QDoubleSpinBox* expansion_ = nullptr;
  QSpinBox* k_ = nullptr;
  QDoubleSpinBox* l1_ = nullptr;
  QDoubleSpinBox* lr_ = nullptr;
  QSpinBox* tokens_ = nullptr;  // thousands
  QSpinBox* batch_ = nullptr;
  QSpinBox* context_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QLineEdit* corpus_ = nullptr;
  QLineEdit* out_ = nullptr;
};

}  // namespace saescope::ui
