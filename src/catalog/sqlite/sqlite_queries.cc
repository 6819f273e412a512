#include "catalog/sqlite/sqlite_queries.h"

#include <charconv>
#include <system_error>
#include <utility>

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

}  // namespace

const std::string_view kAssetColumns =
    "a.id, a.owner, a.source, a.sha256, a.cid, a.size_bytes, a.original_key, a.original_name,"
    " a.source_uri, a.status, a.kind, a.container, a.duration_seconds, a.width, a.height,"
    " a.parent_id, a.refs, a.created_at, a.updated_at";

std::string EncodeAssetCursor(int64_t created_at, std::string_view id) {
  std::string plain = std::to_string(created_at) + ":" + std::string(id);
  std::string hex;
  hex.reserve(plain.size() * 2);
  for (unsigned char c : plain) {
    hex.push_back(kHexDigits[c >> 4]);
    hex.push_back(kHexDigits[c & 0xf]);
  }
  return hex;
}

Result<AssetCursor> DecodeAssetCursor(std::string_view cursor) {
  if (cursor.empty() || cursor.size() % 2 != 0) return BadCursor();
  std::string plain;
  plain.reserve(cursor.size() / 2);
  for (size_t i = 0; i < cursor.size(); i += 2) {
    int high = HexValue(cursor[i]);
    int low = HexValue(cursor[i + 1]);
    if (high < 0 || low < 0) return BadCursor();
    plain.push_back(static_cast<char>(high * 16 + low));
  }
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

SqlQuery AssetWhere(const AssetFilter& filter) {
  SqlQuery where;
  auto add = [&where](std::string_view clause, SqlValue value) {
    where.sql += where.sql.empty() ? " WHERE " : " AND ";
    where.sql += clause;
    where.binds.push_back(std::move(value));
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
  return where;
}

Result<SqlQuery> ListAssetsQuery(const AssetFilter& filter, std::string_view cursor, int limit) {
  SqlQuery query = AssetWhere(filter);
  query.sql = "SELECT " + std::string(kAssetColumns) + " FROM assets a" + query.sql;
  if (!cursor.empty()) {
    auto after = DecodeAssetCursor(cursor);
    if (!after) return Fail(std::move(after.error()));
    query.sql += query.binds.empty() ? " WHERE " : " AND ";
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

SqlQuery StageStatusCountsQuery(const StageRecipe& stage, const AssetFilter& filter) {
  // The rule (types.h StageStatus), with L the latest finished attempt of today's recipe
  // and C the current row: L skipped -> skipped; C built by today's recipe -> current;
  // L failed -> failed; any C -> outdated; else missing. Written as a simple CASE on L
  // so its subquery runs once per asset; C comes from a join on the partial unique
  // index of current rows. "LIMIT -1" keeps SQLite from flattening the inner query into
  // the aggregate, which would evaluate the correlated subquery once per reference;
  // counting with COUNT(CASE ...) needs no sort, so the pass streams.
  SqlQuery where = AssetWhere(filter);
  SqlQuery query;
  query.sql =
      "SELECT COUNT(CASE WHEN cls = 'current' THEN 1 END),"
      " COUNT(CASE WHEN cls = 'outdated' THEN 1 END),"
      " COUNT(CASE WHEN cls = 'missing' THEN 1 END),"
      " COUNT(CASE WHEN cls = 'failed' THEN 1 END),"
      " COUNT(CASE WHEN cls = 'skipped' THEN 1 END)"
      " FROM (SELECT CASE ("
      "SELECT d.state FROM derivatives d"
      " WHERE d.asset_id = a.id AND d.stage = ? AND d.recipe = ?"
      " AND d.state IN ('done', 'failed', 'skipped')"
      " ORDER BY d.id DESC LIMIT 1)"
      " WHEN 'skipped' THEN 'skipped'"
      " WHEN 'failed' THEN CASE WHEN c.recipe = ? THEN 'current' ELSE 'failed' END"
      " ELSE CASE WHEN c.recipe = ? THEN 'current'"
      " WHEN c.recipe IS NOT NULL THEN 'outdated' ELSE 'missing' END"
      " END AS cls"
      " FROM assets a"
      " LEFT JOIN derivatives c"
      " ON c.asset_id = a.id AND c.stage = ? AND c.is_current = 1" +
      where.sql + " LIMIT -1) classified";
  query.binds = {stage.stage, stage.recipe, stage.recipe, stage.recipe, stage.stage};
  for (auto& value : where.binds) query.binds.push_back(std::move(value));
  return query;
}

}  // namespace reprise::catalog
