#include "ui/steer_panel.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QTextBrowser>
#include <QVBoxLayout>
#include <memory>

#include "core/workflows/steering_request.h"
#include "core/store/workspace.h"
#include "ui/job.h"
#include "ui/jobs_panel.h"
#include "ui/settings_dialog.h"
#include "ui/token_context_view.h"
#include "ui/workspace_session.h"

namespace saescope::ui {
namespace {

constexpr int kSliderSteps = 4;  // slider units per 1× max activation

QString tokenList(const nlohmann::json& changes) {
  QStringList parts;
  for (const auto& c : changes)
    parts << QStringLiteral("“%1” %2")
                 .arg(TokenContextView::displayToken(QString::fromStdString(c["token"].get<std::string>())).toHtmlEscaped())
                 .arg(c["log_prob_after"].get<double>() - c["log_prob_before"].get<double>(), 0, 'f', 2);
  return parts.join(QStringLiteral(", "));
}

QString continuation(const nlohmann::json& prompt, const nlohmann::json& g) {
  return QStringLiteral("<span style='color:#777'>%1</span><b>%2</b>")
      .arg(QString::fromStdString(prompt["text"].get<std::string>()).toHtmlEscaped(),
           QString::fromStdString(g["text"].get<std::string>()).toHtmlEscaped());
}

}  // namespace

SteerPanel::SteerPanel(WorkspaceSession* session, JobsPanel* jobs, QWidget* parent)
    : QWidget(parent), session_(session), jobs_(jobs) {
  setObjectName(QStringLiteral("steerPanel"));
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  mode_ = new QComboBox(this);
  mode_->addItems({tr("Add the feature"), tr("Clamp the feature"), tr("Ablate: effect on each next token")});
  prompt_ = new QLineEdit(tr("He sat down by the bank"), this);
  prompt_->setObjectName(QStringLiteral("steerPrompt"));
  slider_ = new QSlider(Qt::Horizontal, this);
  slider_->setRange(-10 * kSliderSteps, 10 * kSliderSteps);
  slider_->setValue(2 * kSliderSteps);
  strength_ = new QDoubleSpinBox(this);
  strength_->setRange(-10, 10);
  strength_->setSingleStep(1.0 / kSliderSteps);
  strength_->setValue(2);
  strength_->setSuffix(tr(" × max"));
  unit_ = new QLabel(this);
  tokens_ = new QSpinBox(this);
  tokens_->setRange(1, 128);
  tokens_->setValue(20);
  run_ = new QPushButton(tr("Run"), this);
  run_->setObjectName(QStringLiteral("steerRun"));
  connect(slider_, &QSlider::valueChanged, this, [this](int v) {
    if (!qFuzzyCompare(1.0 + strength_->value(), 1.0 + double(v) / kSliderSteps)) strength_->setValue(double(v) / kSliderSteps);
  });
  connect(strength_, qOverload<double>(&QDoubleSpinBox::valueChanged), this, [this](double v) {
    slider_->setValue(qRound(v * kSliderSteps));
    updateControls();
  });
  connect(mode_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] { updateControls(); });
  connect(run_, &QPushButton::clicked, this, [this] { run(); });
  connect(prompt_, &QLineEdit::returnPressed, this, [this] { run(); });

  auto* strengthRow = new QHBoxLayout;
  strengthRow->addWidget(slider_, 1);
  strengthRow->addWidget(strength_);
  strengthRow->addWidget(unit_);
  auto* form = new QFormLayout;
  form->addRow(tr("Mode"), mode_);
  form->addRow(tr("Prompt"), prompt_);
  form->addRow(tr("Strength"), strengthRow);
  auto* tokensRow = new QHBoxLayout;
  tokensRow->addWidget(tokens_);
  tokensRow->addStretch(1);
  tokensRow->addWidget(run_);
  form->addRow(tr("New tokens"), tokensRow);

  baseline_ = new QTextBrowser(this);
  baseline_->setObjectName(QStringLiteral("steerBaseline"));
  steered_ = new QTextBrowser(this);
  steered_->setObjectName(QStringLiteral("steerSteered"));
  for (QTextBrowser* b : {baseline_, steered_}) b->setMaximumHeight(110);
  auto* baselineBox = new QGroupBox(tr("Without"), this);
  (new QVBoxLayout(baselineBox))->addWidget(baseline_);
  auto* steeredBox = new QGroupBox(tr("With the edit"), this);
  (new QVBoxLayout(steeredBox))->addWidget(steered_);
  auto* side = new QHBoxLayout;
  side->addWidget(baselineBox);
  side->addWidget(steeredBox);
  next_ = new QLabel(this);
  next_->setObjectName(QStringLiteral("steerNextTokens"));
  next_->setWordWrap(true);
  next_->setTextFormat(Qt::RichText);
  steerResults_ = new QWidget(this);
  auto* results = new QVBoxLayout(steerResults_);
  results->setContentsMargins(0, 0, 0, 0);
  results->addLayout(side);
  results->addWidget(next_);
  ablation_ = new TokenContextView(this);
  ablation_->setObjectName(QStringLiteral("ablationView"));
  ablation_->setValueName(tr("log-prob drop without the feature"));

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(status_);
  layout->addLayout(form);
  layout->addWidget(steerResults_);
  layout->addWidget(ablation_);
  clearFeature();
}

void SteerPanel::setFeature(const std::string& model_dir, const std::string& sae_path, int64_t feature,
                            double max_act) {
  const bool changed = feature != feature_ || sae_path != sae_path_;
  model_dir_ = model_dir;
  sae_path_ = sae_path;
  feature_ = feature;
  max_act_ = max_act;
  if (changed) {
    baseline_->clear();
    steered_->clear();
    next_->clear();
    ablation_->setRows({}, 1);
  }
  status_->setText(model_dir.empty() ? tr("Add the SAE's model folder to the workspace to steer with it.")
                                     : tr("Feature %1: add it to the residual stream, clamp it, or ablate it, and "
                                          "compare the model's continuation with and without.")
                                           .arg(feature));
  updateControls();
}

void SteerPanel::clearFeature() {
  model_dir_.clear();
  sae_path_.clear();
  feature_ = -1;
  status_->setText(tr("Select a feature to steer with it."));
  baseline_->clear();
  steered_->clear();
  next_->clear();
  ablation_->setRows({}, 1);
  updateControls();
}

void SteerPanel::updateControls() {
  const bool ablate = mode_->currentIndex() == Ablate;
  slider_->setEnabled(!ablate);
  strength_->setEnabled(!ablate);
  tokens_->setEnabled(!ablate);
  steerResults_->setVisible(!ablate);
  ablation_->setVisible(ablate);
  unit_->setText(max_act_ > 0 ? tr("= %1").arg(strength_->value() * max_act_, 0, 'f', 2) : tr("(no harvest max)"));
  run_->setEnabled(feature_ >= 0 && !model_dir_.empty() && (ablate || max_act_ > 0));
}

bool SteerPanel::run() {
  if (!run_->isEnabled() || prompt_->text().trimmed().isEmpty()) return false;
  const std::string workspace = session_->path().toStdString();
  const std::string device = EngineSettings::load().device.toStdString();
  jobs::EngineCache* engines = &session_->engine();
  auto result = std::make_shared<nlohmann::json>();
  const int mode = mode_->currentIndex();
  const int64_t feature = feature_;
  const double value = strength_->value() * max_act_;  // raw units: the harvest's max is the slider's unit
  Job* job = nullptr;
  if (mode == Ablate) {
    jobs::AblateRequest r{model_dir_, sae_path_, device, prompt_->text().toStdString(), {feature_}};
    job = jobs_->run(tr("Ablate feature %1 on “%2”").arg(feature_).arg(prompt_->text().left(30)),
                     [=](jobs::ProgressSink& progress) {
                       progress.report({"ablate", 0, 1, "texts", ""});
                       auto ws = store::Workspace::open(workspace, store::IntegrityCheck::Skip);
                       *result = jobs::run_ablate(r, ws.get(), *engines).result;
                       progress.report({"ablate", 1, 1, "texts", ""});
                     }, /*unfold=*/false);
  } else {
    jobs::SteerRequest r;
    r.model_dir = model_dir_;
    r.sae_path = sae_path_;
    r.device = device;
    r.prompt = prompt_->text().toStdString();
    r.edits = {{feature_, mode == Add ? analysis::FeatureEditKind::Add : analysis::FeatureEditKind::Clamp, value}};
    r.options.max_new_tokens = tokens_->value();
    job = jobs_->run(tr("Steer with feature %1 on “%2”").arg(feature_).arg(prompt_->text().left(30)),
                     [=](jobs::ProgressSink& progress) {
                       auto ws = store::Workspace::open(workspace, store::IntegrityCheck::Skip);
                       *result = jobs::run_steer(r, ws.get(), *engines, progress).result;
                     }, /*unfold=*/false);
  }
  run_->setEnabled(false);
  status_->setText(tr("Running…"));
  connect(job, &Job::ended, this, [this, job, result, mode, feature, value](Job::State state) {
    updateControls();
    if (state != Job::State::Finished) {
      status_->setText(state == Job::State::Cancelled ? tr("Cancelled.") : job->error());
      emit finished(false);
      return;
    }
    status_->setText(mode == Ablate ? tr("Shaded: how much each next token's log-prob falls when feature %1 is "
                                         "ablated (orange: it helped that token; blue: it hurt it).")
                                          .arg(feature)
                                    : tr("Feature %1, %2 at %3.")
                                          .arg(feature)
                                          .arg(mode == Add ? tr("added") : tr("clamped"))
                                          .arg(value, 0, 'f', 2));
    if (mode == Ablate) showAblate(*result);
    else showSteer(*result);
    emit finished(true);
  });
  return true;
}

void SteerPanel::showSteer(const nlohmann::json& r) {
  baseline_->setHtml(continuation(r["prompt"], r["baseline"]));
  steered_->setHtml(continuation(r["prompt"], r["steered"]));
  const auto& n = r["next_token"];
  next_->setText(tr("<b>Next token</b> (KL %1 nats) · <span style='color:#1a7f37'>promoted</span>: %2<br>"
                    "<span style='color:#b3261e'>suppressed</span>: %3")
                     .arg(n["kl"].get<double>(), 0, 'f', 3)
                     .arg(tokenList(n["promoted"]), tokenList(n["suppressed"])));
}

void SteerPanel::showAblate(const nlohmann::json& r) {
  // One row: each token shaded by how much the feature helped predict the next.
  ContextRow row;
  row.label = tr("next-token effect");
  float scale = 0;
  int focus = 0;
  for (const auto& t : r["tokens"]) {
    row.tokens << QString::fromStdString(t["token"].get<std::string>());
    const float drop = static_cast<float>(t["log_prob_with"].get<double>() - t["log_prob_without"].get<double>());
    if (std::abs(drop) > scale) {
      scale = std::abs(drop);
      focus = row.tokens.size() - 1;
    }
    row.activations << drop;
  }
  row.focus = focus;
  ablation_->setRows({row}, scale);
}

}  // namespace saescope::ui
