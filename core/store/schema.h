#pragma once
// The workspace schema, as forward migrations. Version N of a workspace file
// is `PRAGMA user_version`; migrate() brings any earlier version to current.
// Documented for users in core/store/SCHEMA.md.
#include <string>
#include <vector>

namespace saescope::store {

class Database;

// migrations()[i] takes a workspace from version i to i + 1.
const std::vector<std::string>& migrations();
inline int current_schema_version() { return static_cast<int>(migrations().size()); }

// Applies every missing migration inside one transaction. Throws InputError if
// the file is from a newer SAEScope (version above current).
void migrate(Database& db);

}  // namespace saescope::store
