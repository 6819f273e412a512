#include "catalog/sqlite/sqlite_rollback.h"

#include <vector>

#include "catalog/sqlite/sqlite_queries.h"

namespace reprise::catalog {

Result<RollbackResult> Rollback(SqliteConnection& db, int64_t now, const RollbackRequest& request,
                                const AssetFilter& filter) {
  REPRISE_TRY(CheckRollbackRequest(request));
  // Per asset: the current row C and the row to go back to, T: with a target recipe, its
  // newest successful row (other than C); without, the newest successful row before C
  // built by another recipe.
  SqlQuery conditions = AssetConditions(filter);
  SqlQuery query;
  query.sql =
      "SELECT a.id, c.id, c.recipe, t.id, t.recipe FROM assets a"
      " LEFT JOIN derivatives c ON c.asset_id = a.id AND c.stage = ? AND c.is_current = 1"
      " LEFT JOIN derivatives t ON t.id = (SELECT d.id FROM derivatives d"
      " WHERE d.asset_id = a.id AND d.stage = ? AND d.state = 'done' AND d.id <> c.id"
      " AND CASE WHEN ? = '' THEN d.recipe <> c.recipe AND d.id < c.id ELSE d.recipe = ? END"
      " ORDER BY d.id DESC LIMIT 1)"
      " WHERE 1 = 1" +
      conditions.sql + " ORDER BY a.created_at, a.id";
  query.binds = {request.stage, request.stage, request.to_recipe, request.to_recipe};
  for (auto& value : conditions.binds) query.binds.push_back(std::move(value));

  RollbackResult result;
  std::vector<RollbackItem> switches;
  {
    auto select = db.Prepare(query.sql);
    if (!select) return Fail(std::move(select.error()));
    select->BindAll(query.binds);
    REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
      ++result.assets;
      if (row.IsNull(1)) {
        ++result.no_current;
      } else if (row.IsNull(3)) {
        ++result.no_earlier;
      } else {
        RollbackItem item{row.Text(0), row.Text(2), row.Text(4), row.Int64(1), row.Int64(3)};
        if (static_cast<int>(result.items.size()) < request.preview) result.items.push_back(item);
        if (!request.dry_run) switches.push_back(std::move(item));
        ++result.rolled_back;
        ++result.to_recipes[row.Text(4)];
      }
      return true;
    }));
  }
  for (const auto& item : switches) {
    for (const auto& [id, current] : {std::pair{item.from_id, 0}, std::pair{item.to_id, 1}}) {
      auto update = db.Prepare("UPDATE derivatives SET is_current = ? WHERE id = ?");
      if (!update) return Fail(std::move(update.error()));
      update->BindInt64(current).BindInt64(id);
      REPRISE_TRY(update->Run());
    }
    auto touch = db.Prepare("UPDATE assets SET updated_at = ? WHERE id = ?");
    if (!touch) return Fail(std::move(touch.error()));
    touch->BindInt64(now).BindText(item.asset_id);
    REPRISE_TRY(touch->Run());
  }
  return result;
}

}  // namespace reprise::catalog
