// The compact frozen plan's rows in the PostgreSQL catalog (catalog/backfill_plan.h).
#include "catalog/postgres/pg_internal.h"

namespace reprise::catalog {

Result<PlanRow> LoadPgPlanRow(PgContext& c, int64_t seq) {
  auto rows = Exec(c.tx,
                   "SELECT backfill_id, asset_id, items FROM backfill_plan WHERE seq = $1"
                   " FOR UPDATE",
                   seq);
  if (rows.empty()) {
    return Fail(ErrorCode::kNotFound, "plan row " + std::to_string(seq) + " not found");
  }
  auto items = DecodePlanItems(rows[0][2].c_str());
  if (!items) return Fail(std::move(items.error()));
  return PlanRow{seq, Int(rows[0][0]), Text(rows[0][1]), std::move(*items)};
}

void StorePgPlanRow(PgContext& c, const PlanRow& row) {
  const PlanRowTally tally = TallyPlanItems(row.items);
  Exec(c.tx, "UPDATE backfill_plan SET pending = $1, failed = $2, items = $3 WHERE seq = $4",
       tally.pending, tally.failed, EncodePlanItems(row.items), row.seq);
}

void ApplyPgPlanCounts(PgContext& c, int64_t backfill_id, const PlanCountDeltas& deltas) {
  for (const auto& [key, n] : deltas.Changes()) {
    if (n == 0) continue;
    Exec(c.tx,
         "INSERT INTO backfill_counts (backfill_id, outcome, detail, n) VALUES ($1, $2, $3, $4)"
         " ON CONFLICT (backfill_id, outcome, detail)"
         " DO UPDATE SET n = backfill_counts.n + excluded.n",
         backfill_id, key.first, key.second, n);
  }
}

Result<std::vector<StageRecipe>> PgBackfillStages(PgContext& c, int64_t id) {
  auto rows = Exec(c.tx, "SELECT stages FROM backfills WHERE id = $1", id);
  if (rows.empty()) return std::vector<StageRecipe>{};
  return StagesFromJson(rows[0][0].c_str());
}

Result<void> UncountPgAssetPlans(PgContext& c, std::string_view asset_id) {
  std::map<int64_t, PlanCountDeltas> deltas;
  for (const auto& row : Exec(c.tx,
                              "SELECT backfill_id, items FROM backfill_plan WHERE asset_id = $1"
                              " ORDER BY seq FOR UPDATE",
                              asset_id)) {
    auto items = DecodePlanItems(row[1].c_str());
    if (!items) return Fail(std::move(items.error()));
    for (const auto& item : *items) deltas[Int(row[0])].Add(item, -1);
  }
  for (const auto& [backfill_id, changes] : deltas) ApplyPgPlanCounts(c, backfill_id, changes);
  return {};
}

}  // namespace reprise::catalog
