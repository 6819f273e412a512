// URL imports in the PostgreSQL catalog (the contract is the imports section of
// catalog/catalog.h; the rules are the SQLite backend's, sqlite_imports.cc). A claim takes
// the oldest due import FOR UPDATE SKIP LOCKED, so runners in many processes never take
// the same one; holders lock the row before deciding from it.

#include <fmt/format.h>

#include "catalog/postgres/pg_internal.h"
#include "catalog/rules.h"

namespace reprise::catalog {
namespace {

Result<std::vector<Import>> SelectImports(PgContext& c, const PgQuery& query) {
  std::vector<Import> imports;
  for (const auto& row : Exec(c.tx, query)) {
    auto import = ReadImport(PgRow(row));
    if (!import) return Fail(std::move(import.error()));
    imports.push_back(std::move(*import));
  }
  return imports;
}

Result<Import> LoadImport(PgContext& c, std::string_view id, const AssetFilter& scope) {
  PgQuery query;
  query.sql = "SELECT " + std::string(kImportColumns) + " FROM imports WHERE id = " + query.Add(id);
  if (scope.owner) query.sql += " AND owner = " + query.Add(*scope.owner);
  auto found = SelectImports(c, query);
  if (!found) return Fail(std::move(found.error()));
  if (found->empty()) return Fail(ErrorCode::kNotFound, "import " + std::string(id) + " not found");
  return std::move(found->front());
}

Result<void> InsertImportIn(PgContext& c, const NewImport& import) {
  REPRISE_TRY(CheckNewImport(import));
  // Checked first: a failed statement would end the transaction, and the answers
  // (kNotFound, kConflict) are the same.
  if (import.parent_id &&
      Exec(c.tx, "SELECT 1 FROM assets WHERE id = $1", *import.parent_id).empty()) {
    return Fail(ErrorCode::kNotFound, "parent asset " + *import.parent_id + " not found");
  }
  auto inserted =
      Exec(c.tx,
           "INSERT INTO imports (id, owner, source, url, name, kind, metadata,"
           " parent_id, state, created_at, updated_at)"
           " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)"
           " ON CONFLICT (id) DO NOTHING RETURNING id",
           import.id, import.owner, Name(import.source), import.url, import.name, import.kind,
           DumpJson(import.metadata), import.parent_id, Name(ImportState::kQueued), c.now);
  if (inserted.empty()) {
    return Fail(ErrorCode::kConflict, "import id " + import.id + " is already in use");
  }
  c.change.Add(ChangeTopic::kImports);
  return {};
}

// kConflict unless `runner` holds the import's lease; the row stays locked.
Result<void> CheckHeld(PgContext& c, std::string_view id, std::string_view runner) {
  if (Exec(c.tx,
           "SELECT 1 FROM imports WHERE id = $1 AND state = $2 AND lease_owner = $3 FOR UPDATE", id,
           Name(ImportState::kDownloading), runner)
          .empty()) {
    return Fail(ErrorCode::kConflict, fmt::format("import {} is not held by {}", id, runner));
  }
  return {};
}

}  // namespace

Result<Import> PostgresCatalog::InsertImport(const NewImport& import) {
  return Run(PgRetry::kYes, "inserting import " + import.id, [&](PgContext& c) -> Result<Import> {
    REPRISE_TRY(InsertImportIn(c, import));
    return LoadImport(c, import.id, {});
  });
}

Result<Import> PostgresCatalog::GetImport(std::string_view id, const AssetFilter& scope) {
  return Run(PgRetry::kYes, "reading import " + std::string(id),
             [&](PgContext& c) { return LoadImport(c, id, scope); });
}

Result<std::vector<Import>> PostgresCatalog::ListImports(const AssetFilter& scope,
                                                         const std::vector<ImportState>& states,
                                                         int limit) {
  PgQuery query;
  query.sql = "SELECT " + std::string(kImportColumns) + " FROM imports WHERE true";
  if (scope.owner) query.sql += " AND owner = " + query.Add(*scope.owner);
  if (!states.empty()) {
    std::vector<std::string> names;
    for (auto state : states) names.emplace_back(Name(state));
    query.sql += " AND state = ANY (ARRAY(SELECT jsonb_array_elements_text(" +
                 query.Add(JsonList(names)) + "::jsonb)))";
  }
  query.sql += " ORDER BY created_at DESC, id DESC LIMIT " + query.Add(std::max(1, limit));
  return Run(PgRetry::kYes, "listing imports",
             [&](PgContext& c) { return SelectImports(c, query); });
}

Result<std::optional<Import>> PostgresCatalog::FindImportOfAsset(std::string_view asset_id) {
  PgQuery query;
  query.sql = "SELECT " + std::string(kImportColumns) +
              " FROM imports WHERE asset_id = " + query.Add(asset_id) +
              " AND state = " + query.Add(Name(ImportState::kDone)) +
              " ORDER BY updated_at DESC LIMIT 1";
  return Run(PgRetry::kYes, "finding the import of asset " + std::string(asset_id),
             [&](PgContext& c) -> Result<std::optional<Import>> {
               auto found = SelectImports(c, query);
               if (!found) return Fail(std::move(found.error()));
               if (found->empty()) return std::nullopt;
               return std::move(found->front());
             });
}

Result<std::optional<Import>> PostgresCatalog::ClaimImport(std::string_view runner,
                                                           int64_t lease_micros, int max_attempts) {
  REPRISE_TRY(CheckImportClaim(runner, lease_micros, max_attempts));
  return Run(
      PgRetry::kYes, "claiming an import for " + std::string(runner),
      [&](PgContext& c) -> Result<std::optional<Import>> {
        const std::string downloading(Name(ImportState::kDownloading));
        Exec(c.tx,
             "UPDATE imports SET state = $1, error_code = $2, error_message = 'gave up after ' ||"
             " attempts || ' attempts: the download was interrupted each time (the lease of ' ||"
             " lease_owner || ' expired)', lease_owner = NULL, lease_expires_at = NULL,"
             " updated_at = $3 WHERE state = $4 AND lease_expires_at < $3 AND attempts >= $5",
             Name(ImportState::kFailed), ErrorCodeName(ErrorCode::kUnavailable), c.now, downloading,
             max_attempts);
        auto claimed =
            Exec(c.tx,
                 "UPDATE imports SET state = $1, lease_owner = $2,"
                 " lease_expires_at = $3, attempts = attempts + 1, bytes = 0, retry_at = NULL,"
                 " updated_at = $4 WHERE id = (SELECT id FROM imports"
                 " WHERE (state = $5 AND (retry_at IS NULL OR retry_at <= $4))"
                 " OR (state = $1 AND lease_expires_at < $4)"
                 " ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)"
                 " RETURNING id",
                 downloading, runner, c.now + lease_micros, c.now, Name(ImportState::kQueued));
        if (claimed.empty()) return std::nullopt;
        auto import = LoadImport(c, Text(claimed[0][0]), {});
        if (!import) return Fail(std::move(import.error()));
        return std::optional<Import>(std::move(*import));
      });
}

Result<void> PostgresCatalog::RenewImport(std::string_view id, std::string_view runner,
                                          int64_t bytes, int64_t lease_micros) {
  return Run(PgRetry::kYes, "renewing import " + std::string(id),
             [&](PgContext& c) -> Result<void> {
               REPRISE_TRY(CheckHeld(c, id, runner));
               Exec(c.tx,
                    "UPDATE imports SET bytes = $1, lease_expires_at = $2, updated_at = $3"
                    " WHERE id = $4",
                    bytes, c.now + lease_micros, c.now, id);
               return {};
             });
}

Result<Import> PostgresCatalog::FinishImport(std::string_view id, std::string_view runner,
                                             const ImportOutcome& outcome) {
  REPRISE_TRY(CheckImportOutcome(outcome));
  const bool done = outcome.state == ImportState::kDone;
  const bool failed = outcome.state == ImportState::kFailed;
  const bool queued = outcome.state == ImportState::kQueued;
  const bool retried = queued && outcome.error && outcome.retry_at;
  const bool released = queued && !outcome.error;
  const bool has_error = failed || retried;
  return Run(PgRetry::kYes, "finishing import " + std::string(id),
             [&](PgContext& c) -> Result<Import> {
               REPRISE_TRY(CheckHeld(c, id, runner));
               Exec(c.tx,
                    "UPDATE imports SET state = $1, asset_id = $2, error_code = $3,"
                    " error_message = $4, bytes = $5, attempts = attempts - $6,"
                    " lease_owner = NULL, lease_expires_at = NULL, retry_at = $7, updated_at = $8"
                    " WHERE id = $9",
                    Name(outcome.state),
                    done ? std::optional<std::string>(outcome.asset_id) : std::nullopt,
                    std::string(has_error ? ErrorCodeName(outcome.error->code) : ""),
                    has_error ? outcome.error->message : std::string(),
                    released ? int64_t{0} : outcome.bytes, released ? 1 : 0,
                    retried ? outcome.retry_at : std::nullopt, c.now, id);
               if (queued) c.change.Add(ChangeTopic::kImports);
               return LoadImport(c, id, {});
             });
}

Result<bool> PostgresCatalog::RecordWebhook(const ReceivedWebhook& webhook,
                                            const std::vector<NewImport>& imports) {
  return Run(PgRetry::kYes, "recording webhook " + webhook.webhook_id + " from " + webhook.source,
             [&](PgContext& c) -> Result<bool> {
               if (Exec(c.tx,
                        "INSERT INTO webhooks_received (source, webhook_id, event, received_at)"
                        " VALUES ($1, $2, $3, $4) ON CONFLICT (source, webhook_id) DO NOTHING"
                        " RETURNING 1",
                        webhook.source, webhook.webhook_id, webhook.event, c.now)
                       .empty()) {
                 return false;
               }
               for (const auto& import : imports) REPRISE_TRY(InsertImportIn(c, import));
               return true;
             });
}

}  // namespace reprise::catalog
