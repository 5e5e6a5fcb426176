#include "core/store/schema.h"

#include "core/common/error.h"
#include "core/store/sqlite.h"

namespace saescope::store {

const std::vector<std::string>& migrations() {
  static const std::vector<std::string> all = {
      // 0 -> 1: inputs, results and their tables.
      R"SQL(
CREATE TABLE inputs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('model', 'sae', 'corpus', 'dataset')),
  path TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  config TEXT NOT NULL DEFAULT '{}',
  added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  UNIQUE (kind, path, content_hash)
);
CREATE TABLE file_hashes (
  path TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  sha256 TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE results (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  model_id INTEGER REFERENCES inputs(id),
  sae_id INTEGER REFERENCES inputs(id),
  data_id INTEGER REFERENCES inputs(id),
  params TEXT NOT NULL DEFAULT '{}',
  status TEXT NOT NULL CHECK (status IN ('running', 'done')),
  progress TEXT,
  metrics TEXT,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  finished_at TEXT
);
CREATE INDEX results_by_sae ON results (sae_id, kind);
CREATE TABLE vocab (
  model_id INTEGER NOT NULL REFERENCES inputs(id),
  token_id INTEGER NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (model_id, token_id)
) WITHOUT ROWID;
CREATE TABLE features (
  result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
  feature INTEGER NOT NULL,
  fire_count INTEGER NOT NULL,
  density REAL NOT NULL,
  max_act REAL NOT NULL,
  mean_act REAL NOT NULL,
  top_tokens TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (result_id, feature)
) WITHOUT ROWID;
CREATE TABLE histograms (
  result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
  feature INTEGER NOT NULL,
  bins BLOB NOT NULL,
  PRIMARY KEY (result_id, feature)
) WITHOUT ROWID;
CREATE TABLE windows (
  result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
  window INTEGER NOT NULL,
  token_bytes INTEGER NOT NULL CHECK (token_bytes IN (2, 4)),
  tokens BLOB NOT NULL,
  PRIMARY KEY (result_id, window)
) WITHOUT ROWID;
CREATE TABLE examples (
  result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
  feature INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  interval INTEGER NOT NULL,
  rank INTEGER NOT NULL,
  window INTEGER NOT NULL,
  positions BLOB NOT NULL,
  activations BLOB NOT NULL,
  max_pos INTEGER NOT NULL,
  PRIMARY KEY (result_id, feature, kind, interval, rank)
) WITHOUT ROWID;
CREATE TABLE intervals (
  result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
  feature INTEGER NOT NULL,
  interval INTEGER NOT NULL,
  lo REAL NOT NULL,
  hi REAL NOT NULL,
  fraction REAL NOT NULL,
  PRIMARY KEY (result_id, feature, interval)
) WITHOUT ROWID;
CREATE TABLE logit_effects (
  result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
  feature INTEGER NOT NULL,
  sign INTEGER NOT NULL,
  rank INTEGER NOT NULL,
  token_id INTEGER NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (result_id, feature, sign, rank)
) WITHOUT ROWID;
CREATE TABLE pseval_words (
  result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
  word TEXT NOT NULL,
  tp INTEGER NOT NULL, fp INTEGER NOT NULL, tn INTEGER NOT NULL, fn INTEGER NOT NULL,
  PRIMARY KEY (result_id, word)
) WITHOUT ROWID;
CREATE TABLE word_scores (
  result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
  word TEXT NOT NULL,
  occurrences INTEGER NOT NULL,
  purity REAL NOT NULL,
  nmi REAL NOT NULL,
  PRIMARY KEY (result_id, word)
) WITHOUT ROWID;
CREATE TABLE senses (
  result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
  word TEXT NOT NULL,
  sense_id TEXT NOT NULL,
  gloss TEXT NOT NULL,
  PRIMARY KEY (result_id, word, sense_id)
) WITHOUT ROWID;
CREATE TABLE sense_occurrences (
  result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
  occurrence INTEGER NOT NULL,
  word TEXT NOT NULL,
  sense_id TEXT NOT NULL,
  context TEXT NOT NULL,
  char_start INTEGER NOT NULL,
  char_end INTEGER NOT NULL,
  argmax_feature INTEGER NOT NULL,
  activation REAL NOT NULL,
  pca_x REAL NOT NULL,
  pca_y REAL NOT NULL,
  PRIMARY KEY (result_id, occurrence)
) WITHOUT ROWID;
CREATE INDEX sense_occurrences_by_word ON sense_occurrences (result_id, word);
)SQL",
      // 1 -> 2: user-entered feature labels and notes (kept through recovery).
      R"SQL(
CREATE TABLE notes (
  sae_hash TEXT NOT NULL,
  feature INTEGER NOT NULL,
  label TEXT NOT NULL DEFAULT '',
  note TEXT NOT NULL DEFAULT '',
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  PRIMARY KEY (sae_hash, feature)
) WITHOUT ROWID;
)SQL",
  };
  return all;
}

const std::set<std::string>& schema_tables(int version) {
  // Read back from the migrations run in memory, so the list cannot drift
  // from the SQL above.
  static const std::vector<std::set<std::string>> by_version = [] {
    std::vector<std::set<std::string>> out(1);
    Database mem(":memory:", /*create=*/true);
    for (const std::string& sql : migrations()) {
      mem.exec(sql);
      Statement s = mem.prepare("SELECT name FROM sqlite_master WHERE type = 'table'");
      out.emplace_back();
      while (s.step()) out.back().insert(s.column_text(0));
    }
    return out;
  }();
  if (version < 0 || version >= static_cast<int>(by_version.size()))
    throw InternalError("schema_tables: no schema version " + std::to_string(version));
  return by_version[static_cast<size_t>(version)];
}

void migrate(Database& db) {
  const int want = current_schema_version();
  if (db.user_version() == want) return;
  // The version is read again under the write lock: another process (two
  // commands creating one new workspace at once) may have migrated it
  // between our first look and our lock, and replaying its CREATE TABLEs
  // would fail with "table already exists".
  Transaction tx(db);
  const int have = db.user_version();
  if (have < 0)  // migrations()[have] would read before the list
    throw InputError(db.path() + ": workspace schema version " + std::to_string(have) +
                     " is not one SAEScope writes: not a SAEScope workspace");
  if (have > want)
    throw InputError(db.path() + ": workspace schema version " + std::to_string(have) +
                     " is newer than this SAEScope understands (" + std::to_string(want) +
                     "); open it with a newer SAEScope");
  if (have == want) return;
  for (int v = have; v < want; ++v) db.exec(migrations()[static_cast<size_t>(v)]);
  db.set_user_version(want);
  tx.commit();
}

}  // namespace saescope::store
