#include "app/backends/migrations.h"

#include <filesystem>
#include <span>
#include <utility>

#include "catalog/migrations/migrations.h"
#include "catalog/postgres/pg_migrator.h"
#include "catalog/postgres/pg_pool.h"
#include "catalog/sqlite/sqlite_connection.h"
#include "catalog/sqlite/sqlite_migrator.h"

namespace reprise::app {
namespace {

struct Applied {
  int version = 0;
  std::string name;
  int64_t applied_at = 0;
};

bool IsPostgres(const std::string& url) {
  return url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0;
}

MigrationStatus Status(std::string catalog, std::span<const catalog::Migration> known,
                       const std::vector<Applied>& applied) {
  MigrationStatus status;
  status.catalog = std::move(catalog);
  status.latest = static_cast<int>(known.size());
  status.current = applied.empty() ? 0 : applied.back().version;
  for (const auto& migration : known) {
    MigrationState state{migration.version, std::string(migration.name), std::nullopt};
    for (const auto& row : applied) {
      if (row.version == migration.version) state.applied_at = row.applied_at;
    }
    status.migrations.push_back(std::move(state));
  }
  return status;
}

// Runs `body(migrations, read, migrate)` for the backend of the configured catalog:
// `read()` gives the applied rows, `migrate(target)` moves the schema.
template <class Body>
Result<MigrationStatus> WithMigrator(const Config& config, bool create, const Clock& clock,
                                     Body&& body) {
  const std::string url = config.ResolvedCatalogUrl();
  if (IsPostgres(url)) {
    catalog::PgPool pool(url, {});
    auto read = [&]() -> Result<std::vector<Applied>> {
      auto rows = catalog::ReadPgMigrations(pool);
      if (!rows) return Fail(std::move(rows.error()));
      std::vector<Applied> applied;
      for (const auto& row : *rows) applied.push_back({row.version, row.name, row.applied_at});
      return applied;
    };
    auto migrate = [&](int target) {
      return catalog::MigratePostgres(pool, catalog::PostgresMigrations(), target, clock);
    };
    return body(catalog::RedactPgUrl(url), catalog::PostgresMigrations(), read, migrate);
  }
  if (url.rfind("sqlite:", 0) == 0) {
    const std::string path = url.substr(std::string_view("sqlite:").size());
    if (create) {
      std::error_code ec;
      auto parent = std::filesystem::path(path).parent_path();
      if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    }
    auto connection = catalog::SqliteConnection::Open(path, create);
    if (!connection) return Fail(std::move(connection.error()));
    auto read = [&]() -> Result<std::vector<Applied>> {
      auto rows = catalog::ReadAppliedMigrations(**connection);
      if (!rows) return Fail(std::move(rows.error()));
      std::vector<Applied> applied;
      for (const auto& row : *rows) applied.push_back({row.version, row.name, row.applied_at});
      return applied;
    };
    auto migrate = [&](int target) {
      return catalog::MigrateSqlite(**connection, catalog::SqliteMigrations(), target, clock);
    };
    return body(url, catalog::SqliteMigrations(), read, migrate);
  }
  return Fail(ErrorCode::kInvalidArgument,
              "catalog URL '" + url +
                  "' names no backend that has migrations (sqlite:PATH, "
                  "postgres://..., postgresql://...)");
}

}  // namespace

Result<MigrationStatus> ReadMigrationStatus(const Config& config) {
  SystemClock clock;  // unused: reading changes nothing
  return WithMigrator(config, /*create=*/false, clock,
                      [](std::string catalog, std::span<const catalog::Migration> known, auto& read,
                         auto&) -> Result<MigrationStatus> {
                        auto applied = read();
                        if (!applied) return Fail(std::move(applied.error()));
                        return Status(std::move(catalog), known, *applied);
                      });
}

Result<MigrationStatus> MigrateCatalog(const Config& config, std::optional<int> target,
                                       const Clock& clock) {
  return WithMigrator(config, /*create=*/target != 0, clock,
                      [&](std::string catalog, std::span<const catalog::Migration> known,
                          auto& read, auto& migrate) -> Result<MigrationStatus> {
                        REPRISE_TRY(migrate(target.value_or(static_cast<int>(known.size()))));
                        auto applied = read();
                        if (!applied) return Fail(std::move(applied.error()));
                        return Status(std::move(catalog), known, *applied);
                      });
}

}  // namespace reprise::app
