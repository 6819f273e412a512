// Catalog::ListBackfillsWithCounts in SQLite: the page's ids, each row, then the counts
// of every backfill on the page in three grouped queries (outcomes and reasons, failed
// examples, active jobs), all in one read transaction. The cursor is the id of the last
// backfill of the previous page (ids only grow, so "newest first" is "id descending").
#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

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

// The counts of every backfill in `ids`, as SqliteBackfills::Count gives them one by one.
Result<std::map<int64_t, BackfillCounts>> CountAll(SqliteConnection& db,
                                                   const std::vector<int64_t>& ids) {
  std::map<int64_t, BackfillCounts> counts;
  for (int64_t id : ids) counts[id];
  const std::string id_list = nlohmann::json(ids).dump();
  {
    auto select = db.Prepare(
        "SELECT backfill_id, outcome, skip_reason, error_code, COUNT(*) FROM backfill_items"
        " WHERE backfill_id IN (SELECT value FROM json_each(?))"
        " GROUP BY backfill_id, outcome, skip_reason, error_code");
    if (!select) return Fail(std::move(select.error()));
    select->BindText(id_list);
    REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
      auto outcome = ParseItemOutcome(row.Text(1));
      if (!outcome) return Fail(std::move(outcome.error()));
      BackfillCounts& c = counts[row.Int64(0)];
      const int64_t n = row.Int64(4);
      c.total += n;
      c.by_outcome[*outcome] += n;
      if (*outcome == ItemOutcome::kSkipped) c.skipped_by_reason[row.Text(2)] += n;
      if (*outcome == ItemOutcome::kFailed) c.failed_by_code[row.Text(3)] += n;
      return true;
    }));
  }
  {
    // Up to three distinct assets per error code, in plan order (an asset failing in
    // several stages has an item per stage but is one example).
    auto select = db.Prepare(
        "SELECT backfill_id, error_code, asset_id FROM (SELECT backfill_id, error_code,"
        " asset_id, ROW_NUMBER() OVER (PARTITION BY backfill_id, error_code"
        " ORDER BY MIN(rowid)) AS n FROM backfill_items"
        " WHERE backfill_id IN (SELECT value FROM json_each(?)) AND outcome = 'failed'"
        " GROUP BY backfill_id, error_code, asset_id)"
        " WHERE n <= 3 ORDER BY backfill_id, error_code, n");
    if (!select) return Fail(std::move(select.error()));
    select->BindText(id_list);
    REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
      counts[row.Int64(0)].failed_examples[row.Text(1)].push_back(row.Text(2));
      return true;
    }));
  }
  {
    auto select = db.Prepare(
        "SELECT backfill_id, COUNT(DISTINCT job_id) FROM backfill_items"
        " WHERE backfill_id IN (SELECT value FROM json_each(?)) AND outcome = 'queued'"
        " GROUP BY backfill_id");
    if (!select) return Fail(std::move(select.error()));
    select->BindText(id_list);
    REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
      counts[row.Int64(0)].active_jobs = row.Int64(1);
      return true;
    }));
  }
  return counts;
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
    auto counts = CountAll(db, *ids);
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
