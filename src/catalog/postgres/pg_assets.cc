// Assets and derivative rows in the PostgreSQL catalog: the readers and queries the other
// parts share (pg_internal.h).

#include <utility>

#include "catalog/postgres/pg_internal.h"
#include "catalog/postgres/pg_where.h"
#include "catalog/rules.h"

namespace reprise::catalog {
tl::unexpected<Error> AssetNotFound(std::string_view id) {
  return Fail(ErrorCode::kNotFound, "asset " + std::string(id) + " not found");
}

void AddAssetConditions(const AssetFilter& filter, PgQuery& query) {
  auto add = [&query](std::string_view column, const auto& value) {
    query.sql += " AND " + std::string(column) + " = " + query.Add(value);
  };
  if (filter.owner) add("a.owner", *filter.owner);
  if (filter.status) add("a.status", Name(*filter.status));
  if (filter.kind) add("a.kind", Name(*filter.kind));
  if (filter.source) add("a.source", Name(*filter.source));
  if (filter.ids.size() == 1) {
    add("a.id", filter.ids.front());
  } else if (!filter.ids.empty()) {
    // One parameter however many ids (a backfill may pass thousands).
    query.sql += " AND a.id = ANY (ARRAY(SELECT jsonb_array_elements_text(" +
                 query.Add(JsonList(filter.ids)) + "::jsonb)))";
  }
  if (filter.created_after) query.sql += " AND a.created_at >= " + query.Add(*filter.created_after);
  if (filter.created_before)
    query.sql += " AND a.created_at < " + query.Add(*filter.created_before);
  if (filter.where) {
    query.sql += " AND ";
    CompilePgWhere(*filter.where, query);
  }
}

Result<Asset> LoadAsset(PgContext& c, std::string_view id, const AssetFilter& scope) {
  PgQuery query;
  query.sql = "SELECT " + std::string(kAssetColumns) + " FROM assets a WHERE a.id = ";
  query.sql += query.Add(id);
  AddAssetConditions(scope, query);
  auto rows = Exec(c.tx, query);
  if (rows.empty()) return AssetNotFound(id);
  return ReadAsset(PgRow(rows[0]));
}

Result<InsertAssetResult> InsertAssetIn(PgContext& c, const NewAsset& asset) {
  REPRISE_TRY(CheckNewAsset(asset));
  if (asset.parent_id) {
    // Checked first: a foreign-key failure would end the transaction, and the answer
    // (kNotFound) is the same.
    if (Exec(c.tx, "SELECT 1 FROM assets WHERE id = $1", *asset.parent_id).empty()) {
      return Fail(ErrorCode::kNotFound, "parent asset " + *asset.parent_id + " not found");
    }
  }
  auto inserted =
      Exec(c.tx,
           "INSERT INTO assets (id, owner, source, sha256, cid, size_bytes, original_key,"
           " original_name, source_uri, status, kind, container, duration_seconds, width,"
           " height, parent_id, refs, created_at, updated_at)"
           " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,"
           " $18, $18) ON CONFLICT (id) DO NOTHING RETURNING id",
           asset.id, asset.owner, Name(asset.source), asset.sha256_hex, asset.cid, asset.size_bytes,
           asset.original_key, asset.original_name, asset.source_uri, Name(AssetStatus::kPending),
           Name(asset.media.kind), asset.media.container, asset.media.duration_seconds,
           asset.media.width, asset.media.height, asset.parent_id, RefsToJson(asset.refs), c.now);
  const bool created = !inserted.empty();
  auto stored = LoadAsset(c, asset.id, {});
  if (!stored) return Fail(std::move(stored.error()));
  // The id is derived from (owner, content); a record that disagrees means two
  // different things were given one id, and returning the other one would leak it.
  if (!created && (stored->owner != asset.owner || stored->sha256_hex != asset.sha256_hex)) {
    return Fail(ErrorCode::kConflict,
                "asset id " + asset.id + " is already used by different content or owner");
  }
  if (created) {
    Event event;
    event.type = std::string(kEventAssetCreated);
    event.owner = stored->owner;
    event.asset_id = stored->id;
    event.data = {{"kind", Name(stored->media.kind)},
                  {"source", Name(stored->source)},
                  {"original_name", stored->original_name}};
    REPRISE_TRY(AppendPgEvent(c, std::move(event)));
  }
  return InsertAssetResult{std::move(*stored), created};
}

Result<StageCounts> CountStatuses(PgContext& c, const StageRecipe& stage,
                                  const AssetFilter& filter) {
  // The rule of types.h StageStatus, as in the SQLite backend (sqlite_queries.cc): with L
  // the latest finished attempt of today's recipe, C the current row and Q a quarantine
  // entry for the asset's content and recipe.
  PgQuery query;
  const std::string s = query.Add(stage.stage);
  const std::string r = query.Add(stage.recipe);
  query.sql =
      "SELECT COUNT(*) FILTER (WHERE cls = 'current'),"
      " COUNT(*) FILTER (WHERE cls = 'outdated'),"
      " COUNT(*) FILTER (WHERE cls = 'missing'),"
      " COUNT(*) FILTER (WHERE cls = 'failed'),"
      " COUNT(*) FILTER (WHERE cls = 'skipped'),"
      " COUNT(*) FILTER (WHERE cls = 'quarantined')"
      " FROM (SELECT CASE (SELECT d.state FROM derivatives d"
      " WHERE d.asset_id = a.id AND d.stage = " +
      s + " AND d.recipe = " + r +
      " AND d.state IN ('done', 'failed', 'skipped') ORDER BY d.id DESC LIMIT 1)"
      " WHEN 'skipped' THEN 'skipped'"
      " WHEN 'failed' THEN CASE WHEN c.recipe = " +
      r +
      " THEN 'current' WHEN q.sha256 IS NOT NULL THEN 'quarantined' ELSE 'failed' END"
      " ELSE CASE WHEN c.recipe = " +
      r +
      " THEN 'current' WHEN q.sha256 IS NOT NULL THEN 'quarantined'"
      " WHEN c.recipe IS NOT NULL THEN 'outdated'"
      " WHEN EXISTS (SELECT 1 FROM derivatives h WHERE h.asset_id = a.id AND h.stage = " +
      s +
      " AND h.state IN ('done', 'failed', 'skipped')) THEN 'outdated' ELSE 'missing' END"
      " END AS cls FROM assets a"
      " LEFT JOIN derivatives c ON c.asset_id = a.id AND c.stage = " +
      s +
      " AND c.is_current = 1"
      " LEFT JOIN quarantine q ON q.sha256 = a.sha256 AND q.stage = " +
      s + " AND q.recipe = " + r + " WHERE true";
  AddAssetConditions(filter, query);
  query.sql += ") classified";
  auto rows = Exec(c.tx, query);
  StageCounts counts;
  counts.current = Int(rows[0][0]);
  counts.outdated = Int(rows[0][1]);
  counts.missing = Int(rows[0][2]);
  counts.failed = Int(rows[0][3]);
  counts.skipped = Int(rows[0][4]);
  counts.quarantined = Int(rows[0][5]);
  return counts;
}

}  // namespace reprise::catalog
