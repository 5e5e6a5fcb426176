// The workspace store: schema and migrations, content-keyed results, damage
// detection and recovery.
#include <QtTest>
#include <atomic>
#include <thread>

#include <filesystem>
#include <fstream>

#include "core/common/sha256.h"
#include "core/store/evaluation_findings.h"
#include "core/store/evaluation_store.h"
#include "core/store/evaluation_table.h"
#include "core/store/feature_store.h"
#include "core/store/sae_model.h"
#include "core/store/schema.h"
#include "core/store/workspace.h"
#include "core/model/model_registry.h"
#include "core/workflows/input_probe.h"
#include "core/workflows/workspace_choices.h"

using namespace saescope;
using namespace saescope::store;
namespace fs = std::filesystem;

namespace {
std::string out_dir(const std::string& name) {
  const fs::path p = fs::path(SAESCOPE_TEST_OUTPUT_DIR) / "store" / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}
void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// RFC 4180 records, as a spreadsheet reads them (quoted cells may hold commas).
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string cell;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') cell += text[++i];
      else if (c == '"') quoted = false;
      else cell += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      record.push_back(std::move(cell));
      cell.clear();
    } else if (c == '\n') {
      record.push_back(std::move(cell));
      cell.clear();
      records.push_back(std::move(record));
      record.clear();
    } else {
      cell += c;
    }
  }
  return records;
}
}  // namespace


namespace {

saescope::store::EvaluationTableRow row(const std::string& kind, int layer, long long d_sae, const std::string& sparsity,
                                       double ev, double l0, double f1, double specificity = 0.6) {
  saescope::store::EvaluationTableRow r;
  r.hook = "blocks." + std::to_string(layer) + ".hook_" + kind;
  r.hook_kind = kind;
  r.layer = layer;
  r.architecture = "topk";
  r.d_sae = d_sae;
  r.sparsity = sparsity;
  r.family = kind + " topk " + std::to_string(d_sae) + " " + sparsity;
  r.explained_variance = ev;
  r.l0 = l0;
  r.f1 = f1;
  r.specificity = specificity;
  return r;
}

QString findings_text(const std::vector<saescope::store::EvaluationTableRow>& rows, const std::string& topic) {
  for (const auto& f : saescope::store::evaluation_findings(rows))
    if (f.topic == topic) return QString::fromStdString(f.text);
  return {};
}

}  // namespace

class TestStore : public QObject {
  Q_OBJECT
 private slots:
  // Each finding on a table built to show it, and on one where it does not hold.
  void findingsAreTrueOfTheirTable() {
    using saescope::store::EvaluationTableRow;
    // The best separator is on the FVU-L0 frontier ...
    std::vector<EvaluationTableRow> agree = {row("resid_post", 1, 768, "k=32", 0.95, 32, 0.60),
                                             row("resid_post", 2, 768, "k=32", 0.90, 32, 0.50)};
    QVERIFY(findings_text(agree, "best separation").startsWith("blocks.1.hook_resid_post"));
    QVERIFY(findings_text(agree, "trade-off").contains("also on the FVU-L0 frontier"));
    // ... or another SAE reconstructs better at no higher L0 and separates worse.
    std::vector<EvaluationTableRow> disagree = {row("resid_post", 1, 768, "k=32", 0.90, 32, 0.60),
                                                row("resid_post", 2, 768, "k=16", 0.95, 16, 0.50)};
    const QString t = findings_text(disagree, "trade-off");
    QVERIFY2(t.contains("not the best on FVU-L0") && t.contains("blocks.2.hook_resid_post") && t.contains("0.05") &&
                 t.contains("0.1"), qPrintable(t));
    // Depth: rises, falls, level; a peak in between is named.
    std::vector<EvaluationTableRow> rising = {row("resid_post", 0, 768, "k=32", 0.9, 32, 0.40),
                                              row("resid_post", 1, 768, "k=32", 0.9, 32, 0.55),
                                              row("resid_post", 2, 768, "k=32", 0.9, 32, 0.50)};
    QVERIFY2(findings_text(rising, "depth").contains("rises with depth, F1 0.4 at layer 0 to 0.5 at layer 2, and peaks at layer 1"),
             qPrintable(findings_text(rising, "depth")));
    rising[2].f1 = 0.30;
    QVERIFY(findings_text(rising, "depth").contains("falls with depth"));
    rising[2].f1 = 0.41;
    QVERIFY(findings_text(rising, "depth").contains("stays level"));
    QVERIFY(findings_text(agree, "depth").contains("falls with depth, F1 0.6 at layer 1 to 0.5 at layer 2"));
    // Attention against MLP at one layer.
    std::vector<EvaluationTableRow> sub = {row("attn_out", 2, 768, "k=32", 0.9, 32, 0.26),
                                           row("mlp_out", 2, 768, "k=32", 0.9, 32, 0.44)};
    QVERIFY2(findings_text(sub, "attention vs MLP").contains("MLP output separates better than attention's (F1 0.44 against 0.26"),
             qPrintable(findings_text(sub, "attention vs MLP")));
    sub[0].f1 = 0.45;
    QVERIFY(findings_text(sub, "attention vs MLP").contains("about equally"));
    // Size at one hook and sparsity.
    std::vector<EvaluationTableRow> size = {row("resid_post", 2, 768, "k=32", 0.9, 32, 0.50),
                                            row("resid_post", 2, 1536, "k=32", 0.9, 32, 0.58)};
    QVERIFY(findings_text(size, "size").contains("1536 features separate better than 768"));
    // The caution F1 calls for.
    std::vector<EvaluationTableRow> always = {row("resid_post", 1, 768, "k=32", 0.9, 32, 0.70, 0.20),
                                              row("resid_post", 2, 768, "k=32", 0.9, 32, 0.50, 0.70)};
    QVERIFY(findings_text(always, "best separation").contains("specificity is only 0.2"));
    // Nothing said where the data cannot say it.
    QVERIFY(saescope::store::evaluation_findings({}).empty());
    QVERIFY(saescope::store::evaluation_findings({row("resid_post", 1, 768, "k=32", 0.9, 32, 0.5)}).empty());
    QVERIFY(findings_text(size, "depth").isEmpty());          // one layer
    QVERIFY(findings_text(agree, "attention vs MLP").isEmpty());
  }

  void sha256KnownVectors() {
    QCOMPARE(sha256_hex(""), std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    QCOMPARE(sha256_hex("abc"), std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    QCOMPARE(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
             std::string("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
    Sha256 h;  // a million 'a', fed in uneven pieces
    std::string chunk(997, 'a');
    size_t left = 1000000;
    while (left) {
      size_t n = std::min(left, chunk.size());
      h.update(chunk.data(), n);
      left -= n;
    }
    QCOMPARE(h.hex_digest(), std::string("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
  }

  void createsCurrentSchema() {
    const std::string path = out_dir("create") + "/w.saescope";
    { auto ws = Workspace::open(path); }
    auto ws = Workspace::open(path);
    QCOMPARE(ws->db().user_version(), current_schema_version());
    Statement s = ws->db().prepare("PRAGMA journal_mode");
    QVERIFY(s.step());
    QCOMPARE(s.column_text(0), std::string("wal"));
  }

  // Several processes creating one new workspace at once (the two-writers
  // case): each must find it migrated by whichever got the lock first, not
  // replay CREATE TABLE into it. Threads with their own connections race the
  // same way; repeated because one round rarely interleaves.
  void concurrentCreatorsAllOpenOneSchema() {
    const std::string dir = out_dir("concurrent");
    for (int round = 0; round < 25; ++round) {
      const std::string path = dir + "/ws" + std::to_string(round) + ".saescope";
      std::atomic<int> ready{0};
      std::vector<std::string> errors(4);
      std::vector<std::thread> threads;
      for (size_t t = 0; t < errors.size(); ++t)
        threads.emplace_back([&, t] {
          ready.fetch_add(1);
          while (ready.load() < static_cast<int>(errors.size())) std::this_thread::yield();
          try {
            Workspace::open(path, IntegrityCheck::Skip);
          } catch (const std::exception& e) {
            errors[t] = e.what();
          }
        });
      for (auto& th : threads) th.join();
      for (const auto& e : errors) QVERIFY2(e.empty(), e.c_str());
      QCOMPARE(Workspace::check_integrity(path), std::string());
    }
  }

  void migratesFromEveryEarlierVersion() {
    for (int from = 0; from < current_schema_version(); ++from) {
      const std::string path = out_dir("migrate" + std::to_string(from)) + "/w.saescope";
      {
        Database db(path, true);
        for (int v = 0; v < from; ++v) db.exec(migrations()[static_cast<size_t>(v)]);
        db.set_user_version(from);
        if (from >= 1)
          db.exec("INSERT INTO inputs (kind, path, content_hash) VALUES ('sae', '/x', 'h')");
      }
      auto ws = Workspace::open(path);
      QCOMPARE(ws->db().user_version(), current_schema_version());
      if (from >= 1) QCOMPARE(ws->inputs(InputKind::Sae).size(), size_t(1));
      ws->set_note("h", 3, "label", "note");  // the newest tables exist
      QVERIFY(ws->note("h", 3).has_value());
    }
  }

  void refusesNewerSchema() {
    const std::string path = out_dir("newer") + "/w.saescope";
    {
      Database db(path, true);
      db.set_user_version(current_schema_version() + 1);
    }
    try {
      Workspace::open(path);
      QFAIL("a newer schema opened");
    } catch (const InputError& e) {
      QVERIFY2(std::string(e.what()).find(path) != std::string::npos, e.what());
      QVERIFY2(std::string(e.what()).find("newer") != std::string::npos, e.what());
    }
  }

  void changedFileNeverReturnsStaleResult() {
    const std::string dir = out_dir("stale");
    const std::string sae = dir + "/sae";
    fs::create_directories(sae);
    write_file(sae + "/cfg.json", "{\"d_in\": 4}");
    write_file(sae + "/sae_weights.safetensors", "weights v1");
    auto ws = Workspace::open(dir + "/w.saescope");
    const int64_t id1 = ws->register_input(InputKind::Sae, sae);
    QCOMPARE(ws->register_input(InputKind::Sae, sae), id1);  // same content, same row
    const std::string hash1 = ws->input(id1)->content_hash;
    const nlohmann::json params = {{"top_k", 20}, {"context", 128}};
    const std::string key1 = Workspace::result_key("harvest", {hash1}, params);
    const int64_t r = ws->begin_result(key1, "harvest", std::nullopt, id1, std::nullopt, params);
    QCOMPARE(ws->begin_result(key1, "harvest", std::nullopt, id1, std::nullopt, params), r);
    ws->set_progress(r, {{"tokens", 100}});
    QCOMPARE(ws->find_result(key1)->progress["tokens"].get<int>(), 100);
    QVERIFY(!ws->find_result(key1)->done);
    ws->finish_result(r, {{"mse", 1.5}});
    QVERIFY(ws->find_result(key1)->done);
    QVERIFY_EXCEPTION_THROWN(
        ws->begin_result(key1, "harvest", std::nullopt, id1, std::nullopt, params), InternalError);

    // A different parameter is a different result.
    QVERIFY(Workspace::result_key("harvest", {hash1}, {{"top_k", 21}, {"context", 128}}) != key1);
    // Key is canonical: parameter order does not matter.
    QCOMPARE(Workspace::result_key("harvest", {hash1}, {{"context", 128}, {"top_k", 20}}), key1);

    // The SAE's weights change (same size, so only the content tells).
    write_file(sae + "/sae_weights.safetensors", "weights v2");
    fs::last_write_time(sae + "/sae_weights.safetensors",
                        fs::last_write_time(sae + "/sae_weights.safetensors") + std::chrono::seconds(2));
    const int64_t id2 = ws->register_input(InputKind::Sae, sae);
    QVERIFY(id2 != id1);
    const std::string hash2 = ws->input(id2)->content_hash;
    QVERIFY(hash2 != hash1);
    QVERIFY(!ws->find_result(Workspace::result_key("harvest", {hash2}, params)).has_value());
  }

  void detectsGarbageFile() {
    const std::string path = out_dir("garbage") + "/w.saescope";
    write_file(path, std::string(4096, 'x'));
    try {
      Workspace::open(path);
      QFAIL("garbage opened as a workspace");
    } catch (const WorkspaceDamaged& e) {
      QVERIFY2(std::string(e.what()).find(path) != std::string::npos, e.what());
      QVERIFY2(std::string(e.what()).find("recover") != std::string::npos, e.what());
    }
  }

  void integrityCheckStopsWhenCancelled() {
    // ~100 MB, so the check (every page read) runs far longer than the
    // 20 ms between polls.
    const std::string path = out_dir("check_cancel") + "/w.saescope";
    {
      auto ws = Workspace::open(path);
      ws->db().exec("CREATE TABLE filler (x BLOB)");
      Transaction tx(ws->db());
      Statement ins = ws->db().prepare("INSERT INTO filler (x) VALUES (?)");
      const std::string blob(3000, 'b');
      for (int i = 0; i < 32000; ++i) ins.bind_blob(1, blob.data(), blob.size()).run();
      tx.commit();
    }
    std::atomic<int> polls{0};
    bool threw = false;
    QElapsedTimer t;
    t.start();
    try {  // "stop" from the second poll on: the first is before the check starts
      Workspace::check_integrity(path, [&] { return ++polls > 1; });
    } catch (const Cancelled&) {
      threw = true;
    }
    const qint64 stopped_ms = t.restart();
    QVERIFY(threw);
    QVERIFY(polls.load() >= 3);  // before, the watcher's (until it stopped), after
    QCOMPARE(Workspace::check_integrity(path, [] { return false; }), std::string());  // sound, all read
    qInfo("cancelled check returned after %lld ms, the full one took %lld ms", stopped_ms, t.elapsed());
    fs::remove_all(out_dir("check_cancel"));
  }

  void detectsDamagedPagesAndRecovers() {
    const std::string dir = out_dir("damaged");
    const std::string path = dir + "/w.saescope";
    write_file(dir + "/corpus.txt", "some text");
    {
      auto ws = Workspace::open(path);
      ws->register_input(InputKind::Corpus, dir + "/corpus.txt");
      ws->set_note("abc", 7, "river bank", "fires on water");
      Transaction tx(ws->db());
      Statement ins = ws->db().prepare(
          "INSERT INTO features (result_id, feature, fire_count, density, max_act, mean_act) "
          "VALUES (1, ?, 1, 0.5, 2.0, 1.0)");
      ws->db().exec("INSERT INTO results (id, key, kind, status) VALUES (1, 'k', 'harvest', 'running')");
      for (int f = 0; f < 20000; ++f) ins.bind(1, f).run();
      tx.commit();
      ws->db().exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    // Overwrite pages in the middle of the file (the features table's b-tree).
    {
      std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(static_cast<std::streamoff>(fs::file_size(path) / 2));
      const std::string junk(8192, '\x5a');
      f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    }
    QVERIFY_EXCEPTION_THROWN(Workspace::open(path), WorkspaceDamaged);
    const RecoveryReport report = Workspace::recover(path);
    QVERIFY(fs::exists(report.damaged_copy));
    QCOMPARE(report.inputs_kept, 1);
    QCOMPARE(report.notes_kept, 1);
    auto ws = Workspace::open(path);
    QCOMPARE(ws->inputs().size(), size_t(1));
    QCOMPARE(ws->note("abc", 7)->first, std::string("river bank"));
    QVERIFY(ws->results().empty());
  }

  void featurePagesRoundTrip() {
    const std::string path = out_dir("features") + "/w.saescope";
    auto ws = Workspace::open(path);
    ws->db().exec("INSERT INTO inputs (id, kind, path, content_hash) VALUES (1, 'model', '/m', 'h')");
    ws->db().exec("INSERT INTO results (id, key, kind, status) VALUES (5, 'k', 'harvest', 'running')");
    FeatureStore fs_(ws->db());
    {
      Transaction tx(ws->db());
      fs_.put_vocab(1, {"a", " bank", " river", "\n"});
      fs_.put_window(5, 0, {0, 1, 2, 3});
      fs_.put_window(5, 1, {70000, 1});  // beyond uint16: stored wide
      for (int f = 0; f < 3; ++f)
        fs_.put_feature(5, {f, 10 * f, 0.1 * (3 - f), 1.0 + f, 0.5, "tok"},
                        {{0.1f, 1.0f, 10.0f}, {4, 6}});
      FeatureExample top;
      top.window = 0;
      top.activations = {0.0f, 2.5f, 0.0f, 0.0f};
      top.max_pos = 1;
      fs_.put_example(5, 1, top);
      FeatureExample sample;
      sample.kind = ExampleKind::Interval;
      sample.interval = 3;
      sample.window = 1;
      sample.activations = {0.25f, 0.0f};
      fs_.put_example(5, 1, sample);
      fs_.put_interval(5, 1, {3, 0.2f, 0.3f, 0.25f});
      fs_.put_logit_effect(5, 1, {1, 0, 2, 0.75f, {}});
      fs_.put_logit_effect(5, 1, {-1, 0, 3, -0.5f, {}});
      tx.commit();
    }
    auto page = fs_.page(5, 1, int64_t(1));
    QVERIFY(page.has_value());
    QCOMPARE(page->summary.fire_count, int64_t(10));
    QCOMPARE(page->histogram.counts, (std::vector<int64_t>{4, 6}));
    QCOMPARE(page->histogram.edges.size(), size_t(3));
    QCOMPARE(page->top.size(), size_t(1));
    QCOMPARE(page->top[0].tokens, (std::vector<int32_t>{0, 1, 2, 3}));
    QCOMPARE(page->top[0].activations, (std::vector<float>{0.0f, 2.5f, 0.0f, 0.0f}));
    QCOMPARE(page->interval_samples.size(), size_t(1));
    QCOMPARE(page->interval_samples[0].tokens, (std::vector<int32_t>{70000, 1}));
    QCOMPARE(page->interval_samples[0].activations, (std::vector<float>{0.25f, 0.0f}));
    QCOMPARE(page->interval_samples[0].interval, 3);
    QCOMPARE(page->intervals.size(), size_t(1));
    QCOMPARE(page->logit_effects.size(), size_t(2));
    QCOMPARE(page->logit_effects[0].token, std::string(" river"));
    QCOMPARE(page->logit_effects[1].sign, -1);
    QVERIFY(!fs_.page(5, 99, std::nullopt).has_value());

    auto by_density = fs_.list(5, FeatureSort::Density, true);
    QCOMPARE(by_density.size(), size_t(3));
    QCOMPARE(by_density.front().feature, int64_t(0));
    auto by_max = fs_.list(5, FeatureSort::MaxActivation, true, 2);
    QCOMPARE(by_max.size(), size_t(2));
    QCOMPARE(by_max.front().feature, int64_t(2));
  }

  // A model is named by its config's _name_or_path, else its folder, else
  // (a folder called "model") the folder's parent; a name given in the model
  // panel wins, stays with the folder when its files change, and names it in
  // the evaluation table.
  void modelsAreNamedByConfigFolderOrPerson() {
    const std::string dir = out_dir("names");
    const auto config = [](const std::string& folder, const std::string& name_or_path) {
      fs::create_directories(folder);
      std::ifstream tiny(SAESCOPE_FIXTURES_DIR "/model/tiny-gpt2/config.json");
      nlohmann::json c = nlohmann::json::parse(tiny);
      if (!name_or_path.empty()) c["_name_or_path"] = name_or_path;
      write_file(folder + "/config.json", c.dump());
    };
    config(dir + "/zoo/model", "");
    config(dir + "/my-gpt", "");
    config(dir + "/hub", "openai-community/gpt2");
    QCOMPARE(model::read_model_info(dir + "/zoo/model").name, std::string("zoo"));
    QCOMPARE(model::read_model_info(dir + "/zoo/model/").name, std::string("zoo"));
    QCOMPARE(model::read_model_info(dir + "/my-gpt").name, std::string("my-gpt"));
    QCOMPARE(model::read_model_info(dir + "/hub").name, std::string("gpt2"));

    auto ws = Workspace::open(dir + "/w.saescope");
    const int64_t zoo = ws->register_input(InputKind::Model, dir + "/zoo/model", jobs::probe_input(dir + "/zoo/model").config);
    QCOMPARE(input_name(*ws->input(zoo)), std::string("zoo"));
    // A name with a comma: the CSV quotes it and reads back whole.
    ws->set_input_name(zoo, "zoo, trained twice");
    QCOMPARE(input_name(*ws->input(zoo)), std::string("zoo, trained twice"));
    write_file(dir + "/zoo/model/notes.txt", "changed");  // a changed folder: a new row, the same name
    const int64_t changed = ws->register_input(InputKind::Model, dir + "/zoo/model", jobs::probe_input(dir + "/zoo/model").config);
    QVERIFY(changed != zoo);
    QCOMPARE(input_name(*ws->input(changed)), std::string("zoo, trained twice"));
    QVERIFY_EXCEPTION_THROWN(ws->set_input_name(9999, "x"), InputError);

    // The evaluation table names the model by it; a hook with a comma too.
    const int64_t sae = ws->register_input(InputKind::Sae, dir + "/my-gpt/config.json",
                                           {{"hook_name", "blocks.1.hook_resid_post, copy"}, {"d_sae", 8}});
    const int64_t r = ws->begin_result("k1", "reconstruction", changed, sae, std::nullopt, nlohmann::json::object());
    ws->finish_result(r, {{"mse", 0.5}, {"l0", 3.0}, {"explained_variance", 0.75}});
    const auto rows = evaluation_table(*ws);
    QCOMPARE(rows.size(), size_t(1));
    QCOMPARE(rows[0].model, std::string("zoo, trained twice"));
    const std::string csv = evaluation_csv(rows);
    const auto records = parse_csv(csv);
    QCOMPARE(records.size(), size_t(2));
    QCOMPARE(records[1].size(), records[0].size());
    QCOMPARE(records[1][0], std::string("zoo, trained twice"));
    QCOMPARE(records[1][1], std::string("blocks.1.hook_resid_post, copy"));
    QCOMPARE(records[1][7], std::string("3"));  // L0, after the comma-holding cells

    // An SAE with no result yet: the model it would run with, by that name,
    // not what its cfg.json calls the model (the demo's say "model").
    ws->register_input(InputKind::Sae, dir + "/hub/config.json", {{"hook_name", "blocks.0.hook_resid_post"}, {"model_name", "model"}});
    QCOMPARE(evaluation_table(*ws).back().model, std::string("zoo, trained twice"));

    // "" takes the name back: the config's name again.
    ws->set_input_name(changed, "");
    QCOMPARE(input_name(*ws->input(changed)), std::string("zoo"));
    QCOMPARE(input_name(*ws->input(zoo)), std::string("zoo"));
  }

  // Which model goes with an SAE, decided once (model_for_sae):
  // the one its newest result ran on, else the newest model added.
  void modelForSaeIsTheOneItLastRanWith() {
    const std::string dir = out_dir("model_for_sae");
    for (const char* m : {"/a", "/b", "/sae"}) {
      fs::create_directories(dir + m);
      write_file(dir + m + "/f.txt", m);
    }
    auto ws = Workspace::open(dir + "/w.saescope");
    QVERIFY(!newest_model(*ws));
    const int64_t sae = ws->register_input(InputKind::Sae, dir + "/sae");
    QVERIFY(!model_for_sae(*ws, sae));
    const int64_t a = ws->register_input(InputKind::Model, dir + "/a", {{"n_layer", 12}});
    const int64_t b = ws->register_input(InputKind::Model, dir + "/b", {{"n_layer", 4}});
    QCOMPARE(model_for_sae(*ws, sae)->id, b);  // nothing ran yet: the newest
    QCOMPARE(newest_model(*ws)->id, b);
    ws->begin_result("h", "harvest", a, sae, std::nullopt, nlohmann::json::object());
    QCOMPARE(model_for_sae(*ws, sae)->id, a);  // what it ran with, even unfinished
    QCOMPARE(workflows::default_training_hook(*ws->input(a)), std::string("blocks.6.hook_resid_post"));
    QCOMPARE(workflows::default_training_hook(*ws->input(b)), std::string("blocks.2.hook_resid_post"));
    QCOMPARE(workflows::default_context(SAESCOPE_FIXTURES_DIR "/model/tiny-gpt2"), int64_t(64));  // n_positions 64 < 128
  }

  void featuresCsvQuotesWhatNeedsIt() {
    std::vector<FeatureSummary> f(3);
    f[0] = {7, 12, 0.0125, 3.25, 1.5, " bank ·  river ·  shore"};
    f[1] = {2, 0, 0, 0, 0, ""};
    f[2] = {9, 1, 1e-9, 2, 2, "\"quoted\", and, commas"};
    const auto records = parse_csv(features_csv(f));
    QCOMPARE(records.size(), size_t(4));
    QCOMPARE(records[0], (std::vector<std::string>{"feature", "fire_count", "density", "max_activation",
                                                   "mean_activation", "top_tokens"}));
    QCOMPARE(records[1], (std::vector<std::string>{"7", "12", "0.0125", "3.25", "1.5", " bank ·  river ·  shore"}));
    QCOMPARE(records[2][5], std::string());
    QCOMPARE(records[3][2], std::string("1e-09"));
    QCOMPARE(records[3][5], std::string("\"quoted\", and, commas"));
    QVERIFY(features_csv(f).find("\" bank") != std::string::npos);  // a leading space is kept by quoting
  }

  void evaluationTablesRoundTrip() {
    auto ws = Workspace::open(out_dir("evaluation") + "/w.saescope");
    ws->db().exec("INSERT INTO results (id, key, kind, status) VALUES (3, 'k', 'pseval', 'done')");
    EvaluationStore ev(ws->db());
    {
      Transaction tx(ws->db());
      ev.put_word_confusion(3, {"bank", 4, 1, 3, 2});
      ev.put_word_confusion(3, {"apple", 1, 0, 0, 0});
      ev.put_word_score(3, {"bank", 2, 1.0, 0.5});
      ev.put_sense(3, {"bank", "09213565-n", "sloping land beside water"});
      ev.put_sense(3, {"bank", "08420278-n", "a financial institution"});
      ev.put_occurrence(3, {0, "bank", "09213565-n", "they sat on the bank", 16, 20, 12, 3.5, 0.1, -0.2});
      ev.put_occurrence(3, {1, "bank", "", "the bank lent money", 4, 8, -1, 0.0, 0.3, 0.4});
      ev.put_occurrence(3, {2, "spring", "x", "in spring", 3, 9, 5, 1.0, 0, 0});
      tx.commit();
    }
    const auto words = ev.word_confusions(3);
    QCOMPARE(words.size(), size_t(2));
    QCOMPARE(words[1].word, std::string("bank"));
    QCOMPARE(words[1].fn, int64_t(2));
    QCOMPARE(ev.words(3), (std::vector<std::string>{"bank", "spring"}));
    QCOMPARE(ev.senses(3, "bank").size(), size_t(2));
    const auto occ = ev.occurrences(3, "bank");
    QCOMPARE(occ.size(), size_t(2));
    QCOMPARE(occ[0].char_start, int64_t(16));
    QCOMPARE(occ[1].sense_id, std::string());
    QCOMPARE(occ[1].argmax_feature, int64_t(-1));
    QCOMPARE(occ[0].pca_y, -0.2);
    QCOMPARE(ev.word_score(3, "bank")->nmi, 0.5);
    QVERIFY(!ev.word_score(3, "spring").has_value());
  }
};

QTEST_GUILESS_MAIN(TestStore)
#include "test_store.moc"
