// The compact frozen plan in the SQLite catalog (catalog/backfill_plan.h, migration 13):
// reading and writing backfill_plan rows, backfill_holds and backfill_counts, for
// SqliteBackfills, the queue's settling, asset deletion and the backfill pages. Every
// function works inside the caller's transaction.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "catalog/backfill_plan.h"
#include "catalog/backfill_types.h"
#include "catalog/sqlite/sqlite_connection.h"
#include "core/error.h"

namespace reprise::catalog {

// The row `seq`; kNotFound when there is none.
[[nodiscard]] Result<PlanRow> LoadPlanRow(SqliteConnection& db, int64_t seq);
// Writes row.items back with the tally columns.
[[nodiscard]] Result<void> StorePlanRow(SqliteConnection& db, const PlanRow& row);
// Adds `deltas` to backfill_counts for `backfill_id`.
[[nodiscard]] Result<void> ApplyPlanCounts(SqliteConnection& db, int64_t backfill_id,
                                           const PlanCountDeltas& deltas);
// The counts of every backfill in `ids` (Catalog::CountBackfillItems).
[[nodiscard]] Result<std::map<int64_t, BackfillCounts>> CountPlans(SqliteConnection& db,
                                                                   const std::vector<int64_t>& ids);
// Takes the items of asset `asset_id` out of its backfills' counts (before the asset's
// rows go: the cascade does not count).
[[nodiscard]] Result<void> UncountAssetPlans(SqliteConnection& db, std::string_view asset_id);

}  // namespace reprise::catalog
