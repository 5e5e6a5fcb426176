#include "core/store/sqlite.h"

#include <sqlite3.h>

#include "core/common/error.h"

namespace saescope::store {

Statement::Statement(sqlite3* db, const std::string& sql, const std::string& file)
    : db_(db), file_(file) {
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)
    throw InputError(file_ + ": " + sqlite3_errmsg(db_));
  if (rc != SQLITE_OK)
    throw InternalError(file_ + ": cannot prepare SQL (" + sqlite3_errmsg(db_) + "): " + sql);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(other.stmt_), file_(std::move(other.file_)) {
  other.stmt_ = nullptr;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::check(int rc, const char* what) const {
  if (rc == SQLITE_OK) return;
  const std::string msg = file_ + ": " + what + ": " + sqlite3_errmsg(db_);
  if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) throw InputError(msg);
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
  int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw InputError(path + ": cannot open workspace (" + msg + ")");
  }
  sqlite3_busy_timeout(db_, 5000);
}

Database::~Database() { sqlite3_close(db_); }

void Database::exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = path_ + ": " + (err ? err : "SQL error");
    sqlite3_free(err);
    if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) throw InputError(msg);
    throw InternalError(msg);
  }
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
