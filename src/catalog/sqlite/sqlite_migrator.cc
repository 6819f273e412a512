#include "catalog/sqlite/sqlite_migrator.h"

#include <string_view>
#include <utility>

namespace reprise::catalog {
namespace {

constexpr std::string_view kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER NOT NULL PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at BIGINT NOT NULL)";

Result<void> CheckList(std::span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return Fail(ErrorCode::kInternal, "migration list is not numbered 1, 2, 3, ... (entry " +
                                            std::to_string(i) + " has version " +
                                            std::to_string(migrations[i].version) + ")");
    }
  }
  return {};
}

Result<std::vector<AppliedMigration>> ReadRows(SqliteConnection& connection) {
  auto select = connection.Prepare(
      "SELECT version, name, applied_at FROM schema_migrations ORDER BY version");
  if (!select) return Fail(std::move(select.error()));
  std::vector<AppliedMigration> rows;
  while (true) {
    auto row = select->Step();
    if (!row) return Fail(std::move(row.error()));
    if (!*row) break;
    rows.push_back({static_cast<int>(select->Int64(0)), select->Text(1), select->Int64(2)});
  }
  return rows;
}

// Compares what the database recorded with what this binary knows.
Result<int> CheckApplied(const SqliteConnection& connection,
                         const std::vector<AppliedMigration>& applied,
                         std::span<const Migration> migrations) {
  const int latest = static_cast<int>(migrations.size());
  const std::string where = "catalog " + connection.path();
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

// Applies or reverts the one migration next to the recorded version; returns false when
// the schema is already at `target`.
Result<bool> Step(SqliteConnection& connection, std::span<const Migration> migrations, int target,
                  const Clock& clock) {
  auto txn = Transaction::Begin(connection, Transaction::Mode::kImmediate);
  if (!txn) return Fail(std::move(txn.error()));
  REPRISE_TRY(connection.Exec(kCreateTable));
  auto applied = ReadRows(connection);
  if (!applied) return Fail(std::move(applied.error()));
  auto current = CheckApplied(connection, *applied, migrations);
  if (!current) return Fail(std::move(current.error()));
  if (*current == target) {
    REPRISE_TRY(txn->Commit());
    return false;
  }

  const bool up = *current < target;
  const Migration& migration = migrations[up ? *current : *current - 1];
  const std::string what = std::string(up ? "applying" : "reverting") + " migration " +
                           std::to_string(migration.version) + " (" + std::string(migration.name) +
                           ") to catalog " + connection.path();
  auto ran = connection.Exec(up ? migration.up_sql : migration.down_sql);
  if (!ran) return Fail(ran.error().Wrap(what));
  if (up) {
    auto record = connection.Prepare(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
    if (!record) return Fail(std::move(record.error()));
    record->BindInt64(migration.version).BindText(migration.name).BindInt64(clock.NowMicros());
    auto done = record->Run();
    if (!done) return Fail(done.error().Wrap(what));
  } else {
    auto remove = connection.Prepare("DELETE FROM schema_migrations WHERE version = ?");
    if (!remove) return Fail(std::move(remove.error()));
    remove->BindInt64(migration.version);
    auto done = remove->Run();
    if (!done) return Fail(done.error().Wrap(what));
  }
  auto committed = txn->Commit();
  if (!committed) return Fail(committed.error().Wrap(what));
  return true;
}

}  // namespace

Result<std::vector<AppliedMigration>> ReadAppliedMigrations(SqliteConnection& connection) {
  auto txn = Transaction::Begin(connection, Transaction::Mode::kDeferred);
  if (!txn) return Fail(std::move(txn.error()));
  bool table_exists = false;
  {
    auto exists = connection.Prepare(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
    if (!exists) return Fail(std::move(exists.error()));
    auto row = exists->Step();
    if (!row) return Fail(std::move(row.error()));
    table_exists = *row;
  }
  std::vector<AppliedMigration> applied;
  if (table_exists) {
    auto rows = ReadRows(connection);
    if (!rows) return Fail(std::move(rows.error()));
    applied = std::move(*rows);
  }
  REPRISE_TRY(txn->Commit());
  return applied;
}

Result<int> AppliedSchemaVersion(SqliteConnection& connection) {
  auto applied = ReadAppliedMigrations(connection);
  if (!applied) return Fail(std::move(applied.error()));
  return applied->empty() ? 0 : applied->back().version;
}

Result<void> MigrateSqlite(SqliteConnection& connection, std::span<const Migration> migrations,
                           int target, const Clock& clock) {
  REPRISE_TRY(CheckList(migrations));
  if (target < 0 || target > static_cast<int>(migrations.size())) {
    return Fail(ErrorCode::kInvalidArgument, "schema version " + std::to_string(target) +
                                                 " does not exist (known: 0.." +
                                                 std::to_string(migrations.size()) + ")");
  }
  while (true) {
    auto moved = Step(connection, migrations, target, clock);
    if (!moved) return Fail(std::move(moved.error()));
    if (!*moved) return {};
  }
}

}  // namespace reprise::catalog
