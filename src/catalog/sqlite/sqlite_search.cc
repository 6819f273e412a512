#include "catalog/sqlite/sqlite_search.h"

#include <mutex>
#include <string>

#include "catalog/sqlite/sqlite_catalog.h"
#include "catalog/sqlite/sqlite_queries.h"

namespace reprise::catalog {

Result<void> StoreSearchEntries(SqliteConnection& db, int64_t derivative_id,
                                std::string_view asset_id, std::string_view stage,
                                const std::vector<SearchEntry>& entries) {
  for (const auto& entry : entries) {
    if (entry.text.empty()) continue;
    auto insert = db.Prepare(
        "INSERT INTO search_entries (derivative_id, asset_id, stage, kind, scene, start_s,"
        " end_s, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!insert) return Fail(std::move(insert.error()));
    insert->BindInt64(derivative_id)
        .BindText(asset_id)
        .BindText(stage)
        .BindText(entry.kind)
        .BindInt64(entry.scene)
        .BindDouble(entry.start)
        .BindDouble(entry.end)
        .BindText(entry.text);
    REPRISE_TRY(insert->Run());
  }
  return {};
}

Result<SearchPage> SqliteCatalog::Search(const SearchQuery& query, const AssetFilter& scope) {
  auto offset = CheckSearchQuery(query);
  if (!offset) return Fail(std::move(offset.error()));
  const auto words = SearchWords(query.text);
  if (words.empty()) return SearchPage{};

  SqlQuery select;
  select.sql =
      "SELECT e.asset_id, a.original_name, e.stage, e.kind, e.text, e.start_s, e.end_s,"
      " e.scene, -bm25(search_fts) AS score"
      " FROM search_fts JOIN search_entries e ON e.id = search_fts.rowid"
      " JOIN assets a ON a.id = e.asset_id"
      " LEFT JOIN derivatives d ON d.id = e.derivative_id"
      " WHERE search_fts MATCH ? AND (e.derivative_id IS NULL OR d.is_current = 1)";
  select.binds.emplace_back(Fts5MatchExpression(words));
  if (!query.kinds.empty()) {
    select.sql += " AND e.kind IN (SELECT value FROM json_each(?))";
    select.binds.emplace_back(nlohmann::json(query.kinds).dump());
  }
  SqlQuery conditions = AssetConditions(scope);
  select.sql += conditions.sql;
  for (auto& value : conditions.binds) select.binds.push_back(std::move(value));
  select.sql += " ORDER BY score DESC, a.created_at, a.id, e.start_s, e.id LIMIT ? OFFSET ?";
  // One more than asked: whether another page follows.
  select.binds.emplace_back(static_cast<int64_t>(query.limit) + 1);
  select.binds.emplace_back(*offset);

  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto run = [&]() -> Result<SearchPage> {
    std::vector<SearchHit> hits;
    auto statement = db.Prepare(select.sql);
    if (!statement) return Fail(std::move(statement.error()));
    statement->BindAll(select.binds);
    REPRISE_TRY(statement->ForEachRow([&](const Statement& row) -> Result<bool> {
      hits.push_back({row.Text(0), row.Text(1), row.Text(2), row.Text(3), row.Text(4),
                      row.Double(5), row.Double(6), static_cast<int>(row.Int64(7)), row.Double(8)});
      return true;
    }));
    return SearchPageOf(std::move(hits), *offset, query.limit);
  };
  auto result = InTransaction(db, Transaction::Mode::kDeferred, run);
  if (!result) return Fail(result.error().Wrap("searching"));
  return result;
}

}  // namespace reprise::catalog
