#pragma once
// One feature's page: its numbers, top-activating contexts, interval samples
// ("interval a–b, contains p%"), activation histogram and logit effects.
// Everything shown comes from the workspace store.
#include <QWidget>

#include "core/store/feature_store.h"

class QCustomPlot;
class QLabel;

namespace saescope::ui {

class TokenContextView;

class FeaturePage : public QWidget {
  Q_OBJECT
 public:
  explicit FeaturePage(QWidget* parent = nullptr);
  // `token_text` maps token ids to display text (the workspace's vocab).
  void showPage(const store::FeaturePage& page, const std::function<QString(int32_t)>& token_text);
  void clear();

  QCustomPlot* histogramPlot() const { return histogram_; }
  QString statsText() const;  // the numbers, or with no feature what to do
  QCustomPlot* logitPlot() const { return logits_; }
  TokenContextView* topContexts() const { return top_; }
  TokenContextView* intervalContexts() const { return intervals_; }
  QString headline() const;

 private:
  QLabel* title_ = nullptr;
  QLabel* stats_ = nullptr;
  QWidget* body_ = nullptr;  // charts and contexts: shown with a feature
  TokenContextView* top_ = nullptr;
  TokenContextView* intervals_ = nullptr;
  QCustomPlot* histogram_ = nullptr;
  QCustomPlot* logits_ = nullptr;
};

}  // namespace saescope::ui
