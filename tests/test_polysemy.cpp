// Polysemy datasets and PS-Eval scoring without a model: the confusion matrix
// and metrics on hand-checked cases, purity/NMI, the reference code's label-1
// truncation, every reader on committed fixtures with malformed lines (line
// numbers and reasons asserted), the WordNet builder on a hand-made miniature
// (exact counts) and on the installed database (loose counts, disjoint
// splits, byte-identical output per seed), and the CLI's `senses`.
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "core/common/error.h"
#include "core/polysemy/sense_label.h"
#include "core/polysemy/report_word_pages.h"
#include "core/store/evaluation_store.h"
#include "core/store/workspace.h"
#include <filesystem>
#include "core/polysemy/csv_records.h"
#include "core/polysemy/custom_senses.h"
#include "core/polysemy/dataset_writers.h"
#include "core/polysemy/lemma_matcher.h"
#include "core/polysemy/morphy.h"
#include "core/polysemy/occurrence_reader.h"
#include "core/polysemy/pair_dataset.h"
#include "core/polysemy/pair_scoring.h"
#include "core/common/portable_random.h"
#include "core/polysemy/pseval_reader.h"
#include "core/polysemy/sense_clustering.h"
#include "core/polysemy/sense_pairs.h"
#include "core/polysemy/text_files.h"
#include "core/polysemy/utf8_offsets.h"
#include "core/polysemy/wic_reader.h"
#include "core/polysemy/wordnet_occurrences.h"
#include "core/polysemy/wordnet_synsets.h"

using saescope::InputError;
using namespace saescope::polysemy;

namespace {

const std::string kWordNetDir = "/usr/share/wordnet";

std::string fixture(const std::string& name) {
  return std::string(SAESCOPE_FIXTURES_DIR) + "/polysemy/" + name;
}

std::string out_dir() {
  const std::string dir = std::string(SAESCOPE_TEST_OUTPUT_DIR) + "/polysemy";
  QDir().mkpath(QString::fromStdString(dir));
  return dir;
}

QString q(const std::string& s) { return QString::fromStdString(s); }

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool installed_wordnet() { return QFileInfo::exists(q(kWordNetDir + "/data.noun")); }

// Checks issue `i`: its line, whether the record was dropped, and a reason fragment.
void expect_issue(const ReadReport& report, std::size_t i, std::size_t line, bool skipped,
                  const std::string& fragment) {
  QVERIFY2(i < report.issues.size(), qPrintable(QString("no issue #%1").arg(i)));
  const ReadIssue& issue = report.issues[i];
  QVERIFY2(issue.line == line, qPrintable(q(format_issue(issue)) + QString(" (expected line %1)").arg(line)));
  QCOMPARE(issue.skipped, skipped);
  QVERIFY2(issue.reason.find(fragment) != std::string::npos,
           qPrintable(q(issue.reason) + " lacks: " + q(fragment)));
}

std::string span_text(const std::string& context, const std::optional<CharSpan>& span) {
  return span ? context.substr(span->start, span->end - span->start) : std::string("<none>");
}

}  // namespace

class TestPolysemy : public QObject {
  Q_OBJECT
 private slots:
  // The report's word pages: the SAE with the better occurrence-weighted NMI,
  // and among its words only those whose NMI means something (a word seen
  // once per sense scores 1 by construction and must not be "best").
  void reportWordPagesChooseTellingWords() {
    const std::string path = std::string(SAESCOPE_TEST_OUTPUT_DIR) + "/word_pages.saescope";
    std::filesystem::remove(path);
    auto ws = saescope::store::Workspace::open(path);
    saescope::store::EvaluationStore ev(ws->db());
    const auto result = [&](const std::string& key, double good_nmi) {
      const int64_t id = ws->begin_result(key, "pseval", std::nullopt, std::nullopt, std::nullopt, nlohmann::json::object());
      ws->finish_result(id, {{"hook", "blocks.1.hook_resid_post"}});
      int64_t occ = 0;
      const auto word = [&](const std::string& w, double nmi, const std::vector<int>& per_sense) {
        int64_t total = 0;
        for (size_t s = 0; s < per_sense.size(); ++s) {
          const std::string sense = w + "-sense-" + std::to_string(s);
          ev.put_sense(id, {w, sense, "gloss " + std::to_string(s)});
          for (int k = 0; k < per_sense[s]; ++k, ++total)
            ev.put_occurrence(id, {occ++, w, sense, "a " + w + " here", 2, 2 + static_cast<int64_t>(w.size()),
                                   static_cast<int64_t>(s), 1.0, 0, 0});
        }
        ev.put_word_score(id, {w, total, 0.9, nmi});
      };
      word("once", 1.0, {1, 1, 1, 1, 1, 1, 1, 1});  // NMI 1 by construction
      word("good", good_nmi, {5, 5});
      word("fair", 0.5, {4, 5});
      word("poor", 0.1, {6, 4});
      return id;
    };
    result("weaker", 0.6);
    result("stronger", 0.95);
    const auto pages = saescope::polysemy::report_word_pages(*ws, 1);
    QCOMPARE(pages.size(), size_t(2));
    QCOMPARE(QString::fromStdString(pages[0].word), QStringLiteral("good"));
    QVERIFY(pages[0].best);
    QCOMPARE(pages[0].nmi, 0.95);  // the stronger result's
    QCOMPARE(QString::fromStdString(pages[1].word), QStringLiteral("poor"));
    QVERIFY(!pages[1].best);
    QCOMPARE(pages[0].senses.size(), size_t(2));
    QCOMPARE(pages[0].rows.size(), size_t(10));
    QCOMPARE(pages[0].rows[0].sense, 0);  // senses alternate
    QCOMPARE(pages[0].rows[1].sense, 1);
    QCOMPARE(QString::fromStdString(pages[0].rows[0].word), QStringLiteral("good"));
    QCOMPARE(pages[0].rows[0].feature_sense, 0);  // feature 0 fires for sense 0 only
  }

  // --- a sense set of one's own ----------------------------------------------

  // Rows become sense-labelled occurrences; bad ones are named by line and
  // skipped: a missing field, a sentence without the word, a word with one
  // sense only, a row of the wrong width.
  void customSensesFromCsv() {
    const std::string path = out_dir() + "/custom.csv";
    std::ofstream(path) << "word,sense,sentence\n"
                           "Bank,river,They fished from the bank of the river.\n"
                           "bank,river,\"Reeds grew along the muddy BANK, near the ford.\"\n"
                           "bank,money,The bank raised its interest rates.\n"
                           "bank,money,He borrowed money from the riverbank.\n"
                           "bank,,A missing sense here.\n"
                           "spring,season,Flowers bloom in spring.\n"
                           "bank,money,too,many\n"
                           "bank,money,She paid the bank.\n";
    const CustomSenseSet set = import_custom_senses(path);
    QCOMPARE(set.occurrences.size(), std::size_t(4));
    QCOMPARE(set.words, std::size_t(1));
    QCOMPARE(set.senses, std::size_t(2));
    const SenseOccurrence& o = set.occurrences[1];
    QCOMPARE(o.word, std::string("bank"));
    QCOMPARE(o.sense_id, std::string("custom:bank:river"));
    QCOMPARE(o.gloss, std::string("river"));
    QVERIFY(o.span && o.context.substr(o.span->start, o.span->end - o.span->start) == "BANK");
    std::vector<std::pair<std::size_t, std::string>> want = {
        {5, "does not hold the word"}, {6, "sense is empty"}, {7, "one sense only"}, {8, "3 fields"}};
    QCOMPARE(set.problems.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
      QCOMPARE(set.problems[i].line, want[i].first);
      QVERIFY2(set.problems[i].what.find(want[i].second) != std::string::npos, set.problems[i].what.c_str());
    }
    // Written as occurrences, they read back as a pair dataset for ps-eval.
    const std::string occ = out_dir() + "/custom_occ.jsonl";
    write_occurrences_jsonl(occ, set.occurrences);
    const auto data = load_pair_dataset(occ);
    QCOMPARE(data.occurrences.size(), std::size_t(4));
    QVERIFY(!data.pairs.empty());

    const std::string empty = out_dir() + "/custom_empty.csv";
    std::ofstream(empty) << "word,sense,sentence\nspring,season,Flowers bloom in spring.\n";
    bool refused = false;
    try {
      import_custom_senses(empty);
    } catch (const InputError& e) {
      refused = std::string(e.what()).find(empty) != std::string::npos;
    }
    QVERIFY(refused);
  }

  void senseImportCli() {
    const std::string csv = out_dir() + "/custom.csv";  // from customSensesFromCsv
    const std::string occ = out_dir() + "/cli_occ.jsonl", pairs = out_dir() + "/cli_pairs.jsonl";
    QProcess p;
    p.start(SAESCOPE_CLI_PATH, {"senses", "import", "--csv", QString::fromStdString(csv), "--out",
                                QString::fromStdString(occ), "--out-pairs", QString::fromStdString(pairs), "--json"});
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitCode(), 0);
    const nlohmann::json j = nlohmann::json::parse(p.readAllStandardOutput().toStdString());
    QCOMPARE(j["occurrences"].get<int>(), 4);
    QCOMPARE(j["skipped"].size(), std::size_t(4));
    QVERIFY(p.readAllStandardError().toStdString().find(csv + ":5: skipped") != std::string::npos);
    QVERIFY(QFileInfo::exists(QString::fromStdString(pairs)));
  }

  // --- scoring -------------------------------------------------------------

  void confusionAndMetricsHandChecked() {
    std::vector<PairOutcome> o = {
        PairOutcome::scored("w1", true, 5, 5),    // TP
        PairOutcome::scored("w1", true, 5, 7),    // FN
        PairOutcome::scored("w1", false, 3, 3),   // FP
        PairOutcome::scored("w2", false, 1, 2),   // TN
        PairOutcome::scored("w2", false, 4, 9),   // TN
        PairOutcome::scored("w2", true, 8, 8),    // TP
        PairOutcome::skip("w3", true, SkipReason::multi_token),
        PairOutcome::skip("w3", false, SkipReason::all_zero),
        PairOutcome::skip("w1", false, SkipReason::all_zero),
        PairOutcome::scored("w2", true, 1, 1),    // TP
        PairOutcome::scored("w3", false, 6, 6),   // FP
    };
    const PairScore s = score_pairs(o);
    QCOMPARE(int(s.confusion.tp), 3);
    QCOMPARE(int(s.confusion.fn), 1);
    QCOMPARE(int(s.confusion.fp), 2);
    QCOMPARE(int(s.confusion.tn), 2);
    QCOMPARE(s.metrics.accuracy, 5.0 / 8);
    QCOMPARE(s.metrics.precision, 3.0 / 5);
    QCOMPARE(s.metrics.recall, 3.0 / 4);
    QCOMPARE(s.metrics.specificity, 2.0 / 4);
    QCOMPARE(s.metrics.f1, 6.0 / 9);
    QCOMPARE(int(s.skipped_total), 3);
    QCOMPARE(int(s.skipped[size_t(SkipReason::multi_token)]), 1);
    QCOMPARE(int(s.skipped[size_t(SkipReason::all_zero)]), 2);
    QCOMPARE(int(s.skipped[size_t(SkipReason::not_found)]), 0);
    QCOMPARE(int(s.not_selected), 0);
    QCOMPARE(int(s.per_word.size()), 3);
    QVERIFY((s.per_word.at("w1") == Confusion{1, 1, 1, 0}));
    QVERIFY((s.per_word.at("w2") == Confusion{2, 0, 0, 2}));
    QVERIFY((s.per_word.at("w3") == Confusion{0, 0, 1, 0}));
  }

  void zeroDenominatorsGiveZero() {
    const auto empty = classification_metrics(Confusion{});
    QCOMPARE(empty.accuracy, 0.0);
    QCOMPARE(empty.precision, 0.0);
    QCOMPARE(empty.recall, 0.0);
    QCOMPARE(empty.specificity, 0.0);
    QCOMPARE(empty.f1, 0.0);
    const auto only_tn = classification_metrics(Confusion{0, 0, 0, 4});
    QCOMPARE(only_tn.accuracy, 1.0);
    QCOMPARE(only_tn.specificity, 1.0);
    QCOMPARE(only_tn.precision, 0.0);  // 0/0
    QCOMPARE(only_tn.recall, 0.0);     // 0/0
    QCOMPARE(only_tn.f1, 0.0);         // 0/0
  }

  void referenceTruncationSlicesLabelOneBeforeSkipping() {
    // File order a..g; surviving label-0 pairs: b, g (N0 = 2). The reference
    // takes the first two label-1 ROWS (a, c), of which c is skipped: d and f
    // are never scored even though they would survive.
    std::vector<PairOutcome> o = {
        PairOutcome::scored("a", true, 1, 1),
        PairOutcome::scored("b", false, 1, 2),
        PairOutcome::skip("c", true, SkipReason::token_mismatch),
        PairOutcome::scored("d", true, 3, 4),
        PairOutcome::skip("e", false, SkipReason::not_found),
        PairOutcome::scored("f", true, 5, 5),
        PairOutcome::scored("g", false, 7, 7),
    };
    const auto sel = select_pairs(o, PairSelection::reference_truncation);
    const std::vector<bool> expected = {true, true, false, false, false, false, true};
    QVERIFY(sel == expected);
    const PairScore ref = score_pairs(o, PairSelection::reference_truncation);
    QVERIFY((ref.confusion == Confusion{1, 0, 1, 1}));
    QCOMPARE(int(ref.not_selected), 2);
    QCOMPARE(int(ref.skipped_total), 2);
    const PairScore all = score_pairs(o);
    QVERIFY((all.confusion == Confusion{2, 1, 1, 1}));
    QCOMPARE(int(all.not_selected), 0);
  }

  void sensesAreNamedForPeople() {
    using saescope::polysemy::sense_label;
    QCOMPARE(QString::fromStdString(sense_label("bank", "09213565-n", "sloping land beside a body of water")),
             QString("bank (n.): sloping land beside a body of water"));
    // Cut at a word boundary, with an ellipsis, within the limit.
    const std::string cut = sense_label("bank", "08420278-n", "a financial institution that accepts deposits and "
                                        "channels the money into lending activities", 40);
    QVERIFY2(cut.size() <= 40 + 3 && cut.rfind("\xE2\x80\xA6") == cut.size() - 3, cut.c_str());
    QVERIFY2(QString::fromStdString(cut).startsWith("bank (n.): a financial institution"), cut.c_str());
    QCOMPARE(QString::fromStdString(sense_label("play", "x", "engage in a game", 60, "V")),
             QString("play (v.): engage in a game"));
    QCOMPARE(QString::fromStdString(sense_label("bank", "09213565-n", "")), QString("09213565-n"));  // no gloss
  }

  void skipReasonNames() {
    for (std::size_t i = 0; i < kSkipReasonCount; ++i) {
      const auto r = static_cast<SkipReason>(i);
      QCOMPARE(parse_skip_reason(skip_reason_name(r)), std::optional<SkipReason>(r));
    }
    QCOMPARE(q(skip_reason_name(SkipReason::too_long)), QString("too_long"));
    QVERIFY(!parse_skip_reason("bogus"));
  }

  void purityAndNmiHandChecked() {
    // Sense A: features 1,1,2; sense B: features 2,2,3.
    std::vector<OccurrenceOutcome> o = {
        {"bank", "A", std::nullopt, 1}, {"bank", "A", std::nullopt, 1}, {"bank", "A", std::nullopt, 2},
        {"bank", "B", std::nullopt, 2}, {"bank", "B", std::nullopt, 2}, {"bank", "B", std::nullopt, 3},
        {"bank", "B", SkipReason::multi_token, -1},
    };
    const SenseFeatureTable t = sense_feature_table(o, "bank");
    QCOMPARE(int(t.total()), 6);
    QVERIFY((t.senses == std::vector<std::string>{"A", "B"}));
    QVERIFY((t.features == std::vector<std::int64_t>{1, 2, 3}));
    QVERIFY((t.counts == std::vector<std::vector<std::size_t>>{{2, 1, 0}, {0, 2, 1}}));
    QCOMPARE(purity(t), 5.0 / 6);
    QCOMPARE(inverse_purity(t), 4.0 / 6);
    // I = 0.374890..., H(S) = ln 2, H(F) = 1.011404...; NMI = I / mean(H).
    QVERIFY(std::abs(normalised_mutual_information(t) - 0.4398695005110286) < 1e-12);
    const auto majority = majority_sense(t);
    QCOMPARE(int(majority.size()), 3);
    QCOMPARE(q(majority.at(1)), QString("A"));
    QCOMPARE(q(majority.at(2)), QString("B"));
    QCOMPARE(q(majority.at(3)), QString("B"));
  }

  void nmiEdgeCases() {
    auto table = [](std::vector<OccurrenceOutcome> o) { return sense_feature_table(o, "w"); };
    // One sense, one feature: identical partitions.
    auto one_one = table({{"w", "A", std::nullopt, 4}, {"w", "A", std::nullopt, 4}});
    QCOMPARE(normalised_mutual_information(one_one), 1.0);
    QCOMPARE(purity(one_one), 1.0);
    // One sense, two features: no shared information.
    auto one_two = table({{"w", "A", std::nullopt, 4}, {"w", "A", std::nullopt, 5}});
    QCOMPARE(normalised_mutual_information(one_two), 0.0);
    QCOMPARE(purity(one_two), 1.0);
    QCOMPARE(inverse_purity(one_two), 0.5);
    // Two senses collapsed into one feature.
    auto two_one = table({{"w", "A", std::nullopt, 4}, {"w", "B", std::nullopt, 4}, {"w", "B", std::nullopt, 4}});
    QCOMPARE(normalised_mutual_information(two_one), 0.0);
    QCOMPARE(purity(two_one), 2.0 / 3);
    // Perfect separation.
    auto perfect = table({{"w", "A", std::nullopt, 1}, {"w", "A", std::nullopt, 1}, {"w", "B", std::nullopt, 2}});
    QVERIFY(std::abs(normalised_mutual_information(perfect) - 1.0) < 1e-12);
    // Nothing scored.
    auto none = table({{"w", "A", SkipReason::all_zero, -1}});
    QCOMPARE(normalised_mutual_information(none), 0.0);
    QCOMPARE(purity(none), 0.0);
    // Majority ties go to the sense that sorts first.
    auto tie = table({{"w", "B", std::nullopt, 9}, {"w", "A", std::nullopt, 9}});
    QCOMPARE(q(majority_sense(tie).at(9)), QString("A"));
  }

  void clusterScoreAveragesMultiSenseWordsOnly() {
    std::vector<OccurrenceOutcome> o = {
        {"bank", "A", std::nullopt, 1}, {"bank", "A", std::nullopt, 1}, {"bank", "A", std::nullopt, 2},
        {"bank", "B", std::nullopt, 2}, {"bank", "B", std::nullopt, 2}, {"bank", "B", std::nullopt, 3},
        {"cell", "X", std::nullopt, 1}, {"cell", "X", std::nullopt, 2},  // one sense: listed, not averaged
        {"cell", "Y", SkipReason::too_long, -1},
        {"duck", "P", std::nullopt, 5}, {"duck", "Q", std::nullopt, 6},  // perfect
    };
    const ClusterScore s = score_sense_clustering(o);
    QCOMPARE(int(s.words.size()), 3);
    QCOMPARE(q(s.words[0].word), QString("bank"));
    QCOMPARE(q(s.words[1].word), QString("cell"));
    QCOMPARE(int(s.words[1].senses), 1);
    QCOMPARE(int(s.words_averaged), 2);
    QVERIFY(std::abs(s.mean_purity - (5.0 / 6 + 1.0) / 2) < 1e-12);
    QVERIFY(std::abs(s.mean_inverse_purity - (4.0 / 6 + 1.0) / 2) < 1e-12);
    QVERIFY(std::abs(s.mean_nmi - (0.4398695005110286 + 1.0) / 2) < 1e-12);
    QCOMPARE(int(s.skipped_total), 1);
    QCOMPARE(int(s.skipped[size_t(SkipReason::too_long)]), 1);
  }

  // --- primitives ----------------------------------------------------------

  void utf8Offsets() {
    const std::string s = "caf\xC3\xA9 bank";  // "café bank": é is two bytes
    QCOMPARE(byte_offset_of_codepoint(s, 5), std::optional<std::size_t>(6));
    QCOMPARE(byte_offset_of_codepoint(s, 9), std::optional<std::size_t>(10));  // one past the end
    QVERIFY(!byte_offset_of_codepoint(s, 10));
    QCOMPARE(int(codepoint_offset_of_byte(s, 6)), 5);
    QCOMPARE(int(codepoint_offset_of_byte(s, 100)), 9);
  }

  void portableRandom() {
    // std::mt19937_64 is fixed by the standard: its 10000th output from the
    // default seed is 9981545732273789042 on every library.
    std::mt19937_64 standard;
    standard.discard(9999);
    QCOMPARE(standard(), std::uint64_t(9981545732273789042ULL));
    std::mt19937_64 rng(7);
    std::set<std::uint64_t> seen;
    for (int i = 0; i < 2000; ++i) {
      const auto v = uniform_below(rng, 6);
      QVERIFY(v < 6);
      seen.insert(v);
    }
    QCOMPARE(int(seen.size()), 6);
    // Pinned values: a change here changes every dataset built from a seed.
    std::mt19937_64 a(42);
    std::vector<int> v = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    portable_shuffle(v, a);
    std::vector<int> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    QVERIFY((sorted == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    std::mt19937_64 b(42);
    std::vector<int> w = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    portable_shuffle(w, b);
    QVERIFY(v == w);
    QVERIFY(v != sorted);
    QVERIFY_EXCEPTION_THROWN(uniform_below(a, 0), saescope::InternalError);
  }

  void csvRecords() {
    const CsvParse p = parse_csv("a,b,c\r\n1,\"x, \"\"y\"\"\nz\",3\n\n4,,\n");
    QVERIFY(p.error.empty());
    QCOMPARE(int(p.records.size()), 3);
    QCOMPARE(int(p.records[1].line), 2);
    QCOMPARE(q(p.records[1].fields[1]), QString("x, \"y\"\nz"));
    QCOMPARE(int(p.records[2].line), 5);  // the record after a two-line field and a blank line
    QCOMPARE(int(p.records[2].fields.size()), 3);
    const CsvParse bad = parse_csv("a,b\n1,\"open\n2,3\n");
    QCOMPARE(int(bad.records.size()), 1);
    QCOMPARE(int(bad.error_line), 2);
  }

  // --- readers -------------------------------------------------------------

  void psevalJsonl() {
    ReadReport r;
    const auto pairs = read_pseval_jsonl(fixture("pseval_pairs.jsonl"), r);
    QCOMPARE(int(r.records_seen), 10);
    QCOMPARE(int(r.records_kept), 4);
    QCOMPARE(int(pairs.size()), 4);
    QCOMPARE(int(r.issues.size()), 7);
    expect_issue(r, 0, 4, true, "not valid JSON");
    expect_issue(r, 1, 5, true, "missing field 'context_2'");
    expect_issue(r, 2, 6, true, "label '2' is not 0/1");
    expect_issue(r, 3, 7, false, "target_word_location_1: location [2, 40) lies past the end");
    expect_issue(r, 4, 8, true, "not a JSON object");
    expect_issue(r, 5, 10, true, "empty field 'target_word'");
    expect_issue(r, 6, 11, true, "missing field 'label'");
    QCOMPARE(int(r.skipped_count()), 6);
    QCOMPARE(q(r.issues[0].file), q(fixture("pseval_pairs.jsonl")));

    QCOMPARE(q(pairs[0].id), QString("p1"));
    QCOMPARE(pairs[0].same_sense, false);
    QCOMPARE(q(span_text(pairs[0].context_1, pairs[0].span_1)), QString("bank"));
    QCOMPARE(q(span_text(pairs[0].context_2, pairs[0].span_2)), QString("bank"));
    // Code points 17..21 in "Le café near the bank..." are bytes 18..22.
    QCOMPARE(pairs[1].same_sense, true);
    QVERIFY((pairs[1].span_1 == CharSpan{18, 22}));
    QCOMPARE(q(span_text(pairs[1].context_1, pairs[1].span_1)), QString("bank"));
    // p7 kept without its bad location.
    QCOMPARE(q(pairs[2].id), QString("p7"));
    QVERIFY(!pairs[2].span_1);
    QCOMPARE(q(span_text(pairs[2].context_2, pairs[2].span_2)), QString("bank"));
    // Python-dict and JSON-text locations, label "T".
    QCOMPARE(q(pairs[3].id), QString("p9"));
    QCOMPARE(pairs[3].same_sense, true);
    QCOMPARE(q(span_text(pairs[3].context_1, pairs[3].span_1)), QString("bank"));
    QCOMPARE(q(span_text(pairs[3].context_2, pairs[3].span_2)), QString("Bank"));
    QCOMPARE(q(pairs[3].pos), QString("V"));
  }

  void strictReadingStopsAtFirstProblem() {
    ReadReport r;
    ReadOptions strict;
    strict.strict = true;
    try {
      read_pseval_jsonl(fixture("pseval_pairs.jsonl"), r, strict);
      QFAIL("no InputError in strict mode");
    } catch (const InputError& e) {
      const std::string what = e.what();
      QVERIFY2(what.find("pseval_pairs.jsonl:4: not valid JSON") != std::string::npos, e.what());
    }
  }

  void psevalCsv() {
    ReadReport r;
    const auto pairs = read_pseval_csv(fixture("pseval_pairs.csv"), r);
    QCOMPARE(int(pairs.size()), 3);
    QCOMPARE(int(r.issues.size()), 3);
    expect_issue(r, 0, 5, true, "row has 5 fields, the header has 10");
    expect_issue(r, 1, 6, true, "label 'maybe' is not 0/1");
    expect_issue(r, 2, 8, true, "quoted field never closes");
    QCOMPARE(q(pairs[0].id), QString("c1"));
    QCOMPARE(pairs[0].same_sense, true);
    QCOMPARE(q(span_text(pairs[0].context_1, pairs[0].span_1)), QString("bank"));
    QCOMPARE(q(span_text(pairs[0].context_2, pairs[0].span_2)), QString("bank"));
    QCOMPARE(q(pairs[1].id), QString("c2"));
    QCOMPARE(q(pairs[1].context_1), QString("A line with \"quotes\" and\na newline about the bank."));
    QCOMPARE(q(span_text(pairs[1].context_1, pairs[1].span_1)), QString("bank"));
    QVERIFY(!pairs[1].span_2);  // empty cell: no location, no issue
    QCOMPARE(pairs[1].same_sense, false);
    QCOMPARE(q(pairs[2].id), QString("c5"));
    QCOMPARE(pairs[2].same_sense, false);  // "False"
    QCOMPARE(q(span_text(pairs[2].context_1, pairs[2].span_1)), QString("bank"));  // "[2, 6]"
    QCOMPARE(q(span_text(pairs[2].context_2, pairs[2].span_2)), QString("bank"));  // "(4, 8)"
  }

  void psevalJsonRowsExport() {
    ReadReport r;
    const auto pairs = read_pseval_json(fixture("pseval_rows.json"), r);
    QCOMPARE(int(pairs.size()), 1);
    QCOMPARE(q(pairs[0].id), QString("r1"));
    QCOMPARE(q(span_text(pairs[0].context_2, pairs[0].span_2)), QString("bank"));
    QCOMPARE(int(r.issues.size()), 1);
    expect_issue(r, 0, 2, true, "missing field 'label'");
  }

  void wicFolder() {
    ReadReport r;
    const auto pairs = read_wic_folder(fixture("wic"), r);
    QCOMPARE(int(pairs.size()), 3);  // dev-1, train-1, train-2 (splits in name order)
    QCOMPARE(q(pairs[0].id), QString("dev-1"));
    QCOMPARE(pairs[0].same_sense, false);
    QCOMPARE(q(pairs[1].id), QString("train-1"));
    QCOMPARE(pairs[1].same_sense, true);
    QCOMPARE(q(pairs[1].split), QString("train"));
    QCOMPARE(q(span_text(pairs[1].context_1, pairs[1].span_1)), QString("bank"));
    QCOMPARE(q(span_text(pairs[2].context_2, pairs[2].span_2)), QString("carries"));
    QCOMPARE(q(pairs[2].pos), QString("V"));
    QCOMPARE(int(r.issues.size()), 6);
    // dev: bad gold label on line 2 of the gold file.
    QVERIFY(r.issues[0].file.find("dev.gold.txt") != std::string::npos);
    expect_issue(r, 0, 2, true, "gold label 'X' is not T or F");
    // test: no gold file at all.
    QVERIFY(r.issues[1].file.find("test.data.txt") != std::string::npos);
    expect_issue(r, 1, 0, true, "no gold file test.gold.txt");
    // train
    expect_issue(r, 2, 3, true, "token index 9 past the end of sentence 1 (3 tokens)");
    expect_issue(r, 3, 4, true, "expected 5 tab-separated fields, found 3");
    expect_issue(r, 4, 5, true, "index field 'x-1' is not \"i-j\"");
    QVERIFY(r.issues[5].file.find("train.gold.txt") != std::string::npos);
    expect_issue(r, 5, 6, true, "gold label without a data line");

    QVERIFY((wic_splits(fixture("wic")) == std::vector<std::string>{"dev", "test", "train"}));
    ReadReport r2;
    ReadOptions only_train;
    only_train.split = "train";
    QCOMPARE(int(read_wic_folder(fixture("wic"), r2, only_train).size()), 2);
    ReadOptions missing;
    missing.split = "validation";
    QVERIFY_EXCEPTION_THROWN(read_wic_folder(fixture("wic"), r2, missing), InputError);
    QVERIFY_EXCEPTION_THROWN(read_wic_folder(fixture("wordnet_mini"), r2), InputError);
  }

  void occurrenceJsonl() {
    ReadReport r;
    const auto occ = read_occurrences_jsonl(fixture("occurrences.jsonl"), r);
    QCOMPARE(int(occ.size()), 7);
    QCOMPARE(int(r.records_seen), 9);
    QCOMPARE(int(r.issues.size()), 4);
    expect_issue(r, 0, 5, false, "char_start without char_end");
    expect_issue(r, 1, 6, true, "not valid JSON");
    expect_issue(r, 2, 7, true, "missing field 'word'");
    expect_issue(r, 3, 8, false, "past the end of the context");
    QCOMPARE(q(occ[0].sense_id), QString("bank.n.01"));
    QCOMPARE(q(occ[0].gloss), QString("sloping land"));
    QCOMPARE(q(span_text(occ[3].context, occ[3].span)), QString("bank"));
    QVERIFY(!occ[4].span);
    QVERIFY(!occ[5].span);
    QCOMPARE(q(span_text(occ[6].context, occ[6].span)), QString("cell"));
  }

  void loadPairDatasetDetectsKind() {
    QVERIFY(detect_dataset_kind(fixture("wic")) == DatasetKind::wic_folder);
    QVERIFY(detect_dataset_kind(fixture("pseval_pairs.jsonl")) == DatasetKind::pseval_jsonl);
    QVERIFY(detect_dataset_kind(fixture("occurrences.jsonl")) == DatasetKind::occurrences_jsonl);
    QVERIFY(detect_dataset_kind(fixture("pseval_pairs.csv")) == DatasetKind::pseval_csv);
    QVERIFY(detect_dataset_kind(fixture("pseval_rows.json")) == DatasetKind::pseval_json);
    QVERIFY_EXCEPTION_THROWN(detect_dataset_kind(fixture("wordnet_mini/noun.exc")), InputError);
    QVERIFY_EXCEPTION_THROWN(detect_dataset_kind(fixture("no-such-file.jsonl")), InputError);

    QCOMPARE(int(load_pair_dataset(fixture("pseval_pairs.csv")).pairs.size()), 3);
    QCOMPARE(int(load_pair_dataset(fixture("wic")).pairs.size()), 3);
    const PairDataset occ = load_pair_dataset(fixture("occurrences.jsonl"));
    QCOMPARE(int(occ.occurrences.size()), 7);
    QVERIFY(!occ.pairs.empty());
    QCOMPARE(int(occ.report.issues.size()), 4);
    ReadOptions dev;
    dev.split = "dev";
    QCOMPARE(int(load_pair_dataset(fixture("wic"), dev).pairs.size()), 1);
    // A split filter on a file whose pairs carry no such split.
    QVERIFY_EXCEPTION_THROWN(load_pair_dataset(fixture("pseval_pairs.csv"), dev), InputError);
  }

  // --- pairs from occurrences ----------------------------------------------

  void sensePairsFromOccurrences() {
    ReadReport r;
    auto occ = read_occurrences_jsonl(fixture("occurrences.jsonl"), r);
    // bank: sense 01 x2, sense 02 x3; cell: 01 x1, 02 x1. Add a duplicate
    // context under another sense: the pair with identical text is skipped.
    occ.push_back({"cell", "N", "cell.n.03", "", "A cell divides.", CharSpan{2, 6}});
    SensePairOptions all_test;
    all_test.dev_fraction = 0.0;
    all_test.balance_labels = false;
    const SensePairSet unbalanced = make_sense_pairs(occ, all_test);
    QCOMPARE(int(unbalanced.counts.identical_contexts_skipped), 1);
    QCOMPARE(int(unbalanced.counts.test.same_candidates), 4);       // 1 + 3
    QCOMPARE(int(unbalanced.counts.test.different_candidates), 8);  // bank 2*3, cell 3 - 1 identical
    QCOMPARE(int(unbalanced.pairs.size()), 12);
    QCOMPARE(int(unbalanced.counts.dev.words), 0);

    all_test.balance_labels = true;
    const SensePairSet balanced = make_sense_pairs(occ, all_test);
    QCOMPARE(int(balanced.counts.test.same_sense), 4);
    QCOMPARE(int(balanced.counts.test.different_sense), 4);
    for (const auto& p : balanced.pairs) {
      QCOMPARE(q(p.split), QString("test"));
      QCOMPARE(p.same_sense, p.sense_id_1 == p.sense_id_2);
      QVERIFY(p.context_1 != p.context_2);
      QVERIFY(p.id.rfind("pair-test-", 0) == 0);
    }

    SensePairOptions half;
    half.dev_fraction = 0.5;
    half.seed = 3;
    const SensePairSet split = make_sense_pairs(occ, half);
    QCOMPARE(int(split.counts.dev.words), 1);
    QCOMPARE(int(split.counts.test.words), 1);
    std::set<std::string> dev_words, test_words;
    for (const auto& p : split.pairs) (p.split == "dev" ? dev_words : test_words).insert(p.target_word);
    for (const auto& w : dev_words) QVERIFY(!test_words.count(w));

    SensePairOptions bad;
    bad.dev_fraction = 1.5;
    QVERIFY_EXCEPTION_THROWN(make_sense_pairs(occ, bad), InputError);
  }

  void writersRoundTrip() {
    ReadReport r;
    const auto pairs = read_pseval_jsonl(fixture("pseval_pairs.jsonl"), r);
    const std::string path = out_dir() + "/roundtrip_pairs.jsonl";
    write_pairs_jsonl(path, pairs);
    QVERIFY(!QFileInfo::exists(q(path + ".tmp." + std::to_string(QCoreApplication::applicationPid()))));
    ReadReport r2;
    const auto back = read_pseval_jsonl(path, r2);
    QVERIFY(r2.issues.empty());
    QCOMPARE(back.size(), pairs.size());
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      QCOMPARE(q(back[i].id), q(pairs[i].id));
      QCOMPARE(q(back[i].context_1), q(pairs[i].context_1));
      QCOMPARE(back[i].same_sense, pairs[i].same_sense);
      QVERIFY(back[i].span_1 == pairs[i].span_1);
      QVERIFY(back[i].span_2 == pairs[i].span_2);
    }
    // Written in code points, like the published files.
    const auto first_line = read_bytes(path).substr(0, read_bytes(path).find('\n'));
    QVERIFY(first_line.find("\"target_word_location_1\":{\"char_start\":14,\"char_end\":18}") != std::string::npos);
    const std::string all = read_bytes(path);
    QVERIFY(all.find("{\"char_start\":17,\"char_end\":21}") != std::string::npos);  // "café" line

    ReadReport r3;
    const auto occ = read_occurrences_jsonl(fixture("occurrences.jsonl"), r3);
    const std::string occ_path = out_dir() + "/roundtrip_occ.jsonl";
    write_occurrences_jsonl(occ_path, occ);
    ReadReport r4;
    const auto occ_back = read_occurrences_jsonl(occ_path, r4);
    QVERIFY(r4.issues.empty());
    QCOMPARE(occ_back.size(), occ.size());
    for (std::size_t i = 0; i < occ.size(); ++i) {
      QCOMPARE(q(occ_back[i].sense_id), q(occ[i].sense_id));
      QVERIFY(occ_back[i].span == occ[i].span);
    }
    QVERIFY_EXCEPTION_THROWN(write_pairs_jsonl("/proc/no/such/dir/pairs.jsonl", pairs), InputError);
  }

  // --- WordNet -------------------------------------------------------------

  void glossSplitting() {
    const auto g = split_gloss(
        " a financial institution; \"he cashed a check at the bank\"; \"that bank holds\"- Anon; \"unclosed");
    QCOMPARE(q(g.definition), QString("a financial institution"));
    QCOMPARE(int(g.examples.size()), 2);
    QCOMPARE(q(g.examples[0]), QString("he cashed a check at the bank"));
    QCOMPARE(q(g.examples[1]), QString("that bank holds"));
    QCOMPARE(q(split_gloss(" just a definition  ").definition), QString("just a definition"));
  }

  void lemmaMatching() {
    Morphy m;
    m.add_exception(WordClass::verb, "ran", "run");
    auto find = [&m](const std::string& sentence, const std::string& lemma, WordClass wc) {
      return span_text(sentence, TokenisedSentence(sentence, wc, m).find(lemma));
    };
    QCOMPARE(q(find("the bank's rates", "bank", WordClass::noun)), QString("bank"));
    QCOMPARE(q(find("Banks lend money", "bank", WordClass::noun)), QString("Banks"));
    QCOMPARE(q(find("a well-known fact", "well", WordClass::adverb)), QString("<none>"));
    QCOMPARE(q(find("a well-known fact", "well-known", WordClass::adjective)), QString("well-known"));
    QCOMPARE(q(find("carry on--pretend", "carry_on", WordClass::verb)), QString("carry on"));
    QCOMPARE(q(find("a living thing", "living_thing", WordClass::noun)), QString("living thing"));
    QCOMPARE(q(find("all living things", "living_thing", WordClass::noun)), QString("living things"));
    QCOMPARE(q(find("living, thing", "living_thing", WordClass::noun)), QString("<none>"));
    QCOMPARE(q(find("She ran home", "run", WordClass::verb)), QString("ran"));
    QCOMPARE(q(find("She ran home", "run", WordClass::noun)), QString("<none>"));  // exceptions are per POS
    QCOMPARE(q(find("embankment", "bank", WordClass::noun)), QString("<none>"));
    QCOMPARE(q(find("at five o'clock", "o'clock", WordClass::adverb)), QString("o'clock"));
  }

  void morphyOnInstalledWordNet() {
    if (!installed_wordnet()) QSKIP("WordNet 3.0 (wordnet-base) not installed");
    const Morphy m = Morphy::load(kWordNetDir);
    auto has = [&m](const std::string& word, WordClass wc, const std::string& base) {
      const auto forms = m.base_forms(word, wc);
      return std::find(forms.begin(), forms.end(), base) != forms.end();
    };
    QVERIFY(has("banks", WordClass::noun, "bank"));
    QVERIFY(has("geese", WordClass::noun, "goose"));       // noun.exc
    QVERIFY(has("churches", WordClass::noun, "church"));   // ches -> ch
    QVERIFY(has("women", WordClass::noun, "woman"));       // men -> man
    QVERIFY(has("ran", WordClass::verb, "run"));           // verb.exc
    QVERIFY(has("flies", WordClass::verb, "fly"));         // ies -> y
    QVERIFY(has("hoped", WordClass::verb, "hope"));        // ed -> e
    QVERIFY(has("walking", WordClass::verb, "walk"));      // ing -> ""
    QVERIFY(has("biggest", WordClass::adjective, "big"));  // adj.exc
    QVERIFY(has("taller", WordClass::adjective, "tall"));  // er -> ""
    QVERIFY(!has("ran", WordClass::noun, "run"));
    QVERIFY(!has("geese", WordClass::verb, "goose"));
    QCOMPARE(q(m.base_forms("bank", WordClass::noun).front()), QString("bank"));
  }

  void wordnetMiniatureExactly() {
    const auto built = build_wordnet_occurrences(fixture("wordnet_mini"));
    const WordNetBuildCounts& c = built.counts;
    QCOMPARE(int(c.synsets), 9);
    QCOMPARE(int(c.synsets_with_examples), 9);
    QCOMPARE(int(c.examples), 19);
    QCOMPARE(int(c.examples_matched), 18);
    QCOMPARE(int(c.examples_unmatched), 1);  // "nothing about a gander here"
    QCOMPARE(int(c.lemma_misses), 7);
    QCOMPARE(int(c.ambiguous_dropped), 2);   // "a goose honked" under two senses of goose
    QCOMPARE(int(c.candidate_words), 6);     // + operate V, fast R (one sense each)
    QCOMPARE(int(c.words), 4);               // bank N, big A, goose N, run V
    QCOMPARE(int(c.lemmas), 4);
    QCOMPARE(int(c.senses), 8);
    QCOMPARE(int(c.senses_with_2_examples), 5);
    QCOMPARE(int(c.occurrences), 14);
    QCOMPARE(int(built.occurrences.size()), 14);

    std::vector<std::string> seen;
    for (const auto& o : built.occurrences) {
      seen.push_back(o.word + "/" + o.pos + "/" + o.sense_id + ": " + span_text(o.context, o.span));
      QVERIFY(!o.context.empty() && !o.gloss.empty());
    }
    const std::vector<std::string> expected = {
        "bank/N/00000001-n: bank",  "bank/N/00000001-n: bank",  "bank/N/00000001-n: Banks",
        "bank/N/00000002-n: bank",  "bank/N/00000002-n: bank",  "big/A/00000020-a: big",
        "big/A/00000020-a: biggest", "big/A/00000021-s: big",   "goose/N/00000003-n: geese",
        "goose/N/00000004-n: goose", "run/V/00000010-v: run",   "run/V/00000010-v: ran",
        "run/V/00000011-v: running", "run/V/00000011-v: ran",
    };
    QCOMPARE(int(seen.size()), int(expected.size()));
    for (std::size_t i = 0; i < seen.size(); ++i) QCOMPARE(q(seen[i]), q(expected[i]));
    QCOMPARE(q(built.occurrences[0].gloss), QString("a financial institution that accepts deposits"));
    QCOMPARE(q(built.occurrences[0].context), QString("he cashed a check at the bank"));
  }

  void wordnetMalformedLineIsInputError() {
    const std::string dir = out_dir() + "/wordnet_bad";
    QDir().mkpath(q(dir));
    for (const char* f : {"noun.exc", "verb.exc", "adj.exc", "adv.exc", "data.verb", "data.adj", "data.adv"})
      QFile::copy(q(fixture(std::string("wordnet_mini/") + f)), q(dir + "/" + f));
    {
      std::ofstream out(dir + "/data.noun", std::ios::trunc);
      out << "  1 header\n00000001 05 n 03 bank 0 000 | too few words for the count\n";
    }
    try {
      build_wordnet_occurrences(dir);
      QFAIL("no InputError");
    } catch (const InputError& e) {
      QVERIFY2(std::string(e.what()).find("data.noun:2: fewer words than the count") != std::string::npos,
               e.what());
    }
    QVERIFY_EXCEPTION_THROWN(build_wordnet_occurrences(out_dir() + "/no-such-wordnet"), InputError);
  }

  void wordnetInstalledDatabase() {
    if (!installed_wordnet()) QSKIP("WordNet 3.0 (wordnet-base) not installed");
    const auto built = build_wordnet_occurrences(kWordNetDir);
    const WordNetBuildCounts& c = built.counts;
    qInfo("WordNet 3.0: %zu examples (%zu unmatched), %zu words, %zu lemmas, %zu senses "
          "(%zu with 2+ examples), %zu occurrences",
          c.examples, c.examples_unmatched, c.words, c.lemmas, c.senses, c.senses_with_2_examples,
          c.occurrences);
    QVERIFY(c.examples > 45000);
    QVERIFY(c.examples_unmatched < c.examples / 20);
    QVERIFY(c.words > 3000);
    QVERIFY(c.senses_with_2_examples > 3000);
    QVERIFY(c.occurrences > 20000);
    const std::regex sense_id("[0-9]{8}-[nvasr]");
    for (const auto& o : built.occurrences) {
      QVERIFY(o.span && o.span->end <= o.context.size() && o.span->start < o.span->end);
      QVERIFY(std::regex_match(o.sense_id, sense_id));
    }

    SensePairOptions options;
    options.id_prefix = "wn";
    const SensePairSet pairs = make_sense_pairs(built.occurrences, options);
    const auto& dev = pairs.counts.dev;
    const auto& test = pairs.counts.test;
    qInfo("pairs: dev %zu+%zu (%zu words), test %zu+%zu (%zu words)", dev.same_sense,
          dev.different_sense, dev.words, test.same_sense, test.different_sense, test.words);
    QVERIFY(pairs.pairs.size() > 10000);
    QCOMPARE(dev.same_sense, dev.different_sense);
    QCOMPARE(test.same_sense, test.different_sense);
    QVERIFY(dev.words > 0 && test.words > 3 * dev.words);
    std::set<std::string> dev_words, test_words;
    for (const auto& p : pairs.pairs) (p.split == "dev" ? dev_words : test_words).insert(p.target_word);
    for (const auto& w : dev_words) QVERIFY2(!test_words.count(w), w.c_str());

    // Same seed -> same bytes (through the atomic writer); another seed -> different.
    const std::string a = out_dir() + "/wn_pairs_a.jsonl", b = out_dir() + "/wn_pairs_b.jsonl";
    write_pairs_jsonl(a, pairs.pairs);
    write_pairs_jsonl(b, make_sense_pairs(build_wordnet_occurrences(kWordNetDir).occurrences, options).pairs);
    QVERIFY(read_bytes(a) == read_bytes(b));
    options.seed = 1;
    const std::string other = pairs_to_jsonl(make_sense_pairs(built.occurrences, options).pairs);
    QVERIFY(other != read_bytes(a));
  }

  // --- CLI -----------------------------------------------------------------

  void cliWordnetOnMiniature() {
    const std::string occ = out_dir() + "/cli_occ.jsonl", pairs = out_dir() + "/cli_pairs.jsonl";
    QProcess p;
    p.start(QStringLiteral(SAESCOPE_CLI_PATH),
            {"senses", "wordnet", "--wordnet-dir", q(fixture("wordnet_mini")), "--seed", "5",
             "--dev-fraction", "0", "--out-occurrences", q(occ), "--out-pairs", q(pairs), "--json"});
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitCode(), 0);
    const auto doc = QJsonDocument::fromJson(p.readAllStandardOutput()).object();
    QCOMPARE(doc["words"].toInt(), 4);
    QCOMPARE(doc["occurrences"].toInt(), 14);
    QCOMPARE(doc["examples_unmatched"].toInt(), 1);
    QCOMPARE(doc["dev"].toObject()["words"].toInt(), 0);
    const int same = doc["test"].toObject()["same_sense_pairs"].toInt();
    QVERIFY(same > 0);
    QCOMPARE(doc["test"].toObject()["different_sense_pairs"].toInt(), same);

    // The files are exactly what the library builds with the same options.
    const auto built = build_wordnet_occurrences(fixture("wordnet_mini"));
    SensePairOptions options;
    options.seed = 5;
    options.dev_fraction = 0;
    options.id_prefix = "wn";
    QVERIFY(read_bytes(occ) == occurrences_to_jsonl(built.occurrences));
    QVERIFY(read_bytes(pairs) == pairs_to_jsonl(make_sense_pairs(built.occurrences, options).pairs));
  }

  void cliReadReportsAndStrictExitsTwo() {
    QProcess p;
    p.start(QStringLiteral(SAESCOPE_CLI_PATH), {"senses", "read", q(fixture("pseval_pairs.jsonl")), "--json"});
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitCode(), 0);
    const auto doc = QJsonDocument::fromJson(p.readAllStandardOutput()).object();
    QCOMPARE(doc["kind"].toString(), QString("pseval-jsonl"));
    QCOMPARE(doc["pairs"].toInt(), 4);
    QCOMPARE(doc["same_sense"].toInt(), 3);
    QCOMPARE(doc["skipped_records"].toInt(), 6);
    QCOMPARE(doc["issues"].toArray().size(), 7);
    QCOMPARE(doc["issues"].toArray()[0].toObject()["line"].toInt(), 4);

    QProcess strict;
    strict.start(QStringLiteral(SAESCOPE_CLI_PATH), {"senses", "read", q(fixture("pseval_pairs.jsonl")), "--strict"});
    QVERIFY(strict.waitForFinished(60000));
    QCOMPARE(strict.exitCode(), 2);
    QVERIFY(strict.readAllStandardError().contains("pseval_pairs.jsonl:4"));

    QProcess missing;
    missing.start(QStringLiteral(SAESCOPE_CLI_PATH), {"senses", "wordnet", "--wordnet-dir", "/nonexistent",
                                                       "--out-occurrences", "/tmp/x", "--out-pairs", "/tmp/y"});
    QVERIFY(missing.waitForFinished(60000));
    QCOMPARE(missing.exitCode(), 2);
  }
};

QTEST_GUILESS_MAIN(TestPolysemy)
#include "test_polysemy.moc"
