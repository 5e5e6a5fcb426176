#include "ui/features_view.h"

#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QScrollArea>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include "ui/feature_page.h"
#include "ui/feature_table_model.h"

namespace saescope::ui {

FeaturesView::FeaturesView(WorkspaceSession* session, QWidget* parent)
    : QWidget(parent), session_(session) {
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
  table_->setAlternatingRowColors(true);

  page_ = new FeaturePage(this);
  auto* scroll = new QScrollArea(this);
  scroll->setWidgetResizable(true);
  scroll->setWidget(page_);

  auto* left = new QWidget(this);
  auto* leftLayout = new QVBoxLayout(left);
  leftLayout->setContentsMargins(0, 0, 0, 0);
  leftLayout->addWidget(header_);
  leftLayout->addWidget(filter_);
  leftLayout->addWidget(table_);
  auto* split = new QSplitter(this);
  split->addWidget(left);
  split->addWidget(scroll);
  split->setStretchFactor(0, 2);
  split->setStretchFactor(1, 5);
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
  sae_ = sae;
  page_->clear();
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

bool FeaturesView::selectFeature(int64_t feature) {
  for (int row = 0; row < proxy_->rowCount(); ++row) {
    const QModelIndex index = proxy_->index(row, 0);
    if (index.data(FeatureTableModel::FeatureIdRole).toLongLong() == feature) {
      table_->setCurrentIndex(index);
      table_->scrollTo(index);
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
  page_->showPage(*page, [&features, model_id](int32_t id) {
    return model_id ? QString::fromStdString(features.token_text(*model_id, id))
                    : QString::number(id);
  });
}

}  // namespace saescope::ui
