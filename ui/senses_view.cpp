#include "ui/senses_view.h"
#include "ui/sense_palette.h"

#include <QCompleter>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QLineEdit>
#include <QListWidget>
#include <QStringListModel>
#include <QTextBrowser>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <cmath>

#include "core/polysemy/stored_occurrences.h"
#include "core/polysemy/sense_label.h"
#include "ui/charts.h"

namespace saescope::ui {

SensesView::SensesView(WorkspaceSession* session, QWidget* parent)
    : QWidget(parent), session_(session) {
  header_ = new QLabel(this);
  header_->setObjectName(QStringLiteral("sensesHeader"));
  header_->setWordWrap(true);
  word_ = new QLineEdit(this);
  word_->setObjectName(QStringLiteral("senseWord"));
  word_->setPlaceholderText(tr("Type a word: bank, spring, play…"));
  completer_ = new QCompleter(this);
  completer_->setCaseSensitivity(Qt::CaseInsensitive);
  completer_->setModel(new QStringListModel(completer_));
  word_->setCompleter(completer_);
  scores_ = new QLabel(this);
  scores_->setObjectName(QStringLiteral("senseScores"));
  scores_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  senses_ = new QListWidget(this);
  senses_->setObjectName(QStringLiteral("senseList"));
  senses_->setWordWrap(true);
  occurrences_ = new QTextBrowser(this);
  occurrences_->setObjectName(QStringLiteral("occurrences"));
  heatmap_ = new QCustomPlot(this);
  heatmap_->setObjectName(QStringLiteral("senseHeatmap"));
  heatmap_->setMinimumHeight(260);
  scatter_ = new QCustomPlot(this);
  scatter_->setObjectName(QStringLiteral("senseScatter"));
  scatter_->setMinimumHeight(260);
  // The legend beside the axes: inside them it hides points.
  scatter_->axisRect()->insetLayout()->take(scatter_->legend);
  scatter_->plotLayout()->addElement(0, 1, scatter_->legend);
  scatter_->plotLayout()->setColumnStretchFactor(1, 0.001);
  scatter_->legend->setBorderPen(Qt::NoPen);
  addExportAction(heatmap_);
  addExportAction(scatter_);


  auto* top = new QHBoxLayout;
  top->addWidget(new QLabel(tr("Word:"), this));
  top->addWidget(word_, 1);
  top->addWidget(scores_, 3);
  auto* newWord = new QPushButton(tr("New word…"), this);
  newWord->setObjectName(QStringLiteral("newWordButton"));
  newWord->setToolTip(tr("Your own word: senses and example sentences, evaluated like WordNet's"));
  connect(newWord, &QPushButton::clicked, this, &SensesView::newWordRequested);
  top->addWidget(newWord);
  // Steer an ambiguous prompt toward the selected sense with its feature.
  steer_prompt_ = new QLineEdit(this);
  steer_prompt_->setObjectName(QStringLiteral("senseSteerPrompt"));
  steer_prompt_->setPlaceholderText(tr("An ambiguous prompt ending in the word"));
  steer_button_ = new QPushButton(tr("Steer toward the selected sense"), this);
  steer_button_->setObjectName(QStringLiteral("senseSteerButton"));
  steer_button_->setToolTip(tr("Adds the feature that most often fires for this sense to the prompt, and "
                               "shows the continuation with and without it on the feature's page"));
  steer_button_->setEnabled(false);
  connect(senses_, &QListWidget::currentRowChanged, this, [this](int row) {
    steer_button_->setEnabled(row >= 0 && senses_->item(row)->data(Qt::UserRole).toLongLong() >= 0);
  });
  connect(steer_button_, &QPushButton::clicked, this, [this] {
    const QListWidgetItem* item = senses_->currentItem();
    if (item && !steer_prompt_->text().trimmed().isEmpty())
      emit steerRequested(item->data(Qt::UserRole).toLongLong(), steer_prompt_->text());
  });
  auto* sensesBox = new QGroupBox(tr("Senses"), this);
  auto* sensesLayout = new QVBoxLayout(sensesBox);
  sensesLayout->addWidget(senses_);
  sensesLayout->addWidget(steer_prompt_);
  sensesLayout->addWidget(steer_button_);
  auto* occBox = new QGroupBox(tr("Occurrences (word coloured by gold sense · chip: argmax feature, "
                                  "coloured by the sense it mostly fires for)"), this);
  (new QVBoxLayout(occBox))->addWidget(occurrences_);
  auto* grid = new QGridLayout;
  grid->addWidget(sensesBox, 0, 0);
  grid->addWidget(occBox, 0, 1);
  grid->addWidget(heatmap_, 1, 0);
  grid->addWidget(scatter_, 1, 1);
  grid->setColumnStretch(0, 2);
  grid->setColumnStretch(1, 3);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(header_);
  layout->addLayout(top);
  layout->addLayout(grid, 1);

  connect(word_, &QLineEdit::returnPressed, this, [this] { showWord(word_->text().trimmed()); });
  connect(completer_, qOverload<const QString&>(&QCompleter::activated), this,
          [this](const QString& w) { showWord(w); });
  connect(session_, &WorkspaceSession::resultsChanged, this, &SensesView::reload);
  connect(session_, &WorkspaceSession::buildingChanged, this, &SensesView::reload);
  setSae(std::nullopt);
}

void SensesView::setSae(const std::optional<SaeEntry>& sae) {
  sae_ = sae;
  reload();
}

void SensesView::reload() {
  result_id_.reset();
  words_.clear();
  store::Workspace* ws = session_->workspace();
  if (ws && sae_)
    for (const auto& r : ws->results("pseval"))
      if (r.done && r.sae_id == sae_->input.id) {
        store::EvaluationStore ev(ws->db());
        if (!ev.words(r.id).empty()) result_id_ = r.id;  // latest with occurrences
      }
  if (result_id_) {
    store::EvaluationStore ev(ws->db());
    for (const auto& w : ev.words(*result_id_)) words_ << QString::fromStdString(w);
    header_->setText(tr("%1 · %2 words with sense-labelled occurrences")
                         .arg(sae_->displayName())
                         .arg(words_.size()));
  } else if (!ws) {
    header_->setText(tr("No workspace open: File › Open the demo, or open a workspace with an evaluated SAE."));
  } else if (!sae_) {
    header_->setText(session_->building().isEmpty()
                         ? tr("Select an SAE in the model panel; its sense evaluation shows here.")
                         : tr("“%1” is adding the SAEs: select one in the model panel once listed.")
                               .arg(session_->building()));
  } else if (!session_->building().isEmpty()) {
    header_->setText(tr("%1: the senses of its words appear here when PS-Eval, the last stage of “%2”, is "
                        "stored (progress and time left in Jobs, below).")
                         .arg(sae_->displayName(), session_->building()));
  } else {
    header_->setText(tr("%1 has no sense evaluation yet: Analyse › Evaluate (Ctrl+E) with a sense-labelled "
                        "dataset (Analyse › Build the WordNet sense dataset, or New word… for your own).")
                         .arg(sae_->displayName()));
  }
  static_cast<QStringListModel*>(completer_->model())->setStringList(words_);
  const QString current = word_->text().trimmed();
  if (!current.isEmpty() && words_.contains(current)) showWord(current);
  else {
    senses_->clear();
    occurrences_->clear();
    if (!words_.isEmpty())  // what to do next, rather than empty panels
      occurrences_->setHtml(tr("<p>Type a word above to see its senses and every occurrence coloured by sense, "
                               "e.g. %1.</p>").arg(QStringList(words_.mid(0, 6)).join(QStringLiteral(", ")).toHtmlEscaped()));
    scores_->clear();
    heatmap_->clearPlottables();
    scatter_->clearGraphs();
    heatmap_->replot();
    scatter_->replot();
  }
}

QColor SensesView::senseColour(const std::string& sense_id) const {
  auto it = sense_index_.find(sense_id);
  return senseColourAt(it == sense_index_.end() ? -1 : it->second);
}

bool SensesView::showWord(const QString& word) {
  store::Workspace* ws = session_->workspace();
  if (!ws || !result_id_ || !words_.contains(word)) return false;
  word_->setText(word);
  store::EvaluationStore ev(ws->db());
  const std::string w = word.toStdString();
  const auto senses = ev.senses(*result_id_, w);
  const auto occ = ev.occurrences(*result_id_, w);
  sense_index_.clear();
  for (const auto& s : senses) sense_index_.emplace(s.sense_id, static_cast<int>(sense_index_.size()));
  for (const auto& o : occ)  // senses present in occurrences but without a gloss row
    if (!o.sense_id.empty()) sense_index_.emplace(o.sense_id, static_cast<int>(sense_index_.size()));
  const polysemy::SenseFeatureTable table = polysemy::stored_sense_feature_table(occ, w);
  const auto majority = polysemy::majority_sense(table);          // feature -> the sense it mostly fires for
  const auto steer_feature = polysemy::top_feature_per_sense(table);  // sense -> its most frequent feature

  // Senses named for people (the WordNet offset stays in the tooltip).
  std::map<std::string, QString> label, short_label;
  for (const auto& s : senses) {
    label[s.sense_id] = QString::fromStdString(polysemy::sense_label(w, s.sense_id, s.gloss, 80));
    short_label[s.sense_id] = QString::fromStdString(polysemy::sense_label(w, s.sense_id, s.gloss, 36));
  }
  const auto name = [&](const std::string& id, bool brief) {
    const auto& names = brief ? short_label : label;
    const auto it = names.find(id);
    return it != names.end() ? it->second : QString::fromStdString(id);
  };
  senses_->clear();
  for (const auto& s : senses) {
    int n = 0;
    for (const auto& o : occ) n += o.sense_id == s.sense_id;
    auto* item = new QListWidgetItem(QStringLiteral("■ %1 (%2)").arg(name(s.sense_id, false)).arg(n), senses_);
    item->setToolTip(QStringLiteral("%1 — %2").arg(QString::fromStdString(s.sense_id), QString::fromStdString(s.gloss)));
    item->setForeground(senseColour(s.sense_id));
    const auto feature = steer_feature.find(s.sense_id);
    item->setData(Qt::UserRole, QVariant::fromValue<qlonglong>(feature == steer_feature.end() ? -1 : feature->second));
  }
  steer_button_->setEnabled(false);
  // The first labelled occurrence, up to and including the word: its sense is
  // rarely settled before the word, so it makes an ambiguous prompt.
  steer_prompt_->clear();
  for (const auto& o : occ)
    if (!o.sense_id.empty()) {
      const QByteArray ctx = QByteArray::fromStdString(o.context);
      steer_prompt_->setText(QString::fromUtf8(ctx.left(static_cast<int>(std::clamp<int64_t>(o.char_end, 0, ctx.size())))).trimmed());
      break;
    }

  QString html;
  for (const auto& o : occ) {
    const QByteArray ctx = QByteArray::fromStdString(o.context);
    const auto b = static_cast<int>(std::clamp<int64_t>(o.char_start, 0, ctx.size()));
    const auto e = static_cast<int>(std::clamp<int64_t>(o.char_end, b, ctx.size()));
    const bool labelled = !o.sense_id.empty();
    const auto feature_sense = majority.find(o.argmax_feature);
    const std::string predicted = feature_sense == majority.end() ? std::string() : feature_sense->second;
    const QColor wordColour = senseColour(labelled ? o.sense_id : predicted);
    const QColor chipColour = senseColour(predicted);
    html += QStringLiteral("<p style='margin:2px'>");
    html += QStringLiteral("<span style='background:%1;color:white;border-radius:3px'>&nbsp;%2&nbsp;</span> ")
                .arg(chipColour.name(),
                     o.argmax_feature < 0 ? tr("no feature") : tr("f%1").arg(o.argmax_feature));
    html += QString::fromUtf8(ctx.left(b)).toHtmlEscaped();
    html += QStringLiteral("<b style='color:%1'>%2</b>")
                .arg(wordColour.name(), QString::fromUtf8(ctx.mid(b, e - b)).toHtmlEscaped());
    html += QString::fromUtf8(ctx.mid(e)).toHtmlEscaped();
    if (!labelled) html += QStringLiteral(" <i>(predicted sense)</i>");
    html += QStringLiteral("</p>");
  }
  occurrences_->setHtml(html);

  // Word scores from the store: pair confusion and sense clustering.
  QStringList parts;
  for (const auto& c : ev.word_confusions(*result_id_))
    if (c.word == w)
      parts << tr("pairs TP %1 · FP %2 · TN %3 · FN %4").arg(c.tp).arg(c.fp).arg(c.tn).arg(c.fn);
  if (const auto s = ev.word_score(*result_id_, w))
    parts << tr("purity %1 · NMI %2 over %3 occurrences")
                 .arg(s->purity, 0, 'f', 3)
                 .arg(s->nmi, 0, 'f', 3)
                 .arg(s->occurrences);
  scores_->setText(parts.join(QStringLiteral(" · ")));

  // Senses × features heatmap (counts of labelled occurrences).
  const std::vector<int64_t>& features = table.features;
  heatmap_->clearPlottables();
  applyPalette(heatmap_);
  auto* map = new QCPColorMap(heatmap_->xAxis, heatmap_->yAxis);
  const int nx = std::max<int>(1, static_cast<int>(features.size()));
  const int ny = std::max<int>(1, static_cast<int>(sense_index_.size()));
  map->data()->setSize(nx, ny);
  map->data()->setRange(QCPRange(0, nx - 1), QCPRange(0, ny - 1));
  for (size_t s_i = 0; s_i < table.senses.size(); ++s_i)
    for (size_t f_i = 0; f_i < features.size(); ++f_i)
      map->data()->setCell(static_cast<int>(f_i), sense_index_.at(table.senses[s_i]),
                           static_cast<double>(table.counts[s_i][f_i]));
  QCPColorGradient counts;  // empty cells in the background colour, full ones dark blue
  counts.setColorStopAt(0, heatmap_->palette().color(QPalette::Base));
  counts.setColorStopAt(1, QColor(31, 90, 160));
  map->setGradient(counts);
  map->setInterpolate(false);  // counts are cells, not a field
  heatmap_->clearItems();
  for (int x = 0; x < nx && !features.empty(); ++x)
    for (int y = 0; y < ny; ++y) {
      const double n = map->data()->cell(x, y);
      if (n <= 0) continue;
      auto* label = new QCPItemText(heatmap_);
      label->position->setCoords(x, y);
      label->setText(QString::number(n));
      label->setColor(heatmap_->palette().color(QPalette::WindowText));
      label->setBrush(heatmap_->palette().color(QPalette::Base));
    }
  map->rescaleDataRange(true);
  QSharedPointer<QCPAxisTickerText> xt(new QCPAxisTickerText), yt(new QCPAxisTickerText);
  for (int i = 0; i < static_cast<int>(features.size()); ++i) xt->addTick(i, QStringLiteral("f%1").arg(features[i]));
  for (const auto& [sense, i] : sense_index_) yt->addTick(i, name(sense, true));
  heatmap_->xAxis->setTicker(xt);
  heatmap_->yAxis->setTicker(yt);
  heatmap_->xAxis->setLabel(tr("argmax feature"));
  heatmap_->rescaleAxes();
  heatmap_->xAxis->setRange(-0.5, nx - 0.5);
  heatmap_->yAxis->setRange(-0.5, ny - 0.5);
  heatmap_->replot();

  // PCA of the occurrences' codes, one series per sense (+ unlabelled).
  scatter_->clearGraphs();
  applyPalette(scatter_);
  std::map<std::string, QCPGraph*> series;
  for (const auto& o : occ) {
    QCPGraph*& g = series[o.sense_id];
    if (!g) {
      g = scatter_->addGraph();
      const QColor c = senseColour(o.sense_id);
      g->setLineStyle(QCPGraph::lsNone);
      g->setScatterStyle(QCPScatterStyle(o.sense_id.empty() ? QCPScatterStyle::ssCircle
                                                            : QCPScatterStyle::ssDisc, c, c, 8));
      g->setName(o.sense_id.empty() ? tr("unlabelled") : name(o.sense_id, true));
    }
    g->addData(o.pca_x, o.pca_y);
  }
  scatter_->xAxis->setLabel(tr("PC 1"));
  scatter_->yAxis->setLabel(tr("PC 2"));
  scatter_->legend->setVisible(!series.empty());
  scatter_->legend->setBrush(scatter_->palette().color(QPalette::Base));
  scatter_->legend->setTextColor(scatter_->palette().color(QPalette::WindowText));
  scatter_->rescaleAxes();
  for (QCPAxis* axis : {scatter_->xAxis, scatter_->yAxis}) {
    const QCPRange r = axis->range();
    const double pad = r.size() > 0 ? r.size() * 0.1 : 1.0;
    axis->setRange(r.lower - pad, r.upper + pad);
  }
  scatter_->replot();
  return true;
}

}  // namespace saescope::ui
