#include "core/store/workspace.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <set>
#include <thread>

#include "core/common/json_file.h"
#include "core/common/sha256.h"
#include "core/store/schema.h"

namespace fs = std::filesystem;

namespace saescope::store {
namespace {

constexpr const char* kResultColumns =
    "id, key, kind, model_id, sae_id, data_id, params, status, progress, metrics, created_at, "
    "finished_at";

std::optional<int64_t> optional_int(Statement& s, int col) {
  if (s.column_is_null(col)) return std::nullopt;
  return s.column_int(col);
}

void bind_optional(Statement& s, int index, std::optional<int64_t> v) {
  if (v) s.bind(index, *v);
  else s.bind_null(index);
}

// A JSON object column (`what` names it: "result 3's params"). We only ever
// store objects, so anything else, or a NULL where `nullable` is false, means
// the file was edited outside SAEScope.
nlohmann::json stored_object(Statement& s, int col, const std::string& path, const std::string& what,
                             bool nullable) {
  if (s.column_is_null(col)) {
    if (nullable) return nullptr;
    throw damaged_workspace(path, what + " is NULL");
  }
  nlohmann::json j;
  try {
    j = parse_json_bounded(s.column_text(col), what);
  } catch (const JsonError& e) {
    throw damaged_workspace(path, e.what());
  }
  if (j.is_null() && nullable) return j;
  if (!j.is_object())
    throw damaged_workspace(path, what + " is a JSON " + std::string(j.type_name()) + ", not an object");
  return j;
}

// Runs PRAGMA integrity_check; returns the first problem, or "" when sound.
std::string integrity_problem(Database& db) {
  Statement s = db.prepare("PRAGMA integrity_check");
  if (!s.step()) return "integrity_check returned nothing";
  std::string first = s.column_text(0);
  return first == "ok" ? std::string() : first;
}

std::string damaged_message(const std::string& path, const std::string& problem) {
  return path + ": the workspace file is damaged (" + problem +
         "). Every result in it can be recomputed: recover it with `saescope-cli workspace "
         "recover " + path + "` (or answer Yes when the app offers it), which keeps the damaged file "
         "beside it and carries over your inputs and notes.";
}

std::string timestamp() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", std::gmtime(&t));
  return buf;
}

std::string joined(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::set<std::string> table_names(Database& db) {
  Statement s = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
  std::set<std::string> out;
  while (s.step()) out.insert(s.column_text(0));
  return out;
}

std::string version_text(int version) { return "workspace schema version " + std::to_string(version); }

// user_version outside 0..current: never written by this SAEScope (and
// migrations()[version] would read outside the list).
void check_version(const std::string& path, int version) {
  if (version < 0)
    throw NotAWorkspace(path + ": " + version_text(version) + " is not one SAEScope writes: not a SAEScope workspace");
  if (version > current_schema_version())
    throw NotAWorkspace(path + ": " + version_text(version) + " is newer than this SAEScope understands (" +
                        std::to_string(current_schema_version()) + "); open it with a newer SAEScope");
}

// Version 0 is an empty file only: with tables it is another program's
// database, and replaying CREATE TABLE into it would fail or, worse, succeed.
void check_tables(Database& db, int version, Access access) {
  const std::string& path = db.path();
  const std::set<std::string> have = table_names(db);
  if (version == 0 && !have.empty())
    throw NotAWorkspace(path + ": an SQLite database of another program (tables " + joined(have) +
                        "), not a SAEScope workspace; it was left untouched");
  if (version == 0 && access == Access::ReadOnly)
    throw NotAWorkspace(path + ": an empty file, not a SAEScope workspace (create one with `saescope-cli harvest`)");
  std::set<std::string> missing;
  for (const auto& t : schema_tables(version))
    if (!have.count(t)) missing.insert(t);
  if (version > 0 && missing.size() == schema_tables(version).size())
    throw NotAWorkspace(path + ": an SQLite database with none of SAEScope's tables (" + version_text(version) +
                        "), not a SAEScope workspace; it was left untouched");
  if (!missing.empty()) throw damaged_workspace(path, "table " + joined(missing) + " is missing");
}

// Refuses, by reading only, a file that must not be used as a workspace here;
// otherwise the file is a workspace at some version, or empty and writable.
void check_snapshot_is_workspace(Database& db, Access access) {
  const int version = db.user_version();
  check_version(db.path(), version);
  check_tables(db, version, access);
  if (access == Access::ReadOnly && version < current_schema_version())
    throw NotAWorkspace(db.path() + ": " + version_text(version) + " is from an older SAEScope; a command that "
                        "only reads does not upgrade it: run `saescope-cli workspace upgrade " + db.path() + "` once");
}

void check_is_workspace(Database& db, Access access) {
  // One read transaction: the version and the tables are read from one
  // snapshot, so a workspace another process is creating at this moment is
  // seen before or after its migration, never as "version 0 with tables".
  db.exec("BEGIN");
  try {
    check_snapshot_is_workspace(db, access);
  } catch (...) {
    // SQLite may already have ended it (a damaged file); the first error is the one to report.
    if (!sqlite3_get_autocommit(db.handle())) sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  db.exec("COMMIT");
}

}  // namespace

WorkspaceDamaged damaged_workspace(const std::string& path, const std::string& problem) {
  return WorkspaceDamaged(damaged_message(path, problem));
}

const char* to_string(InputKind kind) {
  switch (kind) {
    case InputKind::Model: return "model";
    case InputKind::Sae: return "sae";
    case InputKind::Corpus: return "corpus";
    case InputKind::Dataset: return "dataset";
  }
  return "model";
}

InputKind input_kind_from_string(const std::string& s) {
  for (InputKind k : {InputKind::Model, InputKind::Sae, InputKind::Corpus, InputKind::Dataset})
    if (s == to_string(k)) return k;
  throw InputError("unknown input kind '" + s + "' (model, sae, corpus, dataset)");
}

Workspace::Workspace(const std::string& path, Access access)
    : db_(path, access), read_only_(access == Access::ReadOnly) {}

std::string Workspace::check_integrity(const std::string& path, const std::function<bool()>& cancelled) {
  if (cancelled && cancelled()) throw Cancelled();
  try {
    Database db(path, /*create=*/false);
    // PRAGMA integrity_check is one long VM step, so a progress handler is
    // not called inside it; sqlite3_interrupt (thread-safe) is, by the page
    // walk. A watcher polls `cancelled` and interrupts.
    std::atomic<bool> done{false};
    std::thread watcher;
    if (cancelled)
      watcher = std::thread([&] {
        // Repeated: an interrupt before the statement starts is lost.
        while (!done.load()) {
          if (cancelled()) sqlite3_interrupt(db.handle());
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      });
    std::string problem;
    std::exception_ptr failed;
    try {
      problem = integrity_problem(db);
    } catch (...) {
      failed = std::current_exception();
    }
    done = true;
    if (watcher.joinable()) watcher.join();
    if (cancelled && cancelled()) throw Cancelled();  // interrupted (or finished as asked to stop)
    if (failed) std::rethrow_exception(failed);
    return problem.empty() ? std::string() : damaged_message(path, problem);
  } catch (const InputError& e) {
    return damaged_message(path, e.what());
  }
}

std::unique_ptr<Workspace> Workspace::open(const std::string& path, IntegrityCheck check, Access access) {
  std::unique_ptr<Workspace> ws(new Workspace(path, access));
  Database& db = ws->db_;
  try {
    // Everything up to check_is_workspace only reads: a refused file is left as it was.
    const std::string problem = check == IntegrityCheck::Full ? integrity_problem(db) : std::string();
    if (!problem.empty()) throw damaged_workspace(path, problem);
    check_is_workspace(db, access);
  } catch (const NotAWorkspace&) {
    throw;
  } catch (const WorkspaceDamaged&) {
    throw;
  } catch (const InputError& e) {
    // SQLITE_NOTADB / SQLITE_CORRUPT / "unsupported file format" surface as InputError from the wrapper.
    throw damaged_workspace(path, e.what());
  }
  if (access == Access::ReadOnly) return ws;
  if (sqlite3_db_readonly(db.handle(), "main") == 1)  // permissions, or a header only newer SQLite writes
    throw InputError(path + ": the workspace cannot be written (a read-only file or folder); "
                     "commands that only read it (workspace info, features, feature) still work");
  db.enable_wal();
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA foreign_keys = ON");
  migrate(db);
  return ws;
}

RecoveryReport Workspace::recover(const std::string& path) {
  RecoveryReport report;
  report.damaged_copy = path + ".damaged-" + timestamp();
  fs::rename(path, report.damaged_copy);
  for (const char* suffix : {"-wal", "-shm"}) {
    std::error_code ec;
    if (fs::exists(path + suffix)) fs::rename(path + suffix, report.damaged_copy + suffix, ec);
  }
  auto fresh = Workspace::open(path);
  // Salvage row by row: a damaged page loses its rows, not the whole table.
  try {
    Database old(report.damaged_copy, /*create=*/false);
    try {
      Statement s = old.prepare("SELECT kind, path, content_hash, config, added_at FROM inputs");
      Statement ins = fresh->db_.prepare(
          "INSERT OR IGNORE INTO inputs (kind, path, content_hash, config, added_at) "
          "VALUES (?, ?, ?, ?, ?)");
      while (s.step()) {
        for (int c = 0; c < 5; ++c) ins.bind(c + 1, s.column_text(c));
        ins.run();
        ++report.inputs_kept;
      }
    } catch (const std::exception& e) {
      report.problems.push_back(std::string("inputs: ") + e.what());
    }
    try {
      Statement s =
          old.prepare("SELECT sae_hash, feature, label, note, updated_at FROM notes");
      Statement ins = fresh->db_.prepare(
          "INSERT OR REPLACE INTO notes (sae_hash, feature, label, note, updated_at) "
          "VALUES (?, ?, ?, ?, ?)");
      while (s.step()) {
        ins.bind(1, s.column_text(0)).bind(2, s.column_int(1)).bind(3, s.column_text(2));
        ins.bind(4, s.column_text(3)).bind(5, s.column_text(4));
        ins.run();
        ++report.notes_kept;
      }
    } catch (const std::exception& e) {
      report.problems.push_back(std::string("notes: ") + e.what());
    }
  } catch (const std::exception& e) {
    report.problems.push_back(std::string("damaged file unreadable: ") + e.what());
  }
  return report;
}

std::string Workspace::file_hash(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) throw InputError(path + ": cannot read (" + ec.message() + ")");
  const auto mtime = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         fs::last_write_time(path).time_since_epoch())
                         .count();
  const std::string abs = fs::absolute(path).lexically_normal().string();
  Statement get = db_.prepare("SELECT sha256 FROM file_hashes WHERE path = ? AND size = ? AND mtime_ns = ?");
  get.bind(1, abs).bind(2, static_cast<int64_t>(size)).bind(3, static_cast<int64_t>(mtime));
  if (get.step()) return get.column_text(0);
  const std::string hash = sha256_file(path);
  if (read_only_) return hash;  // the cache is a write; reading commands hash again next time
  Statement put = db_.prepare(
      "INSERT OR REPLACE INTO file_hashes (path, size, mtime_ns, sha256) VALUES (?, ?, ?, ?)");
  put.bind(1, abs).bind(2, static_cast<int64_t>(size)).bind(3, static_cast<int64_t>(mtime));
  put.bind(4, hash).run();
  return hash;
}

std::string Workspace::content_hash(const std::string& path) {
  return sha256_tree(path, [this](const std::string& file) { return file_hash(file); });
}

int64_t Workspace::register_input(InputKind kind, const std::string& path,
                                  const nlohmann::json& config) {
  const std::string abs = fs::absolute(path).lexically_normal().string();
  const std::string hash = content_hash(path);
  Statement find = db_.prepare(
      "SELECT id FROM inputs WHERE kind = ? AND path = ? AND content_hash = ?");
  find.bind(1, to_string(kind)).bind(2, abs).bind(3, hash);
  if (find.step()) return find.column_int(0);
  nlohmann::json stored = config;
  // A changed file keeps the name its path was given.
  Statement given = db_.prepare(
      "SELECT json_extract(config, '$.given_name') FROM inputs WHERE kind = ? AND path = ? "
      "AND json_extract(config, '$.given_name') IS NOT NULL ORDER BY id DESC LIMIT 1");
  given.bind(1, to_string(kind)).bind(2, abs);
  if (given.step() && stored.is_object()) stored["given_name"] = given.column_text(0);
  Statement ins = db_.prepare(
      "INSERT INTO inputs (kind, path, content_hash, config) VALUES (?, ?, ?, ?)");
  ins.bind(1, to_string(kind)).bind(2, abs).bind(3, hash).bind(4, stored.dump());
  ins.run();
  return db_.last_insert_rowid();
}

void Workspace::set_input_name(int64_t id, const std::string& name) {
  const auto record = input(id);
  if (!record) throw InputError(path() + ": no input " + std::to_string(id) + " to name");
  Transaction tx(db_);
  Statement rows = db_.prepare("SELECT id, config FROM inputs WHERE kind = ? AND path = ?");
  rows.bind(1, to_string(record->kind)).bind(2, record->path);
  std::vector<std::pair<int64_t, nlohmann::json>> named;
  while (rows.step()) {
    nlohmann::json config = stored_object(rows, 1, path(), "input " + std::to_string(rows.column_int(0)) + "'s config", false);
    if (name.empty()) config.erase("given_name");
    else config["given_name"] = name;
    named.emplace_back(rows.column_int(0), std::move(config));
  }
  for (const auto& [row, config] : named) {
    Statement up = db_.prepare("UPDATE inputs SET config = ? WHERE id = ?");
    up.bind(1, config.dump()).bind(2, row).run();
  }
  tx.commit();
}

std::string input_name(const InputRecord& input) {
  for (const char* key : {"given_name", "name"})
    if (input.config.is_object() && input.config.contains(key) && input.config[key].is_string() &&
        !input.config[key].get<std::string>().empty())
      return input.config[key].get<std::string>();
  return fs::path(input.path).filename().string();
}

std::optional<InputRecord> Workspace::input(int64_t id) {
  Statement s = db_.prepare(
      "SELECT id, kind, path, content_hash, config, added_at FROM inputs WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_input(s);
}

std::vector<InputRecord> Workspace::inputs(std::optional<InputKind> kind) {
  Statement s = db_.prepare(
      "SELECT id, kind, path, content_hash, config, added_at FROM inputs "
      "WHERE ?1 IS NULL OR kind = ?1 ORDER BY id");
  if (kind) s.bind(1, to_string(*kind));
  else s.bind_null(1);
  std::vector<InputRecord> out;
  while (s.step())
    out.push_back(read_input(s));
  return out;
}

std::string Workspace::result_key(const std::string& kind,
                                  const std::vector<std::string>& input_hashes,
                                  const nlohmann::json& params) {
  // nlohmann::json objects are sorted maps, so dump() is canonical.
  Sha256 h;
  h.update(kind);
  for (const auto& ih : input_hashes) {
    h.update("|", 1);
    h.update(ih);
  }
  h.update("|", 1);
  h.update(params.dump());
  return h.hex_digest();
}

InputRecord Workspace::read_input(Statement& s) {
  const int64_t id = s.column_int(0);
  InputKind kind;
  try {
    kind = input_kind_from_string(s.column_text(1));
  } catch (const InputError& e) {
    throw damaged_workspace(path(), "input " + std::to_string(id) + ": " + e.what());
  }
  return InputRecord{id, kind, s.column_text(2), s.column_text(3),
                     stored_object(s, 4, path(), "input " + std::to_string(id) + "'s config", false),
                     s.column_text(5)};
}

ResultRecord Workspace::read_result(Statement& s) {
  ResultRecord r;
  r.id = s.column_int(0);
  const std::string of = "result " + std::to_string(r.id) + "'s ";
  r.key = s.column_text(1);
  r.kind = s.column_text(2);
  r.model_id = optional_int(s, 3);
  r.sae_id = optional_int(s, 4);
  r.data_id = optional_int(s, 5);
  r.params = stored_object(s, 6, path(), of + "params", false);
  r.done = s.column_text(7) == "done";
  r.progress = stored_object(s, 8, path(), of + "progress", true);
  r.metrics = stored_object(s, 9, path(), of + "metrics", true);
  r.created_at = s.column_text(10);
  r.finished_at = s.column_text(11);
  return r;
}

std::optional<ResultRecord> Workspace::find_result(const std::string& key) {
  Statement s = db_.prepare(std::string("SELECT ") + kResultColumns + " FROM results WHERE key = ?");
  s.bind(1, key);
  if (!s.step()) return std::nullopt;
  return read_result(s);
}

std::optional<ResultRecord> Workspace::result(int64_t id) {
  Statement s = db_.prepare(std::string("SELECT ") + kResultColumns + " FROM results WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_result(s);
}

std::vector<ResultRecord> Workspace::results(const std::string& kind) {
  Statement s = db_.prepare(std::string("SELECT ") + kResultColumns +
                            " FROM results WHERE ?1 = '' OR kind = ?1 ORDER BY id");
  s.bind(1, kind);
  std::vector<ResultRecord> out;
  while (s.step()) out.push_back(read_result(s));
  return out;
}

int64_t Workspace::begin_result(const std::string& key, const std::string& kind,
                                std::optional<int64_t> model_id, std::optional<int64_t> sae_id,
                                std::optional<int64_t> data_id, const nlohmann::json& params) {
  if (auto existing = find_result(key)) {
    if (existing->done)
      throw InternalError(path() + ": result " + key + " is already complete");
    return existing->id;
  }
  Statement s = db_.prepare(
      "INSERT INTO results (key, kind, model_id, sae_id, data_id, params, status) "
      "VALUES (?, ?, ?, ?, ?, ?, 'running')");
  s.bind(1, key).bind(2, kind);
  bind_optional(s, 3, model_id);
  bind_optional(s, 4, sae_id);
  bind_optional(s, 5, data_id);
  s.bind(6, params.dump());
  s.run();
  return db_.last_insert_rowid();
}

void Workspace::set_progress(int64_t id, const nlohmann::json& progress) {
  Statement s = db_.prepare("UPDATE results SET progress = ? WHERE id = ? AND status = 'running'");
  s.bind(1, progress.dump()).bind(2, id).run();
}

void Workspace::finish_result(int64_t id, const nlohmann::json& metrics) {
  Statement s = db_.prepare(
      "UPDATE results SET status = 'done', metrics = ?, progress = NULL, "
      "finished_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?");
  s.bind(1, metrics.dump()).bind(2, id).run();
}

void Workspace::delete_result(int64_t id) {
  Statement s = db_.prepare("DELETE FROM results WHERE id = ?");
  s.bind(1, id).run();
}

void Workspace::set_note(const std::string& sae_hash, int64_t feature, const std::string& label,
                         const std::string& note) {
  Statement s = db_.prepare(
      "INSERT OR REPLACE INTO notes (sae_hash, feature, label, note) VALUES (?, ?, ?, ?)");
  s.bind(1, sae_hash).bind(2, feature).bind(3, label).bind(4, note).run();
}

std::optional<std::pair<std::string, std::string>> Workspace::note(const std::string& sae_hash,
                                                                   int64_t feature) {
  Statement s = db_.prepare("SELECT label, note FROM notes WHERE sae_hash = ? AND feature = ?");
  s.bind(1, sae_hash).bind(2, feature);
  if (!s.step()) return std::nullopt;
  return std::make_pair(s.column_text(0), s.column_text(1));
}

}  // namespace saescope::store
