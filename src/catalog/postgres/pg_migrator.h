// Applies and reverts the PostgreSQL schema migrations (catalog/migrations) through a
// pool. The bookkeeping is the SQLite migrator's (sqlite_migrator.h): applied versions in
// schema_migrations(version, name, applied_at), one transaction per migration recording
// its row, a database newer than this build or diverged from its list refused with
// kConflict. PostgreSQL's DDL is transactional, so a failing migration leaves nothing
// half done; a transaction-level advisory lock makes processes that migrate one database
// at once take turns, so each migration is applied exactly once.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "catalog/migrations/migrations.h"
#include "catalog/postgres/pg_pool.h"
#include "core/clock.h"
#include "core/error.h"

namespace reprise::catalog {

struct PgAppliedMigration {
  int version = 0;
  std::string name;
  int64_t applied_at = 0;  // UTC microseconds
};

// Rows of schema_migrations ascending by version; empty for a fresh database.
[[nodiscard]] Result<std::vector<PgAppliedMigration>> ReadPgMigrations(PgPool& pool);

// Moves the schema up or down to `target` (0 reverts everything).
[[nodiscard]] Result<void> MigratePostgres(PgPool& pool, std::span<const Migration> migrations,
                                           int target, const Clock& clock);

}  // namespace reprise::catalog
