// URL imports in the SQLite catalog (the contract is the imports section of
// catalog/catalog.h): one row per import in `imports`, verified webhook deliveries in
// `webhooks_received` (migration 7).
#include <string>
#include <utility>

#include <fmt/format.h>

#include "catalog/codec.h"
#include "catalog/rules.h"
#include "catalog/sqlite/sqlite_catalog.h"
#include "catalog/sqlite/sqlite_connection.h"
#include "core/json_text.h"

namespace reprise::catalog {
namespace {

Result<std::vector<Import>> SelectImports(SqliteConnection& db, const std::string& where,
                                          const std::vector<SqlValue>& binds) {
  auto select = db.Prepare("SELECT " + std::string(kImportColumns) + " FROM imports " + where);
  if (!select) return Fail(std::move(select.error()));
  select->BindAll(binds);
  std::vector<Import> imports;
  REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
    auto import = ReadImport(row);
    if (!import) return Fail(std::move(import.error()));
    imports.push_back(std::move(*import));
    return true;
  }));
  return imports;
}

Result<Import> LoadImport(SqliteConnection& db, std::string_view id, const AssetFilter& scope) {
  std::vector<SqlValue> binds{std::string(id)};
  std::string where = "WHERE id = ?";
  if (scope.owner) {
    where += " AND owner = ?";
    binds.emplace_back(*scope.owner);
  }
  auto found = SelectImports(db, where, binds);
  if (!found) return Fail(std::move(found.error()));
  if (found->empty()) return Fail(ErrorCode::kNotFound, "import " + std::string(id) + " not found");
  return std::move(found->front());
}

Result<void> InsertImportIn(SqliteConnection& db, const NewImport& import, int64_t now) {
  REPRISE_TRY(CheckNewImport(import));
  auto insert = db.Prepare(
      "INSERT INTO imports (id, owner, source, url, name, kind, metadata, parent_id, state,"
      " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!insert) return Fail(std::move(insert.error()));
  insert->BindText(import.id)
      .BindText(import.owner)
      .BindText(Name(import.source))
      .BindText(import.url)
      .BindText(import.name)
      .BindText(import.kind)
      .BindText(JsonText(import.metadata))
      .BindOptionalText(import.parent_id)
      .BindText(Name(ImportState::kQueued))
      .BindInt64(now)
      .BindInt64(now);
  auto ran = insert->Run();
  if (!ran && ran.error().origin == "sqlite:" + std::to_string(SQLITE_CONSTRAINT_FOREIGNKEY)) {
    return Fail(ErrorCode::kNotFound,
                "parent asset " + import.parent_id.value_or("") + " not found");
  }
  if (!ran && ran.error().code == ErrorCode::kConflict) {
    return Fail(ErrorCode::kConflict, "import id " + import.id + " is already in use");
  }
  if (ran) db.NoteChange(ChangeTopic::kImports);
  return ran;
}

// kConflict unless `runner` holds the import's lease.
Result<void> CheckHeld(SqliteConnection& db, std::string_view id, std::string_view runner) {
  auto select = db.Prepare("SELECT 1 FROM imports WHERE id = ? AND state = ? AND lease_owner = ?");
  if (!select) return Fail(std::move(select.error()));
  select->BindText(id).BindText(Name(ImportState::kDownloading)).BindText(runner);
  auto row = select->Step();
  if (!row) return Fail(std::move(row.error()));
  if (!*row) {
    return Fail(ErrorCode::kConflict, fmt::format("import {} is not held by {}", id, runner));
  }
  return {};
}

}  // namespace

template <class Body>
auto SqliteCatalog::WithImports(bool write, const std::string& what, Body&& body) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  using R = std::invoke_result_t<Body, SqliteConnection&, int64_t>;
  auto run = [&]() -> R {
    auto txn = Transaction::Begin(
        db, write ? Transaction::Mode::kImmediate : Transaction::Mode::kDeferred);
    if (!txn) return Fail(std::move(txn.error()));
    auto result = body(db, clock_.NowMicros());
    if (!result) return result;
    REPRISE_TRY(txn->Commit());
    return result;
  };
  R result = run();
  if (!result && result.error().origin.rfind("sqlite:", 0) == 0) {
    return R(Fail(result.error().Wrap(what)));
  }
  return result;
}

Result<Import> SqliteCatalog::InsertImport(const NewImport& import) {
  return WithImports(true, "inserting import " + import.id,
                     [&](SqliteConnection& db, int64_t now) -> Result<Import> {
                       REPRISE_TRY(InsertImportIn(db, import, now));
                       return LoadImport(db, import.id, {});
                     });
}

Result<Import> SqliteCatalog::GetImport(std::string_view id, const AssetFilter& scope) {
  return WithImports(false, "reading import " + std::string(id),
                     [&](SqliteConnection& db, int64_t) { return LoadImport(db, id, scope); });
}

Result<std::vector<Import>> SqliteCatalog::ListImports(const AssetFilter& scope,
                                                       const std::vector<ImportState>& states,
                                                       int limit) {
  return WithImports(false, "listing imports", [&](SqliteConnection& db, int64_t) {
    std::string where = "WHERE 1 = 1";
    std::vector<SqlValue> binds;
    if (scope.owner) {
      where += " AND owner = ?";
      binds.emplace_back(*scope.owner);
    }
    if (!states.empty()) {
      where += " AND state IN (";
      for (size_t i = 0; i < states.size(); ++i) {
        where += i == 0 ? "?" : ", ?";
        binds.emplace_back(std::string(Name(states[i])));
      }
      where += ")";
    }
    where += " ORDER BY created_at DESC, id DESC LIMIT ?";
    binds.emplace_back(int64_t{std::max(1, limit)});
    return SelectImports(db, where, binds);
  });
}

Result<std::optional<Import>> SqliteCatalog::FindImportOfAsset(std::string_view asset_id) {
  return WithImports(false, "finding the import of asset " + std::string(asset_id),
                     [&](SqliteConnection& db, int64_t) -> Result<std::optional<Import>> {
                       auto found = SelectImports(
                           db, "WHERE asset_id = ? AND state = ? ORDER BY updated_at DESC LIMIT 1",
                           {std::string(asset_id), std::string(Name(ImportState::kDone))});
                       if (!found) return Fail(std::move(found.error()));
                       if (found->empty()) return std::nullopt;
                       return std::move(found->front());
                     });
}

Result<std::optional<Import>> SqliteCatalog::ClaimImport(std::string_view runner,
                                                         int64_t lease_micros, int max_attempts) {
  REPRISE_TRY(CheckImportClaim(runner, lease_micros, max_attempts));
  return WithImports(
      true, "claiming an import for " + std::string(runner),
      [&](SqliteConnection& db, int64_t now) -> Result<std::optional<Import>> {
        const std::string downloading(Name(ImportState::kDownloading));
        auto give_up = db.Prepare(
            "UPDATE imports SET state = ?, error_code = ?, error_message = 'gave up after ' ||"
            " attempts || ' attempts: the download was interrupted each time (the lease of ' ||"
            " lease_owner || ' expired)', lease_owner = NULL, lease_expires_at = NULL,"
            " updated_at = ? WHERE state = ? AND lease_expires_at < ? AND attempts >= ?");
        if (!give_up) return Fail(std::move(give_up.error()));
        give_up->BindText(Name(ImportState::kFailed))
            .BindText(ErrorCodeName(ErrorCode::kUnavailable))
            .BindInt64(now)
            .BindText(downloading)
            .BindInt64(now)
            .BindInt64(max_attempts);
        REPRISE_TRY(give_up->Run());
        auto due = SelectImports(db,
                                 "WHERE (state = ? AND (retry_at IS NULL OR retry_at <= ?))"
                                 " OR (state = ? AND lease_expires_at < ?)"
                                 " ORDER BY created_at, id LIMIT 1",
                                 {std::string(Name(ImportState::kQueued)), now, downloading, now});
        if (!due) return Fail(std::move(due.error()));
        if (due->empty()) return std::nullopt;
        auto claim = db.Prepare(
            "UPDATE imports SET state = ?, lease_owner = ?, lease_expires_at = ?,"
            " attempts = attempts + 1, bytes = 0, retry_at = NULL, updated_at = ? WHERE id = ?");
        if (!claim) return Fail(std::move(claim.error()));
        claim->BindText(downloading)
            .BindText(runner)
            .BindInt64(now + lease_micros)
            .BindInt64(now)
            .BindText(due->front().id);
        REPRISE_TRY(claim->Run());
        auto claimed = LoadImport(db, due->front().id, {});
        if (!claimed) return Fail(std::move(claimed.error()));
        return std::optional<Import>(std::move(*claimed));
      });
}

Result<void> SqliteCatalog::RenewImport(std::string_view id, std::string_view runner, int64_t bytes,
                                        int64_t lease_micros) {
  return WithImports(
      true, "renewing import " + std::string(id),
      [&](SqliteConnection& db, int64_t now) -> Result<void> {
        REPRISE_TRY(CheckHeld(db, id, runner));
        auto update = db.Prepare(
            "UPDATE imports SET bytes = ?, lease_expires_at = ?, updated_at = ?"
            " WHERE id = ?");
        if (!update) return Fail(std::move(update.error()));
        update->BindInt64(bytes).BindInt64(now + lease_micros).BindInt64(now).BindText(id);
        return update->Run();
      });
}

Result<Import> SqliteCatalog::FinishImport(std::string_view id, std::string_view runner,
                                           const ImportOutcome& outcome) {
  REPRISE_TRY(CheckImportOutcome(outcome));
  const bool done = outcome.state == ImportState::kDone;
  const bool failed = outcome.state == ImportState::kFailed;
  const bool queued = outcome.state == ImportState::kQueued;
  const bool retried = queued && outcome.error && outcome.retry_at;
  const bool released = queued && !outcome.error;
  const bool has_error = failed || retried;
  return WithImports(
      true, "finishing import " + std::string(id),
      [&](SqliteConnection& db, int64_t now) -> Result<Import> {
        REPRISE_TRY(CheckHeld(db, id, runner));
        auto update = db.Prepare(
            "UPDATE imports SET state = ?, asset_id = ?, error_code = ?, error_message = ?,"
            " bytes = ?, attempts = attempts - ?, lease_owner = NULL, lease_expires_at = NULL,"
            " retry_at = ?, updated_at = ? WHERE id = ?");
        if (!update) return Fail(std::move(update.error()));
        update->BindText(Name(outcome.state))
            .BindOptionalText(done ? std::optional<std::string>(outcome.asset_id) : std::nullopt)
            .BindText(has_error ? ErrorCodeName(outcome.error->code) : "")
            .BindText(has_error ? outcome.error->message : "")
            .BindInt64(released ? 0 : outcome.bytes)
            .BindInt64(released ? 1 : 0)
            .BindOptionalInt64(retried ? outcome.retry_at : std::nullopt)
            .BindInt64(now)
            .BindText(id);
        REPRISE_TRY(update->Run());
        if (queued) db.NoteChange(ChangeTopic::kImports);
        return LoadImport(db, id, {});
      });
}

Result<bool> SqliteCatalog::RecordWebhook(const ReceivedWebhook& webhook,
                                          const std::vector<NewImport>& imports) {
  return WithImports(
      true, "recording webhook " + webhook.webhook_id + " from " + webhook.source,
      [&](SqliteConnection& db, int64_t now) -> Result<bool> {
        auto insert = db.Prepare(
            "INSERT INTO webhooks_received (source, webhook_id, event, received_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (source, webhook_id) DO NOTHING RETURNING 1");
        if (!insert) return Fail(std::move(insert.error()));
        insert->BindText(webhook.source)
            .BindText(webhook.webhook_id)
            .BindText(webhook.event)
            .BindInt64(now);
        auto row = insert->Step();
        if (!row) return Fail(std::move(row.error()));
        if (!*row) return false;
        REPRISE_TRY(insert->Run());
        for (const auto& import : imports) REPRISE_TRY(InsertImportIn(db, import, now));
        return true;
      });
}

}  // namespace reprise::catalog
