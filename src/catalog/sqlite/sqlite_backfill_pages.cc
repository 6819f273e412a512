// Catalog::ListBackfillsWithCounts in SQLite: the page's ids, each row, then the counts
// of every backfill on the page from backfill_counts and backfill_holds (CountPlans), all
// in one read transaction. The cursor is the id of the last
// backfill of the previous page (ids only grow, so "newest first" is "id descending").
#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "catalog/sqlite/sqlite_backfill_plan.h"
#include "catalog/sqlite/sqlite_backfills.h"
#include "catalog/sqlite/sqlite_catalog.h"
#include "catalog/sqlite/sqlite_connection.h"
#include "catalog/sqlite/sqlite_queries.h"

namespace reprise::catalog {
namespace {

Result<std::vector<int64_t>> PageIds(SqliteConnection& db, const AssetFilter& scope,
                                     std::optional<int64_t> before, int limit) {
  auto select = db.Prepare(
      "SELECT id FROM backfills WHERE (? IS NULL OR owner = ?) AND (? IS NULL OR id < ?)"
      " ORDER BY id DESC LIMIT ?");
  if (!select) return Fail(std::move(select.error()));
  select->BindOptionalText(scope.owner)
      .BindOptionalText(scope.owner)
      .BindOptionalInt64(before)
      .BindOptionalInt64(before)
      .BindInt64(limit);
  std::vector<int64_t> ids;
  REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
    ids.push_back(row.Int64(0));
    return true;
  }));
  return ids;
}

}  // namespace

Result<BackfillPage> SqliteCatalog::ListBackfillsWithCounts(const AssetFilter& scope,
                                                            const PageRequest& page) {
  auto checked_limit = CheckedPageLimit(page);
  if (!checked_limit) return Fail(std::move(checked_limit.error()));
  const int limit = *checked_limit;
  auto before = DecodeBackfillCursor(page.cursor);
  if (!before) return Fail(std::move(before.error()));

  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto txn = Transaction::Begin(db, Transaction::Mode::kDeferred);
  if (!txn) return Fail(txn.error().Wrap("listing backfills"));
  auto read = [&]() -> Result<BackfillPage> {
    // One id beyond the page says whether there is another.
    auto ids = PageIds(db, scope, *before, limit + 1);
    if (!ids) return Fail(std::move(ids.error()));
    BackfillPage result;
    if (static_cast<int>(ids->size()) > limit) {
      ids->resize(limit);
      result.next_cursor = EncodeBackfillCursor(ids->back());
    }
    auto counts = CountPlans(db, *ids);
    if (!counts) return Fail(std::move(counts.error()));
    SqliteBackfills backfills(db, clock_.NowMicros());
    for (int64_t id : *ids) {
      auto backfill = backfills.Get(id, {});
      if (!backfill) return Fail(std::move(backfill.error()));
      result.items.push_back({std::move(*backfill), std::move((*counts)[id])});
    }
    return result;
  };
  auto result = read();
  if (!result) return Fail(result.error().Wrap("listing backfills"));
  REPRISE_TRY(txn->Commit());
  return result;
}

}  // namespace reprise::catalog
