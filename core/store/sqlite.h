#pragma once
// A thin RAII layer over SQLite3: one connection, prepared statements only
// (values are always bound, never spliced into SQL text), transactions.
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace saescope::store {

class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql, const std::string& file);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept;

  // Bind by 1-based index; chainable. Blobs are copied by SQLite.
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
  Statement& bind(int index, double value);
  Statement& bind(int index, const std::string& text);
  Statement& bind(int index, const char* text) { return bind(index, std::string(text)); }
  Statement& bind_blob(int index, const void* data, size_t size);
  Statement& bind_null(int index);

  bool step();   // true while a row is available; throws on error
  void run();    // step to completion (INSERT/UPDATE)
  void reset();  // ready for new bindings

  int64_t column_int(int col) const;
  double column_double(int col) const;
  std::string column_text(int col) const;
  bool column_is_null(int col) const;
  const void* column_blob(int col) const;
  size_t column_bytes(int col) const;
  template <typename T>
  std::vector<T> column_vector(int col) const {  // a blob of packed T
    std::vector<T> out(column_bytes(col) / sizeof(T));
    if (!out.empty()) std::memcpy(out.data(), column_blob(col), out.size() * sizeof(T));
    return out;
  }

 private:
  void check(int rc, const char* what) const;
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string file_;
};

// ReadOnly never writes: not the file, not a -wal or -shm beside it.
enum class Access { ReadWrite, ReadOnly };

class Database {
 public:
  // Opens (creating when `create`) the SQLite file; throws InputError naming it.
  Database(const std::string& path, bool create);
  // ReadWrite: as Database(path, true). ReadOnly: an existing file, as
  // described at Access.
  Database(const std::string& path, Access access);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& path() const { return path_; }
  void exec(const std::string& sql);  // DDL or pragmas without parameters
  // journal_mode = WAL, waiting out another connection switching it at the same moment.
  void enable_wal();
  Statement prepare(const std::string& sql) { return Statement(db_, sql, path_); }
  int64_t last_insert_rowid() const;
  int user_version();
  void set_user_version(int v);
  sqlite3* handle() { return db_; }

 private:
  void open(const std::string& target, int flags);
  sqlite3* db_ = nullptr;
  std::string path_;
};

// BEGIN IMMEDIATE on construction; ROLLBACK unless commit() was called.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  void commit();

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace saescope::store
