#pragma once
// A workspace: one SQLite file (WAL) holding the inputs an analyst works with
// (models, SAEs, corpora, sense datasets: paths + content hashes + configs) and
// every result computed from them. Results are keyed by the content hashes and
// parameters that produced them, so a changed file or parameter never returns a
// stale result and an identical request never recomputes.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/store/sqlite.h"

namespace saescope::store {

enum class InputKind { Model, Sae, Corpus, Dataset };
const char* to_string(InputKind kind);
InputKind input_kind_from_string(const std::string& s);  // throws InputError

struct InputRecord {
  int64_t id = 0;
  InputKind kind = InputKind::Model;
  std::string path;
  std::string content_hash;
  nlohmann::json config;
  std::string added_at;
};

struct ResultRecord {
  int64_t id = 0;
  std::string key;
  std::string kind;  // "harvest", "reconstruction", "pseval", ...
  std::optional<int64_t> model_id, sae_id, data_id;
  nlohmann::json params;
  bool done = false;
  nlohmann::json progress;  // resume state while running
  nlohmann::json metrics;   // summary once done
  std::string created_at, finished_at;
};

// What an input is called: the name a person gave it (Workspace::set_input_name),
// else the one read from its files (a model: config.json's _name_or_path, or
// its folder, or the folder's parent for a folder called "model"), else its
// file or folder name.
std::string input_name(const InputRecord& input);

// Thrown when PRAGMA integrity_check fails, the file is not SQLite, or a
// workspace's tables or stored JSON are broken: recover() helps.
class WorkspaceDamaged : public InputError {
 public:
  using InputError::InputError;
};

// Thrown, before anything is written, for a sound SQLite file that is not a
// workspace this SAEScope may use (another program's database, a newer
// schema, an empty file a read-only command was given): recover() would
// move someone else's file aside, so it is not offered.
class NotAWorkspace : public InputError {
 public:
  using InputError::InputError;
};

// The WorkspaceDamaged for `problem` in `path`, with the recover hint.
WorkspaceDamaged damaged_workspace(const std::string& path, const std::string& problem);

struct RecoveryReport {
  std::string damaged_copy;  // where the damaged file was moved
  int inputs_kept = 0;
  int notes_kept = 0;
  std::vector<std::string> problems;  // what could not be carried over
};

// PRAGMA integrity_check reads every page: ~1 s for a 120 MB workspace here.
enum class IntegrityCheck { Full, Skip };

class Workspace {
 public:
  // Opens or creates `path`; checks integrity (unless told to skip: the GUI
  // checks in the background, jobs reopen what their caller checked),
  // migrates older schemas. A file that is not SQLite is WorkspaceDamaged
  // either way. Access::ReadOnly (commands that only read) needs an existing
  // workspace at the current schema and never writes to it or beside it.
  static std::unique_ptr<Workspace> open(const std::string& path,
                                         IntegrityCheck check = IntegrityCheck::Full,
                                         Access access = Access::ReadWrite);
  // The full check alone, on a separate connection (safe while the file is
  // open elsewhere): "" when sound, else the same message WorkspaceDamaged has.
  // `cancelled` is polled (every 20 ms) while SQLite reads the pages; when it
  // returns true the check is interrupted and throws Cancelled.
  static std::string check_integrity(const std::string& path,
                                     const std::function<bool()>& cancelled = {});
  // Moves a damaged workspace aside, creates a fresh one at `path` and carries
  // over what the user entered (inputs, notes); results are recomputable.
  static RecoveryReport recover(const std::string& path);

  const std::string& path() const { return db_.path(); }
  Database& db() { return db_; }
  bool read_only() const { return read_only_; }

  // sha256 of a file, or of a folder's regular files (names and contents,
  // sorted); cached by (path, size, mtime) so big checkpoints hash once.
  std::string content_hash(const std::string& path);

  // Registers (or finds) the input; a changed file gets a new row.
  int64_t register_input(InputKind kind, const std::string& path,
                         const nlohmann::json& config = nlohmann::json::object());
  std::optional<InputRecord> input(int64_t id);
  std::vector<InputRecord> inputs(std::optional<InputKind> kind = std::nullopt);
  // The name a person gave an input (a model: "my-gpt2"), kept in its config
  // as "given_name" for every row of its path, also rows a changed file adds
  // later; "" takes it back. InputError for an unknown id.
  void set_input_name(int64_t id, const std::string& name);

  // Key of a result = sha256(kind, the inputs' content hashes, canonical params).
  static std::string result_key(const std::string& kind,
                                const std::vector<std::string>& input_hashes,
                                const nlohmann::json& params);
  std::optional<ResultRecord> find_result(const std::string& key);
  std::optional<ResultRecord> result(int64_t id);
  std::vector<ResultRecord> results(const std::string& kind = "");
  // Starts a result (status running) or returns the running one with this key,
  // whose `progress` tells where to resume. Throws if it is already done.
  int64_t begin_result(const std::string& key, const std::string& kind,
                       std::optional<int64_t> model_id, std::optional<int64_t> sae_id,
                       std::optional<int64_t> data_id, const nlohmann::json& params);
  void set_progress(int64_t result_id, const nlohmann::json& progress);
  void finish_result(int64_t result_id, const nlohmann::json& metrics);
  void delete_result(int64_t result_id);

  // User-entered feature labels and notes, keyed by the SAE's content hash.
  void set_note(const std::string& sae_hash, int64_t feature, const std::string& label,
                const std::string& note);
  std::optional<std::pair<std::string, std::string>> note(const std::string& sae_hash,
                                                          int64_t feature);

 private:
  Workspace(const std::string& path, Access access);
  InputRecord read_input(Statement& s);
  ResultRecord read_result(Statement& s);
  std::string file_hash(const std::string& path);
  Database db_;
  bool read_only_ = false;
};

// Runs `read`, code that interprets JSON stored in `ws`. A stored value of an
// unexpected type (the file was edited outside SAEScope) is the file's fault:
// WorkspaceDamaged naming it instead of nlohmann's type_error.
template <typename F>
auto reading_stored_json(const Workspace& ws, F&& read) -> decltype(read()) {
  try {
    return read();
  } catch (const nlohmann::json::type_error& e) {
    throw damaged_workspace(ws.path(), std::string("a stored value has an unexpected type: ") + e.what());
  }
}

}  // namespace saescope::store
