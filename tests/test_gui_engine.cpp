// The GUI over the real engine, end to end on a tiny random GPT-2: add a
// model, SAE, corpus and sense dataset to a workspace; harvest; evaluate;
// read the Features, Senses and Evaluation views; ask "what fires here";
// cancel a running harvest and find the workspace consistent.
// LibTorch first: Qt's `slots` macro would break ATen's headers.
#include "tiny_engine.h"

#include <QApplication>
#include <QFileInfo>
#include <QDialogButtonBox>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QTableWidget>
#include <QSignalSpy>
#include <QTableView>
#include <QComboBox>
#include <QLabel>
#include <QTextBrowser>
#include <QTreeWidget>
#include <QtTest>
#include <fstream>

#include "core/analysis/opening_feature.h"
#include "core/store/feature_store.h"
#include "ui/engine_actions.h"
#include "ui/evaluation_model.h"
#include "ui/evaluation_view.h"
#include "ui/feature_page.h"
#include "ui/feature_table_model.h"
#include "ui/features_view.h"
#include "ui/jobs_panel.h"
#include "ui/main_window.h"
#include "ui/model_panel.h"
#include "ui/sense_set_dialog.h"
#include "ui/senses_view.h"
#include "ui/steer_panel.h"
#include "ui/token_context_view.h"
#include "ui/train_dialog.h"

using namespace saescope::ui;
namespace fs = std::filesystem;

namespace {
const std::string kDir = std::string(SAESCOPE_TEST_OUTPUT_DIR) + "/gui_engine";

bool finished(Job* job, int timeout_ms) {
  QElapsedTimer t;
  t.start();
  while (job->state() == Job::State::Running && t.elapsed() < timeout_ms) QTest::qWait(20);
  if (job->state() != Job::State::Finished) qWarning("%s: %s", qPrintable(job->title()), qPrintable(job->error()));
  return job->state() == Job::State::Finished;
}

bool allJobsFinished(JobsPanel* jobs, int timeout_ms) {
  for (Job* j : jobs->jobs())
    if (!finished(j, timeout_ms)) return false;
  return true;
}
}  // namespace

class TestGuiEngine : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    QCoreApplication::setOrganizationName(QStringLiteral("SAEScopeTests"));
    QCoreApplication::setApplicationName(QStringLiteral("test_gui_engine"));
    fs::remove_all(kDir);
    fs::create_directories(kDir);
    tiny::write_model(kDir + "/model");
    tiny::write_sae(kDir + "/sae", "blocks.1.hook_resid_post", 64, 3);
    tiny::write_corpus(kDir + "/corpus.txt", 60, 5);
    tiny::write_occurrences(kDir + "/occurrences.jsonl");
  }

  void endToEnd() {
    MainWindow window;
    window.resize(1600, 1000);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(window.openWorkspace(QString::fromStdString(kDir + "/w.saescope")));
    for (const char* input : {"/model", "/sae", "/corpus.txt", "/occurrences.jsonl"})
      QVERIFY2(window.addInput(QString::fromStdString(kDir + input)), input);
    QVERIFY(allJobsFinished(window.jobsPanel(), 60000));
    QCOMPARE(window.modelPanel()->saeList()->count(), 1);
    const auto sae = window.modelPanel()->currentSae();
    QVERIFY(sae.has_value());
    QCOMPARE(QString::fromStdString(sae->input.config.value("hook_name", std::string())),
             QStringLiteral("blocks.1.hook_resid_post"));

    // Harvest through the same action as Analyse > Harvest.
    QString error;
    Job* harvest = window.actions()->harvest(*sae, window.actions()->defaultCorpus(), 0, &error);
    QVERIFY2(harvest, qPrintable(error));
    QVERIFY(finished(harvest, 120000));
    FeaturesView* features = window.featuresView();
    QCOMPARE(features->model()->rowCount(), 64);
    int64_t firing = -1;
    for (int r = 0; r < features->model()->rowCount() && firing < 0; ++r)
      if (features->model()->feature(r).fire_count > 0) firing = features->model()->feature(r).feature;
    QVERIFY(firing >= 0);
    QVERIFY(features->selectFeature(firing));
    QVERIFY(!features->page()->topContexts()->rows().isEmpty());
    // Tokens on screen are the tokenizer's text, from the store's vocab.
    const QString joined = features->page()->topContexts()->rows()[0].tokens.join(QString());
    QVERIFY2(joined.contains(QLatin1Char(' ')), qPrintable(joined));
    QTest::qWait(100);  // let the page lay out its rows before the screenshot
    QVERIFY(window.grab().save(QStringLiteral(SAESCOPE_TEST_OUTPUT_DIR "/screenshot_engine_features.png")));

    // What fires here: per-token features, click one to open it.
    features->whatFiresHere(QStringLiteral("The river bank was quiet"));
    QVERIFY(allJobsFinished(window.jobsPanel(), 60000));
    QTreeWidget* tree = features->promptResults();
    QCOMPARE(tree->topLevelItemCount(), 5);  // five tokens, BOS hidden
    QTreeWidgetItem* withFeature = nullptr;
    for (int i = 0; i < tree->topLevelItemCount() && !withFeature; ++i)
      if (tree->topLevelItem(i)->childCount()) withFeature = tree->topLevelItem(i)->child(0);
    QVERIFY(withFeature);
    emit tree->itemClicked(withFeature, 0);
    QCOMPARE(features->page()->headline(),
             QStringLiteral("Feature %1").arg(withFeature->data(0, Qt::UserRole).toLongLong()));

    // PS-Eval with the occurrences dataset: Evaluation and Senses views fill.
    // (and reconstruction metrics on the workspace's corpus).
    Job* pseval = window.actions()->evaluate({sae->input.id}, window.actions()->defaultDataset(), &error);
    QVERIFY2(pseval, qPrintable(error));
    QVERIFY(allJobsFinished(window.jobsPanel(), 120000));
    EvaluationView* evaluation = window.evaluationView();
    QCOMPARE(evaluation->model()->rowCount(), 1);
    const EvaluationRow& row = evaluation->model()->rows()[0];
    QVERIFY(row.f1.has_value());
    QVERIFY(row.accuracy.has_value());
    QVERIFY(row.mse.has_value() && *row.mse > 0);
    QVERIFY(row.l0.has_value() && *row.l0 > 0);
    QVERIFY(row.ce_recovered.has_value());
    QCOMPARE(EvaluationView::pointCount(evaluation->mseChart()), 1);
    SensesView* senses = window.sensesView();
    QVERIFY2(senses->words().contains(QStringLiteral("bank")), qPrintable(senses->words().join(',')));
    QVERIFY(senses->showWord(QStringLiteral("bank")));
    QCOMPARE(senses->senseList()->count(), 2);
    window.views()->setCurrentWidget(senses);
    QTest::qWait(100);
    QVERIFY(window.grab().save(QStringLiteral(SAESCOPE_TEST_OUTPUT_DIR "/screenshot_engine_senses.png")));

    // Steer toward a sense: its feature's page opens with the continuation
    // with and without it, kept in the workspace.
    senses->senseList()->setCurrentRow(0);
    QVERIFY(senses->steerButton()->isEnabled());
    QVERIFY(senses->steerPrompt()->text().contains(QStringLiteral("bank")));
    const int resultsBefore = static_cast<int>(window.session()->workspace()->results("steer").size());
    senses->steerButton()->click();
    QCOMPARE(window.views()->currentWidget(), static_cast<QWidget*>(features));
    QVERIFY(allJobsFinished(window.jobsPanel(), 60000));
    SteerPanel* steer = features->steerPanel();
    QVERIFY(!steer->baseline()->toPlainText().isEmpty());
    QVERIFY(!steer->steered()->toPlainText().isEmpty());
    QVERIFY2(steer->nextTokens()->text().contains(QStringLiteral("promoted")), qPrintable(steer->nextTokens()->text()));
    QCOMPARE(static_cast<int>(window.session()->workspace()->results("steer").size()), resultsBefore + 1);
    QTest::qWait(100);
    QVERIFY(window.grab().save(QStringLiteral(SAESCOPE_TEST_OUTPUT_DIR "/screenshot_engine_steer.png")));

    // Ablate mode shades each token by the feature's effect on the next.
    QTRY_VERIFY(steer->runButton()->isEnabled());  // once the job's end has reached the panel
    steer->mode()->setCurrentIndex(SteerPanel::Ablate);
    steer->prompt()->setText(QStringLiteral("The river bank was quiet"));
    QVERIFY(steer->run());
    QVERIFY(allJobsFinished(window.jobsPanel(), 60000));
    QCOMPARE(steer->ablation()->rows().size(), 1);
    QCOMPARE(steer->ablation()->rows()[0].tokens.size(), 5);  // BOS and four tokens with a successor
    QTest::qWait(100);
    QVERIFY(window.grab().save(QStringLiteral(SAESCOPE_TEST_OUTPUT_DIR "/screenshot_engine_ablate.png")));
  }

  void trainingAnSaeAddsItToTheWorkspace() {
    MainWindow window;
    QVERIFY(window.openWorkspace(QString::fromStdString(kDir + "/w.saescope")));
    const int before = window.modelPanel()->saeList()->count();
    TrainDialog dialog({QStringLiteral("blocks.0.hook_resid_post"), QStringLiteral("blocks.1.hook_resid_post")},
                       QStringLiteral("blocks.0.hook_resid_post"), window.actions()->defaultCorpus(),
                       QString::fromStdString(kDir + "/trained"), 64);
    saescope::sae::SaeTrainRequest request = dialog.request();
    QCOMPARE(request.hook, std::string("blocks.0.hook_resid_post"));
    QCOMPARE(request.architecture, std::string("topk"));  // the dialog's default
    QCOMPARE(request.k, int64_t(32));
    QCOMPARE(request.context, int64_t(64));
    request.expansion = 2;
    request.k = 4;
    request.tokens = 2000;
    request.batch = 256;
    QString error;
    Job* job = window.actions()->train(request, &error);
    QVERIFY2(job, qPrintable(error));
    QVERIFY(finished(job, 120000));
    QTRY_COMPARE_WITH_TIMEOUT(window.modelPanel()->saeList()->count(), before + 1, 5000);
    bool found = false;
    for (const auto& e : window.session()->saes())
      if (e.input.path == kDir + "/trained") {
        found = true;
        QCOMPARE(e.input.config.value("hook_name", std::string()), std::string("blocks.0.hook_resid_post"));
        QCOMPARE(e.input.config.value("k", 0), 4);
        QCOMPARE(e.input.config.value("d_sae", 0), 64);
      }
    QVERIFY(found);
  }

  // "New word…": typed-in senses become a CSV beside the workspace and two
  // datasets in it (occurrences and pairs); the rows the engine cannot use
  // are reported in the job's detail.
  void ownSenseSetFromTheDialog() {
    MainWindow window;
    QVERIFY(window.openWorkspace(QString::fromStdString(kDir + "/w.saescope")));
    SenseSetDialog dialog;
    QPushButton* ok = dialog.findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);
    QVERIFY(!ok->isEnabled());
    dialog.wordEdit()->setText(QStringLiteral("pitch"));
    const QStringList rows[] = {{"sound", "The pitch of her voice rose."},
                                {"sound", "He sang at a lower pitch."},
                                {"field", "The players ran onto the pitch."},
                                {"field", "Rain soaked the pitch, \"a swamp\", by noon."},
                                {"field", "This sentence forgets the word."}};
    for (int r = 0; r < 5; ++r)
      for (int c = 0; c < 2; ++c) dialog.table()->setItem(r, c, new QTableWidgetItem(rows[r][c]));
    QVERIFY(ok->isEnabled());
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    dialog.grab().save(QString::fromStdString(kDir + "/sense_set_dialog.png"));  // looked at, not compared
    const QString csv = dialog.csv();
    QVERIFY2(csv.startsWith(QStringLiteral("word,sense,sentence\npitch,sound,")), qPrintable(csv));
    QVERIFY2(csv.contains(QStringLiteral("\"Rain soaked the pitch, \"\"a swamp\"\", by noon.\"")), qPrintable(csv));
    const QString path = QString::fromStdString(kDir + "/senses/pitch.csv");
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(csv.toUtf8());
    f.close();
    const auto datasets_before = window.session()->workspace()->inputs(saescope::store::InputKind::Dataset).size();
    QString error;
    Job* job = window.actions()->importSenseSet(path, &error);
    QVERIFY2(job, qPrintable(error));
    QVERIFY(finished(job, 60000));
    const QString log = job->log().join(QLatin1Char('\n'));
    QVERIFY2(log.contains(QStringLiteral("4 sentences")) && log.contains(QStringLiteral("line 6")), qPrintable(log));
    QVERIFY(QFileInfo::exists(QString::fromStdString(kDir + "/senses/pitch_occurrences.jsonl")));
    auto ws = saescope::store::Workspace::open(kDir + "/w.saescope", saescope::store::IntegrityCheck::Skip);
    QCOMPARE(ws->inputs(saescope::store::InputKind::Dataset).size(), datasets_before + 2);
  }

  void firstRunOpensTheDemoAndSelectsAFeature() {
    // A tiny demo where the app looks for one, the miniature WordNet, and a
    // data folder of our own for the demo workspace.
    const std::string demo = kDir + "/demo";
    fs::create_directories(demo + "/corpus");
    fs::copy(kDir + "/model", demo + "/model", fs::copy_options::recursive);
    tiny::write_sae(demo + "/saes/L0", "blocks.0.hook_resid_post", 64, 4);
    tiny::write_sae(demo + "/saes/L1", "blocks.1.hook_resid_post", 64, 5);
    {
      std::ifstream in(kDir + "/corpus.txt");
      std::ofstream out(demo + "/corpus/demo_corpus.jsonl");
      for (std::string line; std::getline(in, line);)
        if (!line.empty()) out << nlohmann::json({{"text", line + " The bank of the river."}}).dump() << "\n";
    }
    qputenv("SAESCOPE_DEMO_DIR", QByteArray::fromStdString(demo));
    qputenv("WNSEARCHDIR", QByteArray(SAESCOPE_FIXTURES_DIR "/polysemy/wordnet_mini"));
    qputenv("XDG_DATA_HOME", QByteArray::fromStdString(kDir + "/xdg"));

    MainWindow window;
    QVERIFY(window.openDemo());
    QVERIFY(window.session()->path().startsWith(QString::fromStdString(kDir + "/xdg")));
    // While it builds, the views fill stage by stage: the Features view once
    // the harvest is stored, with the job still running; before that it says
    // what is coming. The bar moves by expected work, never back.
    Job* build = nullptr;
    for (Job* j : window.jobsPanel()->jobs())
      if (j->title().startsWith(QStringLiteral("Build the demo"))) build = j;
    QVERIFY(build);
    QVERIFY2(window.featuresView()->header()->text().contains(build->title()),
             qPrintable(window.featuresView()->header()->text()));
    int features_when_harvest_landed = -1;
    bool running_then = false, selected_then = false;
    connect(build, &Job::stageLanded, this, [&](int ended) {  // after MainWindow's own handler
      if (ended != 2) return;  // WordNet, harvest
      features_when_harvest_landed = window.featuresView()->model()->rowCount();
      running_then = build->state() == Job::State::Running;
      selected_then = !window.featuresView()->table()->selectionModel()->selectedRows().isEmpty();
    });
    double last_fraction = 0, fell_from = -1;
    connect(build, &Job::progressed, this, [&] {
      if (build->fraction() + 1e-9 < last_fraction) fell_from = last_fraction;
      last_fraction = std::max(last_fraction, build->fraction());
    });
    QVERIFY(allJobsFinished(window.jobsPanel(), 240000));
    QApplication::processEvents();
    QVERIFY2(features_when_harvest_landed > 0, qPrintable(QString::number(features_when_harvest_landed)));
    QVERIFY(running_then);
    QVERIFY(selected_then);
    QVERIFY2(fell_from < 0, qPrintable(QStringLiteral("the bar fell back from %1").arg(fell_from)));
    QCOMPARE(build->fraction(), 1.0);
    QVERIFY(window.session()->building().isEmpty());
    QVERIFY(!window.featuresView()->header()->text().contains(build->title()));
    const auto sae = window.modelPanel()->currentSae();
    QVERIFY(sae.has_value());
    QCOMPARE(QString::fromStdString(sae->input.config["hook_name"].get<std::string>()),
             QStringLiteral("blocks.1.hook_resid_post"));  // the middle layer of two
    const auto selected = window.featuresView()->table()->selectionModel()->selectedRows();
    QVERIFY(!selected.isEmpty());
    // The demo's rule: the feature opened on fires on whole words in the 0.1–5 % band when one does.
    const auto* shown = window.featuresView()->model();
    bool words_in_band = false;
    for (int r = 0; r < shown->rowCount(); ++r) {
      const auto& f = shown->feature(r);
      words_in_band |= f.density >= 0.001 && f.density <= 0.05 && saescope::analysis::top_tokens_are_words(f.top_tokens);
    }
    const qint64 picked = selected[0].data(FeatureTableModel::FeatureIdRole).toLongLong();
    for (int r = 0; r < shown->rowCount(); ++r)
      if (shown->feature(r).feature == picked && words_in_band) {
        QVERIFY2(shown->feature(r).density >= 0.001 && shown->feature(r).density <= 0.05,
                 qPrintable(QString::number(shown->feature(r).density)));
        QVERIFY(saescope::analysis::top_tokens_are_words(shown->feature(r).top_tokens));
      }
    QVERIFY(window.evaluationView()->model()->rows().size() == 2);
    QVERIFY(window.evaluationView()->model()->rows()[0].f1.has_value());

    // The second start finds everything built: selected at once, no recomputation.
    MainWindow again;
    QVERIFY(again.openDemo());
    QVERIFY(again.modelPanel()->currentSae().has_value());
    QVERIFY(allJobsFinished(again.jobsPanel(), 60000));
    auto ws = saescope::store::Workspace::open(window.session()->path().toStdString());
    QCOMPARE(ws->results("pseval").size(), std::size_t(2));

    // A later start of the app (no workspace named) reopens the demo, its SAE
    // and feature selected, since the demo was the last workspace.
    QCOMPARE(MainWindow::lastWorkspace(), QFileInfo(MainWindow::demoWorkspacePath()).absoluteFilePath());
    MainWindow later;
    QVERIFY(later.openAtStart(false));
    QCOMPARE(later.session()->path(), again.session()->path());
    QVERIFY(later.modelPanel()->currentSae().has_value());
    QCOMPARE(later.modelPanel()->currentSae()->input.id, again.modelPanel()->currentSae()->input.id);
    QVERIFY(!later.featuresView()->table()->selectionModel()->selectedRows().isEmpty());
    QVERIFY(allJobsFinished(later.jobsPanel(), 60000));

    // A demo folder that is not one: an error, not a crash.
    qputenv("SAESCOPE_DEMO_DIR", QByteArray::fromStdString(kDir + "/nowhere"));
    QSignalSpy errors(&again, &MainWindow::errorShown);
    QVERIFY(!again.openDemo());
    QCOMPARE(errors.count(), 1);
    QVERIFY(errors[0][0].toString().contains(QStringLiteral("nowhere")));
    qunsetenv("SAESCOPE_DEMO_DIR");
    qunsetenv("WNSEARCHDIR");
  }

  void cancellingAHarvestKeepsTheWorkspaceConsistent() {
    MainWindow window;
    QVERIFY(window.openWorkspace(QString::fromStdString(kDir + "/w.saescope")));
    // A second, longer corpus: a new harvest (different content hash).
    tiny::write_corpus(kDir + "/long.txt", 3000, 9);
    const auto sae = window.modelPanel()->currentSae();
    QVERIFY(sae && sae->harvest);
    const int64_t finishedHarvest = sae->harvest->id;
    QString error;
    Job* job = window.actions()->harvest(*sae, QString::fromStdString(kDir + "/long.txt"), 0, &error);
    QVERIFY2(job, qPrintable(error));
    QTRY_VERIFY_WITH_TIMEOUT(job->fraction() > 0, 60000);
    job->cancel();
    QTRY_COMPARE_WITH_TIMEOUT(job->state(), Job::State::Cancelled, 60000);
    // The finished harvest is still the one shown; the cancelled one is a
    // running (resumable) result with no feature rows.
    auto ws = saescope::store::Workspace::open(kDir + "/w.saescope");
    int running = 0;
    for (const auto& r : ws->results("harvest")) {
      if (r.done) continue;
      ++running;
      saescope::store::FeatureStore fs_(ws->db());
      QVERIFY(fs_.list(r.id, saescope::store::FeatureSort::Id, false).empty());
    }
    QCOMPARE(running, 1);
    window.session()->notifyResultsChanged();
    QCOMPARE(window.modelPanel()->currentSae()->harvest->id, finishedHarvest);
  }
};

QTEST_MAIN(TestGuiEngine)
#include "test_gui_engine.moc"
