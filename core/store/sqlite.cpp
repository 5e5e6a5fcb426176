#include "core/store/sqlite.h"

#include <sqlite3.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <chrono>
#include <filesystem>
#include <thread>

#include "core/common/error.h"

namespace saescope::store {
namespace {

// How long a write waits for another process's write to finish.
constexpr int kBusyTimeoutMs = 5000;

// SQLite's verdicts on the file rather than on our SQL: the user's input is at
// fault (exit 2). "unsupported file format" is SQLITE_ERROR with that text
// (a schema format newer than this SQLite); READONLY and CANTOPEN are the
// file's or folder's permissions.
// The disk refused (SQLITE_FULL, or SQLITE_IOERR: a write that failed with
// ENOSPC, EFBIG or EDQUOT — a full disk, a file-size limit, a quota — or a
// failing disk; SQLite does not always keep the errno): the machine's state,
// not a bug, and what the person can mend.
bool out_of_space(int rc, sqlite3*) {
  const int primary = rc & 0xff;
  return primary == SQLITE_FULL || primary == SQLITE_IOERR;
}

// Another process held the workspace's write lock past the busy timeout (a
// long harvest commit in the app while the CLI writes, say).
bool busy(int rc) {
  const int primary = rc & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

bool file_at_fault(int rc, sqlite3* db) {
  const int primary = rc & 0xff;
  if (busy(rc)) return true;
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB || primary == SQLITE_READONLY ||
      primary == SQLITE_CANTOPEN || primary == SQLITE_FORMAT || out_of_space(rc, db))
    return true;
  return primary == SQLITE_ERROR && db && std::strcmp(sqlite3_errmsg(db), "unsupported file format") == 0;
}

// A path as an SQLite URI ("file:///abs?mode=ro"): '%', '?' and '#' in it
// must not be read as URI syntax.
std::string file_uri(const std::string& path) {
  const std::string abs = std::filesystem::absolute(path).lexically_normal().string();
  std::string uri = "file://";
  for (unsigned char c : abs) {
    if (c == '%' || c == '?' || c == '#' || c < 0x20) {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      uri += hex;
    } else {
      uri += static_cast<char>(c);
    }
  }
  return uri;
}

}  // namespace

Statement::Statement(sqlite3* db, const std::string& sql, const std::string& file)
    : db_(db), file_(file) {
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (file_at_fault(rc, db_)) throw InputError(file_ + ": " + sqlite3_errmsg(db_));
  if (rc != SQLITE_OK)
    throw InternalError(file_ + ": cannot prepare SQL (" + sqlite3_errmsg(db_) + "): " + sql);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(other.stmt_), file_(std::move(other.file_)) {
  other.stmt_ = nullptr;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

// " (the disk is full ...: File too large)" when the failure was out of space.
static std::string space_hint(int rc, sqlite3* db) {
  if (busy(rc))
    return " (another process — the app, or another saescope-cli — is writing this workspace and held it for "
           "longer than " + std::to_string(kBusyTimeoutMs / 1000) + " s; nothing was changed here: run this again when it is done)";
  if (!out_of_space(rc, db)) return "";
  const int e = db ? sqlite3_system_errno(db) : 0;
  return std::string(" (is the disk full, the file at a size limit, or the disk failing?") +
         (e ? " " + std::string(std::strerror(e)) + ";" : "") + " what was saved before is kept)";
}

void Statement::check(int rc, const char* what) const {
  if (rc == SQLITE_OK) return;
  const std::string msg = file_ + ": " + what + ": " + sqlite3_errmsg(db_) + space_hint(rc, db_);
  if (file_at_fault(rc, db_)) throw InputError(msg);
  throw InternalError(msg);
}

Statement& Statement::bind(int i, int64_t v) {
  check(sqlite3_bind_int64(stmt_, i, v), "bind");
  return *this;
}
Statement& Statement::bind(int i, double v) {
  check(sqlite3_bind_double(stmt_, i, v), "bind");
  return *this;
}
Statement& Statement::bind(int i, const std::string& t) {
  check(sqlite3_bind_text(stmt_, i, t.data(), static_cast<int>(t.size()), SQLITE_TRANSIENT),
        "bind");
  return *this;
}
Statement& Statement::bind_blob(int i, const void* data, size_t size) {
  check(sqlite3_bind_blob64(stmt_, i, size ? data : "", size, SQLITE_TRANSIENT), "bind");
  return *this;
}
Statement& Statement::bind_null(int i) {
  check(sqlite3_bind_null(stmt_, i), "bind");
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  check(rc, "step");
  return false;
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::column_int(int c) const { return sqlite3_column_int64(stmt_, c); }
double Statement::column_double(int c) const { return sqlite3_column_double(stmt_, c); }
std::string Statement::column_text(int c) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, c))) : std::string();
}
bool Statement::column_is_null(int c) const {
  return sqlite3_column_type(stmt_, c) == SQLITE_NULL;
}
const void* Statement::column_blob(int c) const { return sqlite3_column_blob(stmt_, c); }
size_t Statement::column_bytes(int c) const {
  return static_cast<size_t>(sqlite3_column_bytes(stmt_, c));
}

Database::Database(const std::string& path, bool create) : path_(path) {
  open(path, SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0));
}

Database::Database(const std::string& path, Access access) : path_(path) {
  if (access == Access::ReadWrite) {
    open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    return;
  }
  // A WAL reader needs the -shm (and creates it, and a -wal, when missing).
  // Without a -wal no writer is open and nothing is left uncheckpointed, so
  // the file alone is the whole database: immutable reads it without locks
  // or a -shm, which also works in a folder the user cannot write to.
  std::error_code ec;
  const bool wal_present = std::filesystem::exists(path + "-wal", ec);
  open(file_uri(path) + (wal_present ? "?mode=ro" : "?mode=ro&immutable=1"),
       SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
}

void Database::open(const std::string& target, int flags) {
  int rc = sqlite3_open_v2(target.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw InputError(path_ + ": cannot open workspace (" + msg + ")");
  }
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
}

Database::~Database() { sqlite3_close(db_); }

void Database::exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = path_ + ": " + (err ? err : "SQL error") + space_hint(rc, db_);
    sqlite3_free(err);
    if (file_at_fault(rc, db_)) throw InputError(msg);
    throw InternalError(msg);
  }
}

// SQLite answers SQLITE_BUSY at once, without its busy handler, when the
// journal mode is changed while another connection opens or changes it (two
// commands creating one workspace together); so the wait is done here, for
// as long as the busy timeout.
void Database::enable_wal() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
  for (;;) {
    const int rc = sqlite3_exec(db_, "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr);
    if (!busy(rc) || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  exec("PRAGMA journal_mode = WAL");  // done already, or its error reported as exec reports it
}

int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

int Database::user_version() {
  Statement s = prepare("PRAGMA user_version");
  return s.step() ? static_cast<int>(s.column_int(0)) : 0;
}

void Database::set_user_version(int v) {
  // PRAGMA takes no bound parameters; v is an integer we produced.
  exec("PRAGMA user_version = " + std::to_string(v));
}

Transaction::Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }
Transaction::~Transaction() {
  if (!done_) {
    try {
      db_.exec("ROLLBACK");
    } catch (...) {
    }
  }
}
void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace saescope::store
