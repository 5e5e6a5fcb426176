#include "ui/feature_page.h"

#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include "ui/charts.h"
#include "ui/token_context_view.h"

namespace saescope::ui {

namespace {
QVector<ContextRow> toRows(const std::vector<store::FeatureExample>& examples,
                           const std::vector<store::IntervalStat>& intervals,
                           const std::function<QString(int32_t)>& token_text) {
  QVector<ContextRow> rows;
  for (const auto& e : examples) {
    ContextRow row;
    if (e.kind == store::ExampleKind::Top) {
      row.label = QObject::tr("top %1").arg(e.rank + 1);
    } else {
      row.label = QObject::tr("interval %1").arg(e.interval);
      for (const auto& i : intervals)
        if (i.interval == e.interval)
          row.label = QObject::tr("interval %1–%2, contains %3%")
                          .arg(i.lo, 0, 'f', 2)
                          .arg(i.hi, 0, 'f', 2)
                          .arg(i.fraction * 100, 0, 'f', 1);
    }
    for (int32_t t : e.tokens) row.tokens << token_text(t);
    row.activations = QVector<float>(e.activations.begin(), e.activations.end());
    row.focus = e.max_pos;
    rows << row;
  }
  return rows;
}
}  // namespace

FeaturePage::FeaturePage(QWidget* parent) : QWidget(parent) {
  title_ = new QLabel(this);
  title_->setObjectName(QStringLiteral("featureTitle"));
  QFont big = title_->font();
  big.setPointSizeF(big.pointSizeF() * 1.4);
  big.setBold(true);
  title_->setFont(big);
  stats_ = new QLabel(this);
  stats_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  stats_->setWordWrap(true);  // the hint shown without a feature is a sentence
  top_ = new TokenContextView(this);
  top_->setObjectName(QStringLiteral("topContexts"));
  intervals_ = new TokenContextView(this);
  intervals_->setObjectName(QStringLiteral("intervalContexts"));
  histogram_ = new QCustomPlot(this);
  histogram_->setObjectName(QStringLiteral("histogramPlot"));
  histogram_->setMinimumHeight(220);
  logits_ = new QCustomPlot(this);
  logits_->setObjectName(QStringLiteral("logitPlot"));
  logits_->setMinimumHeight(320);
  addExportAction(histogram_);
  addExportAction(logits_);


  // The charts and contexts of a feature; hidden without one, so an empty
  // page is its title and what to do, not blank axes.
  body_ = new QWidget(this);
  auto* charts = new QHBoxLayout;
  charts->addWidget(histogram_, 1);
  charts->addWidget(logits_, 1);
  auto* topBox = new QGroupBox(tr("Top-activating contexts"), body_);
  (new QVBoxLayout(topBox))->addWidget(top_);
  auto* intervalBox = new QGroupBox(tr("Samples by activation interval"), body_);
  (new QVBoxLayout(intervalBox))->addWidget(intervals_);
  auto* bodyLayout = new QVBoxLayout(body_);
  bodyLayout->setContentsMargins(0, 0, 0, 0);
  bodyLayout->addLayout(charts);
  bodyLayout->addWidget(topBox);
  bodyLayout->addWidget(intervalBox);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(title_);
  layout->addWidget(stats_);
  layout->addWidget(body_);
  layout->addStretch(1);
  clear();
}

void FeaturePage::clear() {
  title_->setText(tr("No feature selected"));
  stats_->setText(tr("A feature's page shows what it fires on: pick a row of the feature table, or type a "
                     "sentence under it to see which features fire on each token."));
  top_->setRows({}, 1);
  intervals_->setRows({}, 1);
  histogram_->clearPlottables();
  logits_->clearPlottables();
  histogram_->replot();
  logits_->replot();
  body_->hide();
}

QString FeaturePage::headline() const { return title_->text(); }
QString FeaturePage::statsText() const { return stats_->text(); }

void FeaturePage::showPage(const store::FeaturePage& page,
                           const std::function<QString(int32_t)>& token_text) {
  const auto& s = page.summary;
  title_->setText(tr("Feature %1").arg(s.feature));
  stats_->setText(s.fire_count == 0
                      ? tr("Dead: never fired on the harvested tokens.")
                      : tr("density %1 · fired on %2 tokens · max %3 · mean %4")
                            .arg(s.density, 0, 'g', 3)
                            .arg(s.fire_count)
                            .arg(s.max_act, 0, 'f', 3)
                            .arg(s.mean_act, 0, 'f', 3));
  const float scale = static_cast<float>(s.max_act);
  top_->setRows(toRows(page.top, page.intervals, token_text), scale);
  intervals_->setRows(toRows(page.interval_samples, page.intervals, token_text), scale);
  plotHistogram(histogram_, page.histogram, s.density);
  plotLogitEffects(logits_, page.logit_effects);
  body_->show();
}

}  // namespace saescope::ui
