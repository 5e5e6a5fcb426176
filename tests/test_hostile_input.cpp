// Hostile inputs (issue #19): JSON nested a million levels deep, numbers no
// double holds, workspaces with impossible schema versions, other programs'
// databases, damaged headers, edited rows, empty paths. Each must end in an
// InputError naming the file (CLI exit 2), never a crash or "internal error",
// and a command that only reads must leave the file byte for byte as it was.
#include <sqlite3.h>

#include <QtTest>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_runner.h"
#include "core/common/error.h"
#include "core/common/json_file.h"
#include "core/corpus/corpus_windows.h"
#include "core/io/safetensors.h"
#include "core/model/gpt2/gpt2_config.h"
#include "core/model/model_registry.h"
#include "core/polysemy/occurrence_reader.h"
#include "core/polysemy/pseval_reader.h"
#include "core/sae/sae_config.h"
#include "core/sae/sae_folder.h"
#include "core/store/schema.h"
#include "core/store/workspace.h"
#include "fixture_workspace.h"
#include "verify_message.h"

using namespace saescope;
using namespace saescope::store;
using cli_runner::q;
using cli_runner::run_cli;
namespace fs = std::filesystem;

namespace {

std::string out_dir(const std::string& name) {
  const fs::path p = fs::path(SAESCOPE_TEST_OUTPUT_DIR) / "hostile" / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// `[[[...]]]`, `levels` deep: far past any stack when copied recursively.
std::string deep_json(int levels) { return std::string(levels, '[') + std::string(levels, ']'); }

constexpr int kMillion = 1000000;

// The InputError message of `f`, or "" when it threw none (anything else fails the test).
std::string input_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// A CLI run refused as bad input: exit 2, no "internal error", stderr naming `parts`.
#define VERIFY_REFUSED(run, ...)                                                                     \
  do {                                                                                               \
    const cli_runner::Cli r_ = (run);                                                                \
    QVERIFY2(r_.code == 2, ("exit " + std::to_string(r_.code) + ": " + r_.err).c_str());             \
    QVERIFY2(r_.err.find("internal error") == std::string::npos, r_.err.c_str());                    \
    for (const std::string& part_ : std::vector<std::string>{__VA_ARGS__})                           \
      QVERIFY2(r_.err.find(part_) != std::string::npos, ("'" + part_ + "' not in: " + r_.err).c_str()); \
  } while (0)

// An SQLite file with a table of another program and no user_version.
std::string foreign_database(const std::string& path) {
  Database db(path, /*create=*/true);
  db.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)");
  db.exec("INSERT INTO customers (name) VALUES ('Ada')");
  return path;
}

// Overwrites bytes of a file in place (an SQLite header field, say).
void poke(const std::string& path, std::streamoff at, const std::string& bytes) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(at);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

bool has_wal_or_shm(const std::string& path) {
  return fs::exists(path + "-wal") || fs::exists(path + "-shm");
}

}  // namespace

class TestHostileInput : public QObject {
  Q_OBJECT
 private slots:
  // ---- 1. JSON nesting, numbers, syntax -------------------------------------------------

  void boundedParseCountsBracketsOutsideStrings() {
    QVERIFY(parse_json_bounded(deep_json(512), "x.json").is_array());
    VERIFY_MESSAGE(input_error_of([] { parse_json_bounded(deep_json(513), "x.json"); }), "x.json: ",
               "JSON nested deeper than 512 levels");
    // Brackets in strings, and an escaped quote that does not end the string, do not nest.
    const std::string in_string = "{\"a\": \"\\\"" + std::string(2000, '[') + "\"}";
    QCOMPARE(parse_json_bounded(in_string, "s.json")["a"].get<std::string>().size(), size_t(2001));
    QVERIFY(!json_nested_deeper_than(in_string, 1));
    QVERIFY(json_nested_deeper_than("[\"\\\\\", [[", 2));  // "\\" ends there: the brackets after count
  }

  void boundedParseTurnsEveryParseFailureIntoInputError() {
    VERIFY_MESSAGE(input_error_of([] { parse_json_bounded("{\"a\": 1e999}", "big.json"); }), "big.json",
               "too large for a double");
    VERIFY_MESSAGE(input_error_of([] { parse_json_bounded("{\"a\": ", "cut.json"); }), "cut.json",
               "not valid JSON");
    try {
      parse_json_bounded("[1,", "f.jsonl");
      QFAIL("no error");
    } catch (const JsonError& e) {
      QVERIFY(e.reason().rfind("not valid JSON", 0) == 0);  // without "f.jsonl: ", for line reports
    }
  }

  void deepJsonInEveryReaderIsAnInputError() {
    const std::string dir = out_dir("deep");
    const std::string deep = deep_json(kMillion);
    // safetensors header
    const std::string st = dir + "/deep.safetensors";
    std::string len(8, '\0');
    for (int i = 0; i < 8; ++i) len[i] = static_cast<char>((deep.size() >> (8 * i)) & 0xFF);
    write_file(st, len + deep);
    VERIFY_MESSAGE(input_error_of([&] { io::SafetensorsFile::open(st); }), st, "nested deeper than 512");
    // sharded checkpoint index
    const std::string index = dir + "/model.safetensors.index.json";
    write_file(index, "{\"weight_map\": " + deep + "}");
    VERIFY_MESSAGE(input_error_of([&] { io::SafetensorsCheckpoint::open(index); }), index, "nested deeper");
    // a model's config.json (every family reads it through ConfigJson) and GPT-2's own reader
    fs::create_directories(dir + "/model");
    write_file(dir + "/model/config.json", "{\"model_type\": \"gpt2\", \"x\": " + deep + "}");
    VERIFY_MESSAGE(input_error_of([&] { model::read_model_info(dir + "/model"); }), "config.json", "nested deeper");
    VERIFY_MESSAGE(input_error_of([&] { model::load_gpt2_config(dir + "/model/config.json"); }), "config.json",
               "nested deeper");
    // an SAE's cfg.json
    fs::create_directories(dir + "/sae");
    write_file(dir + "/sae/cfg.json", deep);
    VERIFY_MESSAGE(input_error_of([&] { sae::read_sae_config(dir + "/sae/cfg.json"); }), "cfg.json", "nested deeper");
    // PS-Eval JSON: refused as a whole, not re-read line by line
    write_file(dir + "/pairs.json", deep);
    polysemy::ReadReport report;
    VERIFY_MESSAGE(input_error_of([&] { polysemy::read_pseval_json(dir + "/pairs.json", report, {}); }),
               "pairs.json", "nested deeper");
  }

  void deepJsonLinesAreReportedLikeOtherBadLines() {
    const std::string dir = out_dir("deep_lines");
    const std::string deep = deep_json(kMillion);
    write_file(dir + "/pairs.jsonl", deep + "\n");
    polysemy::ReadReport r1;
    polysemy::read_pseval_jsonl(dir + "/pairs.jsonl", r1, {});
    QCOMPARE(r1.issues.size(), size_t(1));
    QVERIFY2(r1.issues[0].reason.find("nested deeper than 512") != std::string::npos, r1.issues[0].reason.c_str());
    write_file(dir + "/occ.jsonl", deep + "\n");
    polysemy::ReadReport r2;
    polysemy::read_occurrences_jsonl(dir + "/occ.jsonl", r2, {});
    QCOMPARE(r2.issues.size(), size_t(1));
    write_file(dir + "/corpus.jsonl", deep + "\n{\"text\": \"fine\"}\n");
    analysis::CorpusDocuments docs(dir + "/corpus.jsonl");
    std::string text;
    QVERIFY(docs.next(text));
    QCOMPARE(text, std::string("fine"));
    QCOMPARE(docs.problems().size(), size_t(1));
    QVERIFY(docs.problems()[0].reason.find("nested deeper") != std::string::npos);
  }

  void hugeNumberInAnIndexIsAnInputError() {
    // out_of_range, not parse_error: this escaped as "internal error" before.
    const std::string index = out_dir("huge") + "/model.safetensors.index.json";
    write_file(index, "{\"weight_map\": {}, \"metadata\": {\"total_size\": 1e999}}");
    VERIFY_MESSAGE(input_error_of([&] { io::SafetensorsCheckpoint::open(index); }), index, "too large");
  }

  // ---- 3, 4, 9. SAE and model folders ----------------------------------------------------

  void saeLensVersionTooLargeIsRefused() {
    const std::string dir = out_dir("version");
    // std::stoi threw out_of_range on both: "internal error" before.
    for (const char* name : {"version", "layer"}) {
      fs::copy(std::string(SAESCOPE_FIXTURES_DIR) + "/sae/standard_v6", dir + "/" + name, fs::copy_options::recursive);
      nlohmann::json cfg = read_json_file(dir + "/" + name + "/cfg.json");
      if (std::string(name) == "version") cfg["metadata"]["sae_lens_version"] = "99999999999.0.0";
      else cfg["metadata"]["hook_name"] = "blocks.99999999999999999999.hook_resid_pre";
      write_file(dir + "/" + name + "/cfg.json", cfg.dump());
    }
    VERIFY_MESSAGE(input_error_of([&] { sae::load_sae(dir + "/version"); }), "cfg.json", "sae_lens_version",
               "99999999999.0.0");
    VERIFY_REFUSED(run_cli({"encode", "--sae", q(dir + "/version"), "--in", q(dir + "/none.safetensors"), "--out",
                            q(dir + "/out.safetensors")}),
                   "sae_lens_version");
    QVERIFY(!sae::load_sae(dir + "/layer").config().meta.hook_layer.has_value());  // no layer, no overflow
  }

  void folderWhereAConfigFileShouldBe() {
    const std::string dir = out_dir("folder_config");
    fs::create_directories(dir + "/model/config.json");
    VERIFY_MESSAGE(input_error_of([&] { model::read_model_info(dir + "/model"); }), "config.json", "a folder");
    VERIFY_MESSAGE(input_error_of([&] { model::load_gpt2_config(dir + "/model/config.json"); }), "config.json",
               "a folder");
    fs::create_directories(dir + "/sae/cfg.json");
    write_file(dir + "/sae/sae_weights.safetensors", "");
    VERIFY_MESSAGE(input_error_of([&] { sae::load_sae(dir + "/sae"); }), "cfg.json", "a folder");
  }

  void emptySaePathIsRefused() {
    VERIFY_MESSAGE(input_error_of([] { sae::load_sae(""); }), "SAE folder", "empty");
    const std::string ws = fixture::build_workspace(out_dir("empty_sae"), 20).path;
    VERIFY_REFUSED(run_cli({"features", "--workspace", q(ws), "--sae", ""}), "--sae", "empty path");
    VERIFY_REFUSED(run_cli({"feature", "--workspace", q(ws), "--sae", "", "--id", "0"}), "--sae", "empty path");
    VERIFY_REFUSED(run_cli({"sae-eval", "--sae", ""}), "--sae", "empty path");
    VERIFY_REFUSED(run_cli({"encode", "--sae", "", "--in", "a", "--out", "b"}), "--sae", "empty path");
    VERIFY_REFUSED(run_cli({"harvest", "--workspace", q(ws), "--model", "m", "--sae", "", "--corpus", "c"}),
                   "--sae", "empty path");
    VERIFY_REFUSED(run_cli({"features", "--workspace", q(ws), "--sae", "123456789012345678901234"}),
                   "no such file");  // too long for an id: a path, never std::stoll's overflow
  }

  // ---- 2, 6. Schema versions that SAEScope never wrote ----------------------------------

  void negativeSchemaVersionIsRefused() {
    const std::string path = out_dir("version_minus_one") + "/w.saescope";
    { Database db(path, /*create=*/true); db.set_user_version(-1); }
    const std::string before = file_bytes(path);
    VERIFY_MESSAGE(input_error_of([&] { Workspace::open(path); }), path, "-1", "not a SAEScope workspace");
    {
      Database db(path, /*create=*/false);  // migrate() alone refuses too
      VERIFY_MESSAGE(input_error_of([&] { migrate(db); }), path, "-1");
    }
    VERIFY_REFUSED(run_cli({"workspace", "info", q(path)}), path, "not a SAEScope workspace");
    QVERIFY(file_bytes(path) == before);
  }

  void populatedFileAtVersionZeroIsForeign() {
    const std::string path = out_dir("version_zero") + "/w.saescope";
    {
      Database db(path, /*create=*/true);  // SAEScope's own tables, version reset to 0
      db.exec(migrations()[0]);
    }
    const std::string before = file_bytes(path);
    try {
      Workspace::open(path);
      QFAIL("a populated version-0 file opened");
    } catch (const NotAWorkspace& e) {
      VERIFY_MESSAGE(e.what(), path, "not a SAEScope workspace");
    }
    QVERIFY(file_bytes(path) == before);
  }

  // ---- 5. Damaged headers ----------------------------------------------------------------

  void unsupportedFileFormatIsDamagedNotInternal() {
    const std::string dir = out_dir("format");
    const std::string built = fixture::build_workspace(dir + "/src", 20).path;
    struct Case {
      const char* name;
      std::streamoff at;
      std::string bytes;
    };
    // 44: schema format number (1..4 known); 19: read version (> 2: newer SQLite).
    for (const Case& c : {Case{"schema_format", 44, std::string("\0\0\0\x09", 4)}, Case{"read_version", 19, "\x03"}}) {
      const std::string path = dir + "/" + c.name + ".saescope";
      fs::copy_file(built, path);
      poke(path, c.at, c.bytes);
      QVERIFY_EXCEPTION_THROWN(Workspace::open(path), WorkspaceDamaged);
      VERIFY_REFUSED(run_cli({"workspace", "info", q(path)}), path, "damaged", "recover");
      VERIFY_REFUSED(run_cli({"harvest", "--workspace", q(path), "--model", q(dir), "--sae", q(dir), "--corpus",
                              q(path)}),
                     path, "damaged");
    }
  }

  void fileOnlyNewerSqliteWritesIsReadOnly() {
    // 18: write version > 2: SQLite reads the file but will not write it.
    const std::string dir = out_dir("write_version");
    const std::string path = fixture::build_workspace(dir, 20).path;
    poke(path, 18, "\x03");
    VERIFY_MESSAGE(input_error_of([&] { Workspace::open(path); }), path, "cannot be written");
    QVERIFY(!Workspace::open(path, IntegrityCheck::Full, Access::ReadOnly)->inputs().empty());
  }

  // ---- 7. Read-only commands on files that are not workspaces ---------------------------

  void readOnlyCommandsLeaveForeignFilesUntouched() {
    const std::string dir = out_dir("foreign");
    const std::string foreign = foreign_database(dir + "/customers.db");
    const std::string empty = dir + "/empty.saescope";
    write_file(empty, "");
    for (const std::string& path : {foreign, empty}) {
      const std::string before = file_bytes(path);
      VERIFY_REFUSED(run_cli({"workspace", "info", q(path)}), path, "not a SAEScope workspace");
      VERIFY_REFUSED(run_cli({"features", "--workspace", q(path), "--sae", "1"}), path, "not a SAEScope workspace");
      VERIFY_REFUSED(run_cli({"feature", "--workspace", q(path), "--sae", "1", "--id", "0"}), path,
                     "not a SAEScope workspace");
      QVERIFY2(file_bytes(path) == before, path.c_str());
      QVERIFY2(!has_wal_or_shm(path), path.c_str());
    }
    // A command that writes refuses another program's database too, before writing.
    const std::string before = file_bytes(foreign);
    QVERIFY_EXCEPTION_THROWN(Workspace::open(foreign), NotAWorkspace);
    QVERIFY(file_bytes(foreign) == before);
    // ...but an empty file is still where a new workspace may start.
    QCOMPARE(Workspace::open(empty)->db().user_version(), current_schema_version());
  }

  void readOnlyOpenOfAnOlderSchemaAsksForAnUpgrade() {
    const std::string path = out_dir("older") + "/w.saescope";
    {
      Database db(path, /*create=*/true);
      db.exec(migrations()[0]);
      db.set_user_version(1);
    }
    const std::string before = file_bytes(path);
    VERIFY_REFUSED(run_cli({"workspace", "info", q(path)}), path, "workspace upgrade");
    QVERIFY(file_bytes(path) == before);
    const auto up = run_cli({"workspace", "upgrade", q(path)});
    QVERIFY2(up.code == 0, up.err.c_str());
    QCOMPARE(run_cli({"workspace", "info", q(path)}).code, 0);
  }

  // ---- 8. Edited rows and dropped tables ---------------------------------------------------

  void editedResultRowsNameTheWorkspace() {
    const std::string dir = out_dir("edited");
    const auto fixture = fixture::build_workspace(dir + "/src", 20);
    const std::string built = fixture.path;
    const QString sae = q(std::to_string(fixture.sae_id));
    const std::vector<std::pair<std::string, std::string>> edits = {
        {"params = '{\"tokens\": \"many\"}'", "unexpected type"},
        {"params = '[1, 2]'", "not an object"},
        {"params = 'not json'", "not valid JSON"},
        {"params = '" + deep_json(kMillion) + "'", "nested deeper"},
        {"metrics = '{\"features\": [1]}'", "unexpected type"},
    };
    int n = 0;
    for (const auto& [set, expect] : edits) {
      const std::string path = dir + "/w" + std::to_string(n++) + ".saescope";
      fs::copy_file(built, path);
      {
        Database db(path, /*create=*/false);
        db.exec("UPDATE results SET " + set + " WHERE kind = 'harvest'");
      }
      const QStringList info = {"workspace", "info", q(path)};
      const QStringList features = {"features", "--workspace", q(path), "--sae", sae, "--json"};
      // metrics are read by `features`; `info` only passes them through
      VERIFY_REFUSED(run_cli(set.rfind("metrics", 0) == 0 ? features : info), path, expect, "recover");
    }
  }

  void droppedTableNamesTheWorkspace() {
    const std::string dir = out_dir("dropped");
    const auto fixture = fixture::build_workspace(dir + "/src", 20);
    const std::string built = fixture.path;
    for (const char* table : {"notes", "features", "results"}) {
      const std::string path = dir + "/" + table + ".saescope";
      fs::copy_file(built, path);
      { Database(path, false).exec(std::string("DROP TABLE ") + table); }
      QVERIFY_EXCEPTION_THROWN(Workspace::open(path), WorkspaceDamaged);
      VERIFY_REFUSED(run_cli({"feature", "--workspace", q(path), "--sae", q(std::to_string(fixture.sae_id)), "--id", "0"}), path,
                     std::string("table ") + table + " is missing", "recover");
    }
  }

  // ---- 10. Read-only opening writes nothing, beside the file either ---------------------

  void readOnlyOpenWritesNothing() {
    const std::string dir = out_dir("read_only");
    const auto built = fixture::build_workspace(dir, 20);
    const std::string path = built.path;
    QVERIFY(!has_wal_or_shm(path));  // closed cleanly: the WAL was checkpointed away
    const std::string before = file_bytes(path);
    {
      auto ws = Workspace::open(path, IntegrityCheck::Full, Access::ReadOnly);
      QVERIFY(ws->read_only());
      QVERIFY(!ws->inputs().empty());
      QVERIFY(!ws->content_hash(dir + "/sae_a").empty());  // hashing caches nothing
      QVERIFY_EXCEPTION_THROWN(ws->set_note("h", 1, "l", "n"), InputError);  // a write is refused as input
      QVERIFY(!has_wal_or_shm(path));
    }
    QVERIFY(file_bytes(path) == before);
    QVERIFY(!has_wal_or_shm(path));
    const auto info = run_cli({"workspace", "info", q(path)});
    QVERIFY2(info.code == 0, info.err.c_str());
    const auto features = run_cli({"features", "--workspace", q(path), "--sae", q(dir + "/sae_a")});
    QVERIFY2(features.code == 0, features.err.c_str());
    QVERIFY(file_bytes(path) == before);
    QVERIFY(!has_wal_or_shm(path));
  }

  void readOnlyOpenSeesWhatAnOpenWriterCommitted() {
    // With a writer open the -wal holds commits the file lacks: the reader must see them.
    const std::string path = fixture::build_workspace(out_dir("read_with_writer"), 20).path;
    auto writer = Workspace::open(path);
    writer->set_note("abc", 3, "written", "while open");
    QVERIFY(fs::exists(path + "-wal"));
    auto reader = Workspace::open(path, IntegrityCheck::Full, Access::ReadOnly);
    QCOMPARE(reader->note("abc", 3)->first, std::string("written"));
  }
};

QTEST_GUILESS_MAIN(TestHostileInput)
#include "test_hostile_input.moc"
