#include "catalog/sqlite/sqlite_queries.h"

#include <charconv>
#include <limits>
#include <system_error>
#include <utility>

#include "catalog/sqlite/sqlite_where.h"

namespace reprise::catalog {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

tl::unexpected<Error> BadCursor() {
  return Fail(ErrorCode::kInvalidArgument,
              "invalid page cursor: pass back the next_cursor of a previous page unchanged");
}

std::string HexEncode(std::string_view plain) {
  std::string hex;
  hex.reserve(plain.size() * 2);
  for (unsigned char c : plain) {
    hex.push_back(kHexDigits[c >> 4]);
    hex.push_back(kHexDigits[c & 0xf]);
  }
  return hex;
}

// Empty on malformed input (a valid cursor is never empty).
std::string HexDecode(std::string_view hex) {
  if (hex.empty() || hex.size() % 2 != 0) return {};
  std::string plain;
  plain.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int high = HexValue(hex[i]);
    int low = HexValue(hex[i + 1]);
    if (high < 0 || low < 0) return {};
    plain.push_back(static_cast<char>(high * 16 + low));
  }
  return plain;
}

}  // namespace

const std::string_view kAssetColumns =
    "a.id, a.owner, a.source, a.sha256, a.cid, a.size_bytes, a.original_key, a.original_name,"
    " a.source_uri, a.status, a.kind, a.container, a.duration_seconds, a.width, a.height,"
    " a.parent_id, a.refs, a.created_at, a.updated_at, a.revision";

std::string EncodeAssetCursor(int64_t created_at, std::string_view id) {
  return HexEncode(std::to_string(created_at) + ":" + std::string(id));
}

Result<AssetCursor> DecodeAssetCursor(std::string_view cursor) {
  std::string plain = HexDecode(cursor);
  size_t colon = plain.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == plain.size()) return BadCursor();
  AssetCursor decoded;
  const char* begin = plain.data();
  const char* end = plain.data() + colon;
  auto [ptr, ec] = std::from_chars(begin, end, decoded.created_at);
  if (ec != std::errc() || ptr != end) return BadCursor();
  decoded.id = plain.substr(colon + 1);
  if (decoded.id.find('\0') != std::string::npos) return BadCursor();
  return decoded;
}

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

const std::string_view kJobColumns =
    "j.id, j.asset_id, a.owner, j.priority, j.state, j.attempts, j.max_attempts, j.run_after,"
    " j.lease_owner, j.lease_expires_at, j.cancel_requested, j.backfill_id, j.last_error_code,"
    " j.last_error_message, j.created_at, j.updated_at, j.started_at, j.finished_at, j.keep_status";

std::string EncodeJobCursor(int64_t job_id) { return HexEncode("job:" + std::to_string(job_id)); }

Result<int64_t> DecodeJobCursor(std::string_view cursor) {
  std::string plain = HexDecode(cursor);
  constexpr std::string_view kPrefix = "job:";
  if (plain.size() <= kPrefix.size() || plain.compare(0, kPrefix.size(), kPrefix) != 0) {
    return BadCursor();
  }
  int64_t id = 0;
  const char* begin = plain.data() + kPrefix.size();
  const char* end = plain.data() + plain.size();
  auto [ptr, ec] = std::from_chars(begin, end, id);
  if (ec != std::errc() || ptr != end || id <= 0) return BadCursor();
  return id;
}

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

SqlQuery ClaimJobsQuery(const ClaimRequest& request, int64_t now, int limit) {
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
