#pragma once
// The workspace schema, as forward migrations. Version N of a workspace file
// is `PRAGMA user_version`; migrate() brings any earlier version to current.
// Documented for users in core/store/SCHEMA.md.
#include <set>
#include <string>
#include <vector>

namespace saescope::store {

class Database;

// migrations()[i] takes a workspace from version i to i + 1.
const std::vector<std::string>& migrations();
inline int current_schema_version() { return static_cast<int>(migrations().size()); }

// The tables a workspace at `version` (0..current) holds.
const std::set<std::string>& schema_tables(int version);

// Applies every missing migration inside one transaction. Throws InputError if
// the version is not one SAEScope wrote (negative) or from a newer SAEScope.
void migrate(Database& db);

}  // namespace saescope::store
