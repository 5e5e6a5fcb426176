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

#include <QSaveFile>
#include <QFileDialog>
#include <QMessageBox>
#include <QPushButton>
#include <QTreeWidget>

#include "core/workflows/prompt_features_request.h"
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
  header_->setObjectName(QStringLiteral("featuresHeader"));
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
  // Wide enough for the table's four columns at 1600 px, three top tokens
  // read whole; then where the user left it.
  split->setSizes({460, 860});
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
  connect(session_, &WorkspaceSession::buildingChanged, this, [this] {
    if (!sae_ || !sae_->harvest) header_->setText(emptyText());
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
  if (!sae_ || !ws || !sae_->harvest) {
    header_->setText(emptyText());
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

QString FeaturesView::emptyText() const {
  const QString building = session_->building();
  if (!session_->workspace())
    return tr("No workspace open: File › Open the demo, or File › New workspace and drop a model folder and an "
              "SAE on the window.");
  if (!sae_) {
    if (!building.isEmpty())
      return tr("“%1” is adding the SAEs: they are listed in the model panel in a moment, and their features "
                "appear here once harvested (progress and time left in Jobs, below).").arg(building);
    return session_->saes().empty()
               ? tr("This workspace has no SAE yet: drop an SAE folder or file on the window (File › Add…), or "
                    "train one (Analyse › Train SAE…).")
               : tr("Select an SAE in the model panel.");
  }
  if (!building.isEmpty())
    return tr("%1: its features are being harvested by “%2”. This table fills as soon as the harvest is stored, "
              "before the build's evaluation stages (progress and time left in Jobs, below).")
        .arg(sae_->displayName(), building);
  return tr("%1 has no harvest yet: Analyse › Harvest (Ctrl+H) reads a corpus through the model and fills this "
            "table with its features.").arg(sae_->displayName());
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
  workflows::PromptFeaturesRequest request;
  request.model_dir = model_dir;
  request.sae_dir = sae_->input.path;
  request.device = EngineSettings::load().device.toStdString();
  request.text = text.toStdString();
  auto result = std::make_shared<std::vector<analysis::TokenFeatures>>();
  jobs::EngineCache* engine = &session_->engine();
  Job* job = jobs_->run(tr("What fires here: “%1”").arg(text.left(40)),
                        [request, engine, result](jobs::ProgressSink& progress) {
                          *result = workflows::run_prompt_features(request, *engine, progress);
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
  std::vector<store::FeatureSummary> shown;  // the table as sorted and filtered
  for (int row = 0; row < proxy_->rowCount(); ++row)
    shown.push_back(model_->feature(proxy_->mapToSource(proxy_->index(row, 0)).row()));
  QSaveFile f(path);  // complete or not there
  if (!f.open(QIODevice::WriteOnly) || f.write(QByteArray::fromStdString(store::features_csv(shown))) < 0 ||
      !f.commit()) {
    if (error) *error = tr("%1: cannot write (%2)").arg(path, f.errorString());
    return false;
  }
  return true;
}

}  // namespace saescope::ui
