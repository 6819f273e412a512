#include "catalog/sqlite/sqlite_backfill_plan.h"

#include <nlohmann/json.hpp>

namespace reprise::catalog {

Result<PlanRow> LoadPlanRow(SqliteConnection& db, int64_t seq) {
  auto select = db.Prepare("SELECT backfill_id, asset_id, items FROM backfill_plan WHERE seq = ?");
  if (!select) return Fail(std::move(select.error()));
  select->BindInt64(seq);
  auto found = select->Step();
  if (!found) return Fail(std::move(found.error()));
  if (!*found) return Fail(ErrorCode::kNotFound, "plan row " + std::to_string(seq) + " not found");
  PlanRow row{seq, select->Int64(0), select->Text(1), {}};
  auto items = DecodePlanItems(select->TextView(2));
  if (!items) return Fail(std::move(items.error()));
  row.items = std::move(*items);
  REPRISE_TRY(select->Run());
  return row;
}

Result<void> StorePlanRow(SqliteConnection& db, const PlanRow& row) {
  const PlanRowTally tally = TallyPlanItems(row.items);
  auto update =
      db.Prepare("UPDATE backfill_plan SET pending = ?, failed = ?, items = ? WHERE seq = ?");
  if (!update) return Fail(std::move(update.error()));
  update->BindInt64(tally.pending)
      .BindInt64(tally.failed)
      .BindText(EncodePlanItems(row.items))
      .BindInt64(row.seq);
  return update->Run();
}

Result<void> ApplyPlanCounts(SqliteConnection& db, int64_t backfill_id,
                             const PlanCountDeltas& deltas) {
  for (const auto& [key, n] : deltas.Changes()) {
    if (n == 0) continue;
    auto upsert = db.Prepare(
        "INSERT INTO backfill_counts (backfill_id, outcome, detail, n) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (backfill_id, outcome, detail) DO UPDATE SET n = n + excluded.n");
    if (!upsert) return Fail(std::move(upsert.error()));
    upsert->BindInt64(backfill_id).BindText(key.first).BindText(key.second).BindInt64(n);
    REPRISE_TRY(upsert->Run());
  }
  return {};
}

Result<std::map<int64_t, BackfillCounts>> CountPlans(SqliteConnection& db,
                                                     const std::vector<int64_t>& ids) {
  std::map<int64_t, BackfillCounts> counts;
  for (int64_t id : ids) counts[id];
  const std::string id_list = nlohmann::json(ids).dump();
  {
    auto select = db.Prepare(
        "SELECT backfill_id, outcome, detail, n FROM backfill_counts"
        " WHERE backfill_id IN (SELECT value FROM json_each(?)) AND n <> 0");
    if (!select) return Fail(std::move(select.error()));
    select->BindText(id_list);
    REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
      auto added = AddCountRow(counts[row.Int64(0)], row.TextView(1), row.Text(2), row.Int64(3));
      if (!added) return Fail(std::move(added.error()));
      return true;
    }));
  }
  for (auto& [id, c] : counts) {
    if (c.failed_by_code.empty()) continue;
    // Up to three distinct assets per error code, in plan order.
    auto select = db.Prepare(
        "SELECT asset_id, items FROM backfill_plan"
        " WHERE backfill_id = ? AND failed > 0 ORDER BY seq");
    if (!select) return Fail(std::move(select.error()));
    select->BindInt64(id);
    REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
      auto items = DecodePlanItems(row.TextView(1));
      if (!items) return Fail(std::move(items.error()));
      return !AddFailedExamples(c, row.Text(0), *items);
    }));
  }
  {
    auto select = db.Prepare(
        "SELECT backfill_id, COUNT(DISTINCT job_id) FROM backfill_holds"
        " WHERE backfill_id IN (SELECT value FROM json_each(?)) GROUP BY backfill_id");
    if (!select) return Fail(std::move(select.error()));
    select->BindText(id_list);
    REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
      counts[row.Int64(0)].active_jobs = row.Int64(1);
      return true;
    }));
  }
  return counts;
}

Result<void> UncountAssetPlans(SqliteConnection& db, std::string_view asset_id) {
  std::map<int64_t, PlanCountDeltas> deltas;
  {
    auto select = db.Prepare("SELECT backfill_id, items FROM backfill_plan WHERE asset_id = ?");
    if (!select) return Fail(std::move(select.error()));
    select->BindText(asset_id);
    REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
      auto items = DecodePlanItems(row.TextView(1));
      if (!items) return Fail(std::move(items.error()));
      for (const auto& item : *items) deltas[row.Int64(0)].Add(item, -1);
      return true;
    }));
  }
  for (const auto& [backfill_id, changes] : deltas) {
    REPRISE_TRY(ApplyPlanCounts(db, backfill_id, changes));
  }
  return {};
}

}  // namespace reprise::catalog
