// The embedded demo's engine side (core/demo) on a tiny real demo folder:
// finding the assets, building the workspace (WordNet set, harvest,
// reconstruction, PS-Eval), reusing all of it on the second run, choosing
// what the app shows first, and the headless report (`saescope-cli demo`).
#include "tiny_engine.h"  // first: Qt's `slots` macro breaks ATen headers

#include <QProcess>
#include <QtTest>
#include <filesystem>
#include <fstream>

#include "core/common/error.h"
#include "core/analysis/opening_feature.h"
#include "core/demo/demo_assets.h"
#include "core/demo/demo_report.h"
#include "core/demo/demo_workspace.h"
#include "core/store/evaluation_table.h"
#include "core/store/feature_store.h"
#include "core/store/workspace.h"

using namespace saescope;
namespace fs = std::filesystem;

namespace {

std::string out_dir(const std::string& name) {
  const std::string dir = std::string(SAESCOPE_TEST_OUTPUT_DIR) + "/demo/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

const std::string kWordNetMini = std::string(SAESCOPE_FIXTURES_DIR) + "/polysemy/wordnet_mini";

// A demo folder as resources/demo lays it out: model/, saes/*, corpus/.
std::string write_demo(const std::string& root) {
  tiny::write_model(root + "/model");
  tiny::write_sae(root + "/saes/L0_resid_post", "blocks.0.hook_resid_post", 64, 3);
  tiny::write_sae(root + "/saes/L1_resid_post", "blocks.1.hook_resid_post", 64, 4);
  fs::create_directories(root + "/corpus");
  const std::string text = tiny::write_corpus(root + "/corpus.txt", 60, 5);
  std::ifstream in(text);
  std::ofstream out(root + "/corpus/demo_corpus.jsonl");
  std::string line, paragraph;
  while (std::getline(in, line)) {
    if (!line.empty()) paragraph += line + " ";
    else if (!paragraph.empty()) {
      out << nlohmann::json({{"text", paragraph + "The river bank was green."}}).dump() << "\n";
      paragraph.clear();
    }
  }
  fs::remove(text);
  return root;
}

demo::DemoBuildOptions options_for(const std::string& dir) {
  demo::DemoBuildOptions o;
  o.workspace_path = dir + "/demo.saescope";
  o.wordnet_dir = kWordNetMini;
  o.harvest_tokens = 1024;
  o.eval_tokens = 512;
  o.pseval_split = "";  // the miniature WordNet has too few words to split
  return o;
}

}  // namespace

class TestDemo : public QObject {
  Q_OBJECT
 private slots:
  void findsAssetsOrSaysWhereItLooked() {
    const std::string root = write_demo(out_dir("assets") + "/demo");
    const demo::DemoAssets a = demo::find_demo_assets(root);
    QCOMPARE(a.sae_dirs.size(), std::size_t(2));
    QVERIFY(a.sae_dirs[0] < a.sae_dirs[1]);
    QVERIFY(fs::is_regular_file(a.corpus));
    fs::remove_all(root + "/saes");
    try {
      demo::find_demo_assets(root);
      QFAIL("a demo without SAEs was accepted");
    } catch (const InputError& e) {
      QVERIFY2(QString(e.what()).contains("no demo SAEs"), e.what());
    }
    // A folder named by SAESCOPE_DEMO_DIR is the only one looked at.
    qputenv("SAESCOPE_DEMO_DIR", QByteArray::fromStdString(root));
    try {
      demo::find_demo_assets();
      QFAIL("SAESCOPE_DEMO_DIR without SAEs was replaced by another demo");
    } catch (const InputError& e) {
      QVERIFY2(QString(e.what()).contains("SAESCOPE_DEMO_DIR"), e.what());
    }
    qunsetenv("SAESCOPE_DEMO_DIR");
  }

  void topTokensAreWords() {
    QVERIFY(analysis::top_tokens_are_words(" to ·  may ·  will"));
    QVERIFY(!analysis::top_tokens_are_words("\n\n"));
    QVERIFY(!analysis::top_tokens_are_words("ool · Bot · Chem"));      // word pieces, not words
    QVERIFY(!analysis::top_tokens_are_words(" the ·  (·  very"));      // punctuation
    QVERIFY(!analysis::top_tokens_are_words(" the ·  a"));             // two tokens
    QVERIFY(!analysis::top_tokens_are_words(" the ·  a ·  an ·  it"));  // four
    QVERIFY(!analysis::top_tokens_are_words(""));
  }

  void buildsOnceThenReusesEverything() {
    const std::string dir = out_dir("build");
    const demo::DemoAssets assets = demo::find_demo_assets(write_demo(dir + "/demo"));
    // One bar for the four stages: it never falls back, each stage's end is
    // said as it lands, and it ends full.
    double last_fraction = 0, fell_from = -1;
    int stages_ended = 0;
    std::vector<std::string> landed;
    jobs::ProgressSink progress([&](const jobs::Progress& p, double, double) {
      QVERIFY(p.job_fraction >= 0);
      if (p.job_fraction + 1e-12 < last_fraction) fell_from = last_fraction;
      last_fraction = std::max(last_fraction, p.job_fraction);
      if (p.job_stages_ended > stages_ended) landed.push_back(p.job_stage);
      stages_ended = std::max(stages_ended, p.job_stages_ended);
    });
    const demo::DemoBuildResult first = demo::build_demo_workspace(assets, options_for(dir), progress);
    QVERIFY2(fell_from < 0, qPrintable(QString::number(fell_from)));
    QCOMPARE(last_fraction, 1.0);
    QCOMPARE(landed, (std::vector<std::string>{"WordNet", "harvest", "reconstruction", "PS-Eval"}));
    QCOMPARE(first.steps_run, 4);
    QCOMPARE(first.steps_reused, 0);
    QVERIFY(fs::is_regular_file(first.pairs_path));
    QVERIFY(fs::is_regular_file(first.occurrences_path));

    auto ws = store::Workspace::open(first.workspace_path);
    QCOMPARE(ws->inputs(store::InputKind::Sae).size(), std::size_t(2));
    QCOMPARE(ws->results("harvest").size(), std::size_t(2));
    QCOMPARE(ws->results("reconstruction").size(), std::size_t(2));
    QCOMPARE(ws->results("pseval").size(), std::size_t(2));
    const auto rows = store::evaluation_table(*ws);
    QCOMPARE(rows.size(), std::size_t(2));
    for (const auto& r : rows) {
      QVERIFY(r.mse && r.l0 && r.explained_variance && r.ce_recovered);
      QVERIFY(r.f1 && r.accuracy && r.nmi);
      QCOMPARE(QString::fromStdString(r.dataset), QStringLiteral("wordnet_pairs.jsonl"));
      QCOMPARE(QString::fromStdString(r.hook_kind), QStringLiteral("resid_post"));
    }
    // The app opens on the middle layer's SAE (2 layers: blocks.1).
    const analysis::OpeningSelection pick = analysis::opening_selection(*ws);
    QCOMPARE(QString::fromStdString(pick.hook), QStringLiteral("blocks.1.hook_resid_post"));
    QCOMPARE(pick.sae_id, rows[1].sae_id);
    // ...on a feature that fires on whole words, when one fires on 0.1–5% of tokens.
    QVERIFY(pick.feature >= 0);
    bool words_in_band = false;
    std::string picked_tokens;
    for (const auto& r : ws->results("harvest")) {
      if (r.sae_id != pick.sae_id) continue;
      for (const auto& f : store::FeatureStore(ws->db()).list(r.id, store::FeatureSort::Id, false)) {
        if (f.feature == pick.feature) picked_tokens = f.top_tokens;
        words_in_band |= f.density >= 0.001 && f.density <= 0.05 && analysis::top_tokens_are_words(f.top_tokens);
      }
    }
    qInfo("opens on feature %lld: %s", static_cast<long long>(pick.feature), picked_tokens.c_str());
    QCOMPARE(analysis::top_tokens_are_words(picked_tokens), words_in_band);
    ws.reset();

    // Second run: every step is found in the workspace, nothing recomputed.
    const demo::DemoBuildResult second = demo::build_demo_workspace(assets, options_for(dir), progress);
    QCOMPARE(second.steps_reused, 4);
    QCOMPARE(second.steps_run, 0);
    ws = store::Workspace::open(first.workspace_path);
    QCOMPARE(ws->results("harvest").size(), std::size_t(2));
    QCOMPARE(ws->results("pseval").size(), std::size_t(2));

    // The report: the table as CSV (header + a row per SAE) and the summary.
    const auto files = demo::write_demo_report(*ws, dir + "/report", "Tiny demo");
    QCOMPARE(files.size(), std::size_t(2));
    std::ifstream csv(files[0]);
    std::vector<std::string> lines;
    for (std::string l; std::getline(csv, l);) lines.push_back(l);
    QCOMPARE(lines.size(), std::size_t(3));
    QVERIFY(QString::fromStdString(lines[0]).startsWith("Model,Hook,Layer,Architecture,d_sae"));
    QVERIFY(QString::fromStdString(lines[1]).contains("blocks.0.hook_resid_post"));
    const QString summary = QString::fromStdString(demo::pseval_summary(*ws, "Tiny demo"));
    QVERIFY(summary.startsWith("Tiny demo"));
    QVERIFY(summary.contains("blocks.1.hook_resid_post"));
    QVERIFY(summary.contains("(no SAE: raw argmax)"));
  }

  void cancelledBuildResumes() {
    const std::string dir = out_dir("cancel");
    const demo::DemoAssets assets = demo::find_demo_assets(write_demo(dir + "/demo"));
    jobs::CancelFlag cancel;
    int reports = 0;
    jobs::ProgressSink stopping(
        [&](const jobs::Progress& p, double, double) {
          if (p.stage == "reconstruction" || p.stage == "evaluate" || ++reports > 40) cancel.cancel();
        },
        &cancel);
    QVERIFY_EXCEPTION_THROWN(demo::build_demo_workspace(assets, options_for(dir), stopping), Cancelled);
    jobs::ProgressSink progress;
    const auto done = demo::build_demo_workspace(assets, options_for(dir), progress);
    QCOMPARE(done.steps_run + done.steps_reused, 4);
    QVERIFY(done.steps_reused >= 1);  // the WordNet set (at least) was kept
    auto ws = store::Workspace::open(done.workspace_path);
    for (const char* kind : {"harvest", "reconstruction", "pseval"}) {
      const auto results = ws->results(kind);
      QCOMPARE(results.size(), std::size_t(2));
      for (const auto& r : results) QVERIFY(r.done);
    }
  }

  void cliWritesTheReportAndNamesABadFolder() {
    const std::string dir = out_dir("cli");
    write_demo(dir + "/demo");
    QProcess p;
    p.start(SAESCOPE_CLI_PATH,
            {"demo", "--demo-dir", QString::fromStdString(dir + "/demo"), "--out",
             QString::fromStdString(dir + "/out"), "--wordnet-dir", QString::fromStdString(kWordNetMini),
             "--harvest-tokens", "1024", "--eval-tokens", "512", "--pseval-split", ""});
    QVERIFY(p.waitForFinished(300000));
    const QByteArray out = p.readAllStandardOutput(), err = p.readAllStandardError();
    QVERIFY2(p.exitCode() == 0, err.constData());
    QVERIFY(fs::is_regular_file(dir + "/out/evaluation.csv"));
    QVERIFY(fs::is_regular_file(dir + "/out/pseval_summary.txt"));
    QVERIFY(fs::is_regular_file(dir + "/out/demo.saescope"));
    QVERIFY(out.contains("evaluation.csv"));
    QVERIFY(out.contains("blocks.1.hook_resid_post"));
    // Charts come from the desktop app beside the CLI (`saescope --export-report`);
    // a build without the GUI says it drew none.
    if (fs::is_regular_file(fs::path(SAESCOPE_CLI_PATH).parent_path() / "saescope")) {
      for (const char* f : {"mse_l0.png", "mse_l0.pdf", "separation_l0.png", "layers.png", "layers.pdf",
                            "report.pdf"}) {
        const std::string path = dir + "/out/" + f;
        QVERIFY2(fs::is_regular_file(path), path.c_str());
        std::ifstream in(path, std::ios::binary);
        char head[5] = {};
        in.read(head, 4);
        QVERIFY2(std::string(head) == "\x89PNG" || std::string(head) == "%PDF", path.c_str());
        QVERIFY(out.contains(f));
      }
    } else {
      QVERIFY(err.contains("charts not drawn"));
    }

    p.start(SAESCOPE_CLI_PATH, {"demo", "--demo-dir", QString::fromStdString(dir + "/nowhere"),
                                "--out", QString::fromStdString(dir + "/out2")});
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitCode(), 2);
    QVERIFY(p.readAllStandardError().contains("nowhere: no demo model"));
  }
};

QTEST_GUILESS_MAIN(TestDemo)
#include "test_demo.moc"
