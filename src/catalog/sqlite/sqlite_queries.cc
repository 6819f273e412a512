#include "catalog/sqlite/sqlite_queries.h"

#include <limits>
#include <utility>

#include "catalog/sqlite/sqlite_where.h"

namespace reprise::catalog {
SqlQuery AssetConditions(const AssetFilter& filter) {
  SqlQuery conditions;
  auto add = [&conditions](std::string_view clause, SqlValue value) {
    conditions.sql += " AND ";
    conditions.sql += clause;
    conditions.binds.push_back(std::move(value));
  };
  if (filter.owner) add("a.owner = ?", *filter.owner);
  if (filter.status) add("a.status = ?", std::string(Name(*filter.status)));
  if (filter.kind) add("a.kind = ?", std::string(Name(*filter.kind)));
  if (filter.source) add("a.source = ?", std::string(Name(*filter.source)));
  if (filter.ids.size() == 1) {
    add("a.id = ?", filter.ids.front());
  } else if (!filter.ids.empty()) {
    // One parameter however many ids (a backfill may pass thousands), still an index
    // lookup per id.
    add("a.id IN (SELECT value FROM json_each(?))", nlohmann::json(filter.ids).dump());
  }
  if (filter.created_after) add("a.created_at >= ?", *filter.created_after);
  if (filter.created_before) add("a.created_at < ?", *filter.created_before);
  if (filter.where) {
    SqlQuery where = CompileWhere(*filter.where);
    conditions.sql += " AND " + where.sql;
    for (auto& value : where.binds) conditions.binds.push_back(std::move(value));
  }
  return conditions;
}

SqlQuery AssetWhere(const AssetFilter& filter) {
  SqlQuery where = AssetConditions(filter);
  if (!where.sql.empty()) where.sql.replace(0, std::string_view(" AND ").size(), " WHERE ");
  return where;
}

Result<SqlQuery> ListAssetsQuery(const AssetFilter& filter, std::string_view cursor, int limit) {
  SqlQuery query = AssetWhere(filter);
  const bool filtered = !query.sql.empty();
  query.sql = "SELECT " + std::string(kAssetColumns) + " FROM assets a" + query.sql;
  if (!cursor.empty()) {
    auto after = DecodeAssetCursor(cursor);
    if (!after) return Fail(std::move(after.error()));
    query.sql += filtered ? " AND " : " WHERE ";
    query.sql += "(a.created_at, a.id) > (?, ?)";
    query.binds.emplace_back(after->created_at);
    query.binds.emplace_back(std::move(after->id));
  }
  query.sql += " ORDER BY a.created_at, a.id LIMIT ?";
  query.binds.emplace_back(static_cast<int64_t>(limit) + 1);
  return query;
}

SqlQuery CountAssetsQuery(const AssetFilter& filter) {
  SqlQuery query = AssetWhere(filter);
  query.sql = "SELECT COUNT(*) FROM assets a" + query.sql;
  return query;
}

SqlQuery CountAssetsByOwnerQuery(const AssetFilter& filter) {
  SqlQuery query = AssetWhere(filter);
  query.sql = "SELECT a.owner, COUNT(*) FROM assets a" + query.sql + " GROUP BY a.owner";
  return query;
}

SqlQuery StageStatusCountsQuery(const StageRecipe& stage, const AssetFilter& filter) {
  // The rule (types.h StageStatus), with L the latest finished attempt of today's recipe,
  // C the current row and Q a quarantine entry for the asset's content and today's recipe:
  // L skipped -> skipped; C built by today's recipe -> current; Q -> quarantined;
  // L failed -> failed; any C, or a finished attempt of any recipe -> outdated; else
  // missing. Written as a simple CASE on L so its subquery runs once per asset; C and Q
  // come from joins on the partial unique index of current rows and the quarantine key;
  // the EXISTS of a finished attempt runs only for pairs with no C and reads
  // derivatives_history alone (it covers state). "LIMIT -1" keeps SQLite from
  // flattening the inner query into the aggregate, which would evaluate the correlated
  // subquery once per reference; counting with COUNT(CASE ...) needs no sort, so the
  // pass streams.
  SqlQuery where = AssetWhere(filter);
  SqlQuery query;
  query.sql =
      "SELECT COUNT(CASE WHEN cls = 'current' THEN 1 END),"
      " COUNT(CASE WHEN cls = 'outdated' THEN 1 END),"
      " COUNT(CASE WHEN cls = 'missing' THEN 1 END),"
      " COUNT(CASE WHEN cls = 'failed' THEN 1 END),"
      " COUNT(CASE WHEN cls = 'skipped' THEN 1 END),"
      " COUNT(CASE WHEN cls = 'quarantined' THEN 1 END)"
      " FROM (SELECT CASE ("
      "SELECT d.state FROM derivatives d"
      " WHERE d.asset_id = a.id AND d.stage = ? AND d.recipe = ?"
      " AND d.state IN ('done', 'failed', 'skipped')"
      " ORDER BY d.id DESC LIMIT 1)"
      " WHEN 'skipped' THEN 'skipped'"
      " WHEN 'failed' THEN CASE WHEN c.recipe = ? THEN 'current'"
      " WHEN q.sha256 IS NOT NULL THEN 'quarantined' ELSE 'failed' END"
      " ELSE CASE WHEN c.recipe = ? THEN 'current'"
      " WHEN q.sha256 IS NOT NULL THEN 'quarantined'"
      " WHEN c.recipe IS NOT NULL THEN 'outdated'"
      " WHEN EXISTS (SELECT 1 FROM derivatives h WHERE h.asset_id = a.id AND h.stage = ?"
      " AND h.state IN ('done', 'failed', 'skipped')) THEN 'outdated' ELSE 'missing' END"
      " END AS cls"
      " FROM assets a"
      " LEFT JOIN derivatives c"
      " ON c.asset_id = a.id AND c.stage = ? AND c.is_current = 1"
      " LEFT JOIN quarantine q"
      " ON q.sha256 = a.sha256 AND q.stage = ? AND q.recipe = ?" +
      where.sql + " LIMIT -1) classified";
  query.binds = {stage.stage, stage.recipe, stage.recipe, stage.recipe,
                 stage.stage, stage.stage,  stage.stage,  stage.recipe};
  for (auto& value : where.binds) query.binds.push_back(std::move(value));
  return query;
}

// ---- The queue ------------------------------------------------------------------------

const std::string_view kEndedJobsTerm = "j.state IN ('failed', 'cancelled')";

SqlQuery JobConditions(const JobFilter& filter) {
  SqlQuery conditions;
  auto add = [&conditions](std::string_view clause, SqlValue value) {
    conditions.sql += " AND ";
    conditions.sql += clause;
    conditions.binds.push_back(std::move(value));
  };
  if (filter.job_id) add("j.id = ?", *filter.job_id);
  if (filter.owner) add("a.owner = ?", *filter.owner);
  if (filter.state) {
    add("j.state = ?", std::string(Name(*filter.state)));
    if (*filter.state == JobState::kFailed || *filter.state == JobState::kCancelled) {
      conditions.sql += " AND " + std::string(kEndedJobsTerm);
    }
  }
  if (filter.asset_id) add("j.asset_id = ?", *filter.asset_id);
  if (filter.backfill_id) add("j.backfill_id = ?", *filter.backfill_id);
  if (filter.stage) {
    add("EXISTS (SELECT 1 FROM job_stages s WHERE s.job_id = j.id AND s.stage = ?)", *filter.stage);
  }
  return conditions;
}

SqlQuery ClaimJobsQuery(const ClaimRequest& request, int64_t now, int limit,
                        const std::vector<std::string>& excluded) {
  // The partial index jobs_claim holds only queued rows in claim order, so the walk stops
  // after `limit` matches without sorting. Without statistics SQLite may prefer another
  // plan (every queued row, then a sort), hence INDEXED BY; the condition
  // `state = 'queued'` is spelled as in the index so the partial index applies.
  SqlQuery query;
  query.sql = "SELECT " + std::string(kJobColumns) +
              " FROM jobs j INDEXED BY jobs_claim JOIN assets a ON a.id = j.asset_id"
              " WHERE j.state = 'queued' AND j.run_after <= ?";
  query.binds.emplace_back(now);
  if (request.min_priority != std::numeric_limits<int>::min()) {
    query.sql += " AND j.priority >= ?";
    query.binds.emplace_back(static_cast<int64_t>(request.min_priority));
  }
  if (!request.stages.empty()) {
    query.sql +=
        " AND NOT EXISTS (SELECT 1 FROM job_stages s WHERE s.job_id = j.id AND s.active = 1"
        " AND s.stage NOT IN (SELECT value FROM json_each(?)))";
    query.binds.emplace_back(nlohmann::json(request.stages).dump());
  }
  if (!excluded.empty()) {
    query.sql +=
        " AND NOT EXISTS (SELECT 1 FROM job_stages s WHERE s.job_id = j.id AND s.active = 1"
        " AND s.stage IN (SELECT value FROM json_each(?)))";
    query.binds.emplace_back(nlohmann::json(excluded).dump());
  }
  query.sql += " ORDER BY j.priority DESC, j.run_after, j.id LIMIT ?";
  query.binds.emplace_back(static_cast<int64_t>(limit));
  return query;
}

Result<SqlQuery> ListJobsQuery(const JobFilter& filter, std::string_view cursor, int limit) {
  SqlQuery query = JobConditions(filter);
  query.sql = "SELECT " + std::string(kJobColumns) +
              " FROM jobs j JOIN assets a ON a.id = j.asset_id WHERE 1 = 1" + query.sql;
  if (!cursor.empty()) {
    auto after = DecodeJobCursor(cursor);
    if (!after) return Fail(std::move(after.error()));
    query.sql += " AND j.id < ?";
    query.binds.emplace_back(*after);
  }
  query.sql += " ORDER BY j.id DESC LIMIT ?";
  query.binds.emplace_back(static_cast<int64_t>(limit) + 1);
  return query;
}

const std::string_view kQuarantineFailuresSql =
    "SELECT COUNT(*), MAX(d.id) FROM assets a JOIN derivatives d"
    " ON d.asset_id = a.id AND d.stage = ? AND d.recipe = ? AND d.state = 'failed'"
    " WHERE a.sha256 = ?";

namespace {

// " WHERE EXISTS (an asset matching scope with the entry's content)", or "" for no scope.
SqlQuery QuarantineScope(const AssetFilter& scope) {
  SqlQuery where = AssetConditions(scope);
  if (where.sql.empty()) return where;
  where.sql = " WHERE EXISTS (SELECT 1 FROM assets a WHERE a.sha256 = q.sha256" + where.sql + ")";
  return where;
}

}  // namespace

SqlQuery ListQuarantineQuery(const AssetFilter& scope) {
  SqlQuery query = QuarantineScope(scope);
  query.sql =
      "SELECT q.sha256, q.stage, q.recipe, q.failures, q.error_code, q.error_message,"
      " q.created_at FROM quarantine q" +
      query.sql + " ORDER BY q.created_at, q.sha256, q.stage, q.recipe";
  return query;
}

SqlQuery CountQuarantineQuery(const AssetFilter& scope) {
  SqlQuery query = QuarantineScope(scope);
  query.sql = "SELECT COUNT(*) FROM quarantine q" + query.sql;
  return query;
}

}  // namespace reprise::catalog
