#pragma once
// The Senses view: type or pick a polysemous word; see its senses (gloss and a
// colour each), every occurrence with the word coloured by its gold sense and
// a chip for the feature it gets (coloured by the sense that feature mostly
// fires for), a senses × features heatmap, a PCA scatter of the occurrences'
// SAE codes coloured by sense, and the word's confusion counts, purity and
// NMI. Unlabelled occurrences are coloured by predicted sense, marked as such.
#include <QWidget>
#include <map>
#include <optional>

#include "core/store/evaluation_store.h"
#include "ui/workspace_session.h"

class QCompleter;
class QCustomPlot;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QTextBrowser;

namespace saescope::ui {

class SensesView : public QWidget {
  Q_OBJECT
 public:
  explicit SensesView(WorkspaceSession* session, QWidget* parent = nullptr);
  void setSae(const std::optional<SaeEntry>& sae);
  bool showWord(const QString& word);  // false when the evaluation lacks it

  QStringList words() const { return words_; }
  QListWidget* senseList() const { return senses_; }
  QTextBrowser* occurrenceList() const { return occurrences_; }
  QCustomPlot* heatmap() const { return heatmap_; }
  QCustomPlot* scatter() const { return scatter_; }
  QLabel* scores() const { return scores_; }
  QLabel* header() const { return header_; }
  QLineEdit* steerPrompt() const { return steer_prompt_; }
  QPushButton* steerButton() const { return steer_button_; }
  // Colour of a sense in the current word (same everywhere in the view).
  QColor senseColour(const std::string& sense_id) const;

 signals:
  void newWordRequested();  // "New word…": the user's own senses
  // "Steer toward this sense": the sense's most frequent argmax feature, added to `prompt`.
  void steerRequested(qint64 feature, const QString& prompt);

 private:
  void reload();
  WorkspaceSession* session_;
  std::optional<SaeEntry> sae_;
  std::optional<int64_t> result_id_;
  QStringList words_;
  std::map<std::string, int> sense_index_;
  QLabel* header_ = nullptr;
  QLineEdit* word_ = nullptr;
  QCompleter* completer_ = nullptr;
  QListWidget* senses_ = nullptr;
  QTextBrowser* occurrences_ = nullptr;
  QCustomPlot* heatmap_ = nullptr;
  QCustomPlot* scatter_ = nullptr;
  QLabel* scores_ = nullptr;
  QLineEdit* steer_prompt_ = nullptr;
  QPushButton* steer_button_ = nullptr;
};

}  // namespace saescope::ui
