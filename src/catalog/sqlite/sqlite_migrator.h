// Applies and reverts the SQLite schema migrations (catalog/migrations) on a connection.
//
// Applied versions live in `schema_migrations(version, name, applied_at)`, created on
// first use. MigrateSqlite() moves the schema to `target` one migration at a time, each
// in its own BEGIN IMMEDIATE transaction that also records (or removes) its row, so a
// failing migration leaves the schema at the previous version and two processes opening
// a fresh file at once apply each migration exactly once (the second one finds it
// recorded once it gets the write lock).
//
// Refused with kConflict: a database recording a version newer than the list knows (a
// newer reprise wrote it; this binary must not guess at its schema), or one whose
// recorded names or versions disagree with the list (a diverged build).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "catalog/migrations/migrations.h"
#include "catalog/sqlite/sqlite_connection.h"
#include "core/clock.h"
#include "core/error.h"

namespace reprise::catalog {

struct AppliedMigration {
  int version = 0;
  std::string name;
  int64_t applied_at = 0;  // UTC microseconds
};

// Rows of schema_migrations ascending by version; empty for a fresh database.
[[nodiscard]] Result<std::vector<AppliedMigration>> ReadAppliedMigrations(
    SqliteConnection& connection);

// The highest applied version, 0 for a fresh database.
[[nodiscard]] Result<int> AppliedSchemaVersion(SqliteConnection& connection);

// Moves the schema up or down to `target` (0 reverts everything).
[[nodiscard]] Result<void> MigrateSqlite(SqliteConnection& connection,
                                         std::span<const Migration> migrations, int target,
                                         const Clock& clock);

}  // namespace reprise::catalog
