#include "catalog/postgres/pg_migrator.h"

#include <string_view>
#include <utility>

#include "catalog/postgres/pg_query.h"

namespace reprise::catalog {
namespace {

constexpr std::string_view kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER NOT NULL PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at BIGINT NOT NULL)";

// Any constant works as long as every reprise uses the same one: "reprise migrate".
constexpr int64_t kMigrationLock = 0x7265707269736501;

std::vector<PgAppliedMigration> ReadRows(pqxx::work& tx) {
  std::vector<PgAppliedMigration> rows;
  for (const auto& row :
       Exec(tx, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version")) {
    rows.push_back({static_cast<int>(Int(row[0])), Text(row[1]), Int(row[2])});
  }
  return rows;
}

Result<int> CheckApplied(const std::string& where, const std::vector<PgAppliedMigration>& applied,
                         std::span<const Migration> migrations) {
  const int latest = static_cast<int>(migrations.size());
  if (!applied.empty() && applied.back().version > latest) {
    return Fail(ErrorCode::kConflict,
                where + " has schema version " + std::to_string(applied.back().version) + " (\"" +
                    applied.back().name +
                    "\"), newer than the newest this build of reprise knows (" +
                    std::to_string(latest) + "); use a newer reprise");
  }
  for (size_t i = 0; i < applied.size(); ++i) {
    const Migration& known = migrations[i];
    if (applied[i].version != known.version || applied[i].name != known.name) {
      return Fail(ErrorCode::kConflict,
                  where + " records migration " + std::to_string(applied[i].version) + " \"" +
                      applied[i].name + "\" where this build expects " +
                      std::to_string(known.version) + " \"" + std::string(known.name) +
                      "\"; the schema was made by a different build");
    }
  }
  return applied.empty() ? 0 : applied.back().version;
}

// Applies or reverts the one migration next to the recorded version; false when the
// schema is already at `target`.
Result<bool> Step(PgPool& pool, std::span<const Migration> migrations, int target,
                  const Clock& clock) {
  const std::string where = "catalog " + RedactPgUrl(pool.url());
  return pool.Transact(PgRetry::kYes, [&](pqxx::work& tx) -> Result<bool> {
    Exec(tx, "SELECT pg_advisory_xact_lock($1)", kMigrationLock);
    Exec(tx, std::string(kCreateTable));
    auto current = CheckApplied(where, ReadRows(tx), migrations);
    if (!current) return Fail(std::move(current.error()));
    if (*current == target) return false;
    const bool up = *current < target;
    const Migration& migration = migrations[up ? *current : *current - 1];
    try {
      tx.exec(std::string(up ? migration.up_sql : migration.down_sql));
    } catch (const pqxx::sql_error& e) {
      return Fail(PgError(e).Wrap(std::string(up ? "applying" : "reverting") + " migration " +
                                  std::to_string(migration.version) + " (" +
                                  std::string(migration.name) + ") to " + where));
    }
    if (up) {
      Exec(tx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
           migration.version, migration.name, clock.NowMicros());
    } else {
      Exec(tx, "DELETE FROM schema_migrations WHERE version = $1", migration.version);
    }
    return true;
  });
}

}  // namespace

Result<std::vector<PgAppliedMigration>> ReadPgMigrations(PgPool& pool) {
  return pool.Transact(
      PgRetry::kYes, [&](pqxx::work& tx) -> Result<std::vector<PgAppliedMigration>> {
        auto exists = Exec(tx, "SELECT to_regclass('schema_migrations') IS NOT NULL");
        if (exists.empty() || !exists[0][0].as<bool>()) return std::vector<PgAppliedMigration>{};
        return ReadRows(tx);
      });
}

Result<void> MigratePostgres(PgPool& pool, std::span<const Migration> migrations, int target,
                             const Clock& clock) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return Fail(ErrorCode::kInternal, "migration list is not numbered 1, 2, 3, ...");
    }
  }
  if (target < 0 || target > static_cast<int>(migrations.size())) {
    return Fail(ErrorCode::kInvalidArgument, "schema version " + std::to_string(target) +
                                                 " does not exist (known: 0.." +
                                                 std::to_string(migrations.size()) + ")");
  }
  while (true) {
    auto moved = Step(pool, migrations, target, clock);
    if (!moved) return Fail(std::move(moved.error()));
    if (!*moved) return {};
  }
}

}  // namespace reprise::catalog
