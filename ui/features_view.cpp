#include "ui/features_view.h"

#include <QGroupBox>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QScrollArea>
#include <QSortFilterProxyModel>
#include <QSettings>
#include <QSplitter>
#include <QTimer>
#include <QTableView>
#include <QVBoxLayout>

#include <QFile>
#include <QFileDialog>
#include <QMessageBox>
#include <QPushButton>
#include <QTextStream>
#include <QTreeWidget>

#include "core/analysis/prompt_features.h"
#include "core/model/model_registry.h"
#include "core/sae/sae.h"
#include "core/workflows/run_inputs.h"
#include "core/sae/sae.h"
#include "ui/feature_page.h"
#include "ui/jobs_panel.h"
#include "ui/settings_dialog.h"
#include "ui/steer_panel.h"
#include "ui/token_context_view.h"
#include "ui/feature_table_model.h"

namespace saescope::ui {

FeaturesView::FeaturesView(WorkspaceSession* session, JobsPanel* jobs, QWidget* parent)
    : QWidget(parent), session_(session), jobs_(jobs) {
  header_ = new QLabel(this);
  header_->setWordWrap(true);
  filter_ = new QLineEdit(this);
  filter_->setObjectName(QStringLiteral("featureFilter"));
  filter_->setPlaceholderText(tr("Filter by top tokens or feature id…"));
  filter_->setClearButtonEnabled(true);
  model_ = new FeatureTableModel(this);
  proxy_ = new QSortFilterProxyModel(this);
  proxy_->setSourceModel(model_);
  proxy_->setSortRole(FeatureTableModel::SortRole);
  proxy_->setFilterKeyColumn(-1);
  proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
  table_ = new QTableView(this);
  table_->setObjectName(QStringLiteral("featureTable"));
  table_->setModel(proxy_);
  table_->setSortingEnabled(true);
  table_->sortByColumn(FeatureTableModel::Id, Qt::AscendingOrder);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->verticalHeader()->hide();
  table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 6);
  table_->horizontalHeader()->setStretchLastSection(true);
  // id, density, max and top tokens at a glance (the mean stays in the CSV
  // and the feature page); the numbers as narrow as their text.
  table_->setColumnHidden(FeatureTableModel::MeanAct, true);
  for (int c : {FeatureTableModel::Id, FeatureTableModel::Density, FeatureTableModel::MaxAct})
    table_->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
  table_->setAlternatingRowColors(true);

  page_ = new FeaturePage(this);
  steer_ = new SteerPanel(session_, jobs_, this);
  auto* steerBox = new QGroupBox(tr("Steer: does it do what its examples say?"), this);
  (new QVBoxLayout(steerBox))->addWidget(steer_);
  steer_box_ = steerBox;
  auto* pageAndSteer = new QWidget(this);
  auto* pageLayout = new QVBoxLayout(pageAndSteer);
  pageLayout->setContentsMargins(0, 0, 0, 0);
  pageLayout->addWidget(page_);
  pageLayout->addWidget(steerBox);
  auto* scroll = new QScrollArea(this);
  scroll->setWidgetResizable(true);
  scroll->setWidget(pageAndSteer);
  scroll_ = scroll;
  connect(steer_, &SteerPanel::finished, this, [this] { scrollToSteerPanel(); });

  prompt_ = new QLineEdit(this);
  prompt_->setObjectName(QStringLiteral("whatFiresHere"));
  prompt_->setPlaceholderText(tr("What fires here? Type a sentence and press Enter"));
  prompt_results_ = new QTreeWidget(this);
  prompt_results_->setObjectName(QStringLiteral("promptResults"));
  prompt_results_->setHeaderLabels({tr("Token / feature"), tr("Activation")});
  prompt_results_->setToolTip(tr("Click a feature to open it"));
  auto* left = new QWidget(this);
  auto* leftLayout = new QVBoxLayout(left);
  leftLayout->setContentsMargins(0, 0, 0, 0);
  leftLayout->addWidget(header_);
  leftLayout->addWidget(filter_);
  auto* exportCsvButton = new QPushButton(tr("Export table as CSV…"), this);
  connect(exportCsvButton, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export features"), QStringLiteral("features.csv"),
                                                      tr("CSV (*.csv)"));
    QString error;
    if (!path.isEmpty() && !exportCsv(path, &error)) QMessageBox::critical(this, tr("Export failed"), error);
  });
  leftLayout->addWidget(table_, 3);
  leftLayout->addWidget(exportCsvButton);
  leftLayout->addWidget(prompt_);
  leftLayout->addWidget(prompt_results_, 1);
  connect(prompt_, &QLineEdit::returnPressed, this, [this] { whatFiresHere(prompt_->text()); });
  connect(prompt_results_, &QTreeWidget::itemClicked, this, [this](QTreeWidgetItem* item) {
    const QVariant f = item->data(0, Qt::UserRole);
    if (f.isValid()) selectFeature(f.toLongLong());
  });
  auto* split = new QSplitter(this);
  split->addWidget(left);
  split->addWidget(scroll);
  split->setStretchFactor(0, 2);
  split->setStretchFactor(1, 5);
  split->setObjectName(QStringLiteral("featuresSplitter"));
  // Wide enough for the table's four columns at 1600 px; then where the user left it.
  split->setSizes({440, 900});
  const QByteArray saved = QSettings().value(QStringLiteral("featuresView/splitter")).toByteArray();
  if (!saved.isEmpty()) split->restoreState(saved);
  connect(split, &QSplitter::splitterMoved, this, [split] {
    QSettings().setValue(QStringLiteral("featuresView/splitter"), split->saveState());
  });
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(split);

  connect(filter_, &QLineEdit::textChanged, proxy_, &QSortFilterProxyModel::setFilterFixedString);
  connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex& current) {
            if (current.isValid())
              showFeature(current.data(FeatureTableModel::FeatureIdRole).toLongLong());
          });
  setSae(std::nullopt);
}

void FeaturesView::setSae(const std::optional<SaeEntry>& sae) {
  // The same SAE and harvest again (the panel reloads after any job, a
  // steering run included): keep the feature the user is reading.
  const bool same = sae && sae_ && sae->input.id == sae_->input.id && sae->harvest && sae_->harvest &&
                    sae->harvest->id == sae_->harvest->id;
  const QModelIndex current = table_->currentIndex();
  const int64_t shown = same && current.isValid() ? current.data(FeatureTableModel::FeatureIdRole).toLongLong() : -1;
  sae_ = sae;
  if (shown >= 0) return;  // the table and page already show this harvest
  page_->clear();
  steer_->clearFeature();
  store::Workspace* ws = session_->workspace();
  if (!sae_ || !ws) {
    header_->setText(tr("Select an SAE in the model panel."));
    model_->setFeatures({});
    return;
  }
  if (!sae_->harvest) {
    header_->setText(tr("%1 has no harvest yet: run Harvest to see its features.")
                         .arg(sae_->displayName()));
    model_->setFeatures({});
    return;
  }
  store::FeatureStore features(ws->db());
  model_->setFeatures(features.list(sae_->harvest->id, store::FeatureSort::Id, false));
  const auto& p = sae_->harvest->params;
  header_->setText(tr("%1 · %2 features · harvest of %3 tokens")
                       .arg(sae_->displayName())
                       .arg(model_->rowCount())
                       .arg(QString::fromStdString(p.value("tokens", nlohmann::json(0)).dump())));
}

void FeaturesView::scrollToSteerPanel() {
  // After layout: a page just filled has no final height yet.
  QTimer::singleShot(0, this, [this] { scroll_->ensureWidgetVisible(steer_box_, 0, 0); });
}

bool FeaturesView::selectFeature(int64_t feature) {
  for (int row = 0; row < proxy_->rowCount(); ++row) {
    const QModelIndex index = proxy_->index(row, 0);
    if (index.data(FeatureTableModel::FeatureIdRole).toLongLong() == feature) {
      table_->setCurrentIndex(index);
      table_->scrollTo(index, QAbstractItemView::PositionAtCenter);
      // Again once laid out: on opening, the table has no height yet.
      const QPersistentModelIndex later(index);
      QTimer::singleShot(0, table_, [this, later] {
        if (later.isValid()) table_->scrollTo(later, QAbstractItemView::PositionAtCenter);
      });
      return true;
    }
  }
  return false;
}

void FeaturesView::showFeature(int64_t feature) {
  store::Workspace* ws = session_->workspace();
  if (!ws || !sae_ || !sae_->harvest) return;
  store::FeatureStore features(ws->db());
  const auto page = features.page(sae_->harvest->id, feature, sae_->harvest->model_id);
  if (!page) {
    page_->clear();
    return;
  }
  const auto model_id = sae_->harvest->model_id;
  steer_->setFeature(session_->modelPathFor(*sae_), sae_->input.path, feature, page->summary.max_act);
  page_->showPage(*page, [&features, model_id](int32_t id) {
    return model_id ? QString::fromStdString(features.token_text(*model_id, id))
                    : QString::number(id);
  });
}

}  // namespace saescope::ui

namespace saescope::ui {

void FeaturesView::whatFiresHere(const QString& text) {
  if (text.trimmed().isEmpty() || !sae_) return;
  const std::string model_dir = session_->modelPathFor(*sae_);
  if (model_dir.empty()) {
    prompt_results_->clear();
    new QTreeWidgetItem(prompt_results_, {tr("Add the SAE's model folder to the workspace first.")});
    return;
  }
  const std::string sae_dir = sae_->input.path;
  const std::string device = EngineSettings::load().device.toStdString();
  auto result = std::make_shared<std::vector<analysis::TokenFeatures>>();
  jobs::EngineCache* engine = &session_->engine();
  Job* job = jobs_->run(tr("What fires here: “%1”").arg(text.left(40)),
                        [=, input = text.toStdString()](jobs::ProgressSink& progress) {
                          progress.report({"load", 0, 2, "steps", ""});
                          auto sae = engine->sae(sae_dir);
                          // The model as the SAE was trained on it: the use cases' one rule.
                          const model::ModelOptions options =
                              workflows::model_options_for({{sae_dir, &sae->config()}}, device);
                          auto model = engine->model(model_dir, options);
                          auto tokenizer = engine->tokenizer(model_dir);
                          progress.report({"run", 1, 2, "steps", ""});
                          *result = analysis::prompt_features(*model, *sae, *tokenizer, input, 5);
                          progress.report({"run", 2, 2, "steps", ""});
                        });
  connect(job, &Job::ended, this, [this, result](Job::State state) {
    if (state != Job::State::Finished) return;
    prompt_results_->clear();
    for (const auto& token : *result) {
      if (token.is_bos) continue;
      auto* item = new QTreeWidgetItem(prompt_results_,
                                       {TokenContextView::displayToken(QString::fromStdString(token.text))});
      for (const auto& [feature, act] : token.top) {
        auto* child = new QTreeWidgetItem(item, {tr("feature %1").arg(feature), QString::number(act, 'f', 3)});
        child->setData(0, Qt::UserRole, QVariant::fromValue<qlonglong>(feature));
      }
      if (!token.top.empty()) item->setText(1, QString::number(token.top.front().second, 'f', 3));
    }
    prompt_results_->expandAll();
  });
}

}  // namespace saescope::ui

namespace saescope::ui {

bool FeaturesView::exportCsv(const QString& path, QString* error) const {
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
    if (error) *error = tr("%1: cannot write (%2)").arg(path, f.errorString());
    return false;
  }
  QTextStream out(&f);
  out << "feature,fire_count,density,max_activation,mean_activation,top_tokens\n";
  for (int row = 0; row < proxy_->rowCount(); ++row) {
    const int source = proxy_->mapToSource(proxy_->index(row, 0)).row();
    const auto& s = model_->feature(source);
    QString tokens = QString::fromStdString(s.top_tokens);
    tokens.replace(QLatin1Char('"'), QStringLiteral("\"\""));
    out << s.feature << ',' << s.fire_count << ',' << QString::number(s.density, 'g', 8) << ','
        << QString::number(s.max_act, 'g', 8) << ',' << QString::number(s.mean_act, 'g', 8) << ",\""
        << tokens << "\"\n";
  }
  out.flush();
  return f.error() == QFile::NoError;
}

}  // namespace saescope::ui
