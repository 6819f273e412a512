// Catalog::DeleteAsset in the SQLite catalog. The schema's foreign keys do the cascade
// (derivatives, jobs, job_stages and backfill plan rows go with the asset; children's
// parent_id becomes NULL), so this file only guards it: the asset must be in scope and no
// job of it may be running, both checked inside the write transaction. The one thing
// the cascade cannot do is count: the asset's plan items leave backfill_counts first.
#include <string>

#include "catalog/sqlite/sqlite_backfill_plan.h"
#include "catalog/sqlite/sqlite_catalog.h"
#include "catalog/sqlite/sqlite_queries.h"

namespace reprise::catalog {
namespace {

Result<bool> DeleteIn(SqliteConnection& db, std::string_view id, const AssetFilter& scope) {
  SqlQuery found = AssetWhere(scope);
  found.sql = "SELECT a.id FROM assets a" + found.sql +
              (found.binds.empty() ? " WHERE " : " AND ") + "a.id = ?";
  found.binds.emplace_back(std::string(id));
  {
    auto select = db.Prepare(found.sql);
    if (!select) return Fail(std::move(select.error()));
    select->BindAll(found.binds);
    auto row = select->Step();
    if (!row) return Fail(std::move(row.error()));
    if (!*row) return Fail(ErrorCode::kNotFound, "asset " + std::string(id) + " not found");
  }
  {
    auto running = db.Prepare(
        "SELECT id FROM jobs WHERE asset_id = ? AND state = 'running' ORDER BY id LIMIT 1");
    if (!running) return Fail(std::move(running.error()));
    running->BindText(id);
    auto row = running->Step();
    if (!row) return Fail(std::move(row.error()));
    if (*row) {
      return Fail(ErrorCode::kConflict,
                  "asset " + std::string(id) + " has a running job (" +
                      std::to_string(running->Int64(0)) +
                      "); cancel it or wait for it to finish, then delete the asset");
    }
  }
  bool shared = false;
  {
    auto others = db.Prepare(
        "SELECT EXISTS (SELECT 1 FROM assets WHERE id <> ? AND sha256 ="
        " (SELECT sha256 FROM assets WHERE id = ?))");
    if (!others) return Fail(std::move(others.error()));
    others->BindText(id).BindText(id);
    auto row = others->Step();
    if (!row) return Fail(std::move(row.error()));
    shared = *row && others->Int64(0) != 0;
  }
  REPRISE_TRY(UncountAssetPlans(db, id));
  auto remove = db.Prepare("DELETE FROM assets WHERE id = ?");
  if (!remove) return Fail(std::move(remove.error()));
  remove->BindText(id);
  REPRISE_TRY(remove->Run());
  return shared;
}

}  // namespace

Result<bool> SqliteCatalog::DeleteAsset(std::string_view id, const AssetFilter& scope) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto txn = Transaction::Begin(db, Transaction::Mode::kImmediate);
  if (!txn) return Fail(std::move(txn.error()));
  auto shared = DeleteIn(db, id, scope);
  if (!shared) {
    if (shared.error().origin.rfind("sqlite:", 0) == 0) {
      return Fail(shared.error().Wrap("deleting asset " + std::string(id)));
    }
    return shared;
  }
  REPRISE_TRY(txn->Commit());
  return shared;
}

}  // namespace reprise::catalog
