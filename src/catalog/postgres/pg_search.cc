// Full-text search in the PostgreSQL catalog (Catalog::Search, catalog/search.h): entries
// in search_entries, found through the GIN index on reprise_search_vector(text)
// (migration 14); the query's words go to plainto_tsquery, never parsed as tsquery syntax.
// ts_rank divides by 1 + log(length) (normalization 1) so that, as with SQLite's bm25, a
// word in a short entry outranks the same word in a long one.

#include "catalog/postgres/pg_internal.h"
#include "catalog/search.h"

namespace reprise::catalog {

void StoreSearchEntries(PgContext& c, int64_t derivative_id, std::string_view asset_id,
                        std::string_view stage, const std::vector<SearchEntry>& entries) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& entry : entries) {
    if (entry.text.empty()) continue;
    rows.push_back({{"kind", entry.kind},
                    {"text", entry.text},
                    {"scene", entry.scene},
                    {"start_s", entry.start},
                    {"end_s", entry.end}});
  }
  if (rows.empty()) return;
  // One statement however many entries; WITH ORDINALITY keeps their order in the ids.
  Exec(c.tx,
       "INSERT INTO search_entries (derivative_id, asset_id, stage, kind, scene, start_s, end_s,"
       " text) SELECT $1, $2, $3, x.kind, x.scene, x.start_s, x.end_s, x.text"
       " FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY AS r(value, n),"
       " jsonb_to_record(r.value) AS x(kind TEXT, text TEXT, scene INTEGER,"
       " start_s DOUBLE PRECISION, end_s DOUBLE PRECISION) ORDER BY r.n",
       derivative_id, asset_id, stage, rows.dump());
}

Result<SearchPage> PostgresCatalog::Search(const SearchQuery& query, const AssetFilter& scope) {
  auto offset = CheckSearchQuery(query);
  if (!offset) return Fail(std::move(offset.error()));
  const auto words = SearchWords(query.text);
  if (words.empty()) return SearchPage{};
  std::string text;
  for (const auto& word : words) text += (text.empty() ? "" : " ") + word;

  PgQuery select;
  const std::string tsquery = "plainto_tsquery('simple'::regconfig, " + select.Add(text) + ")";
  select.sql =
      "SELECT e.asset_id, a.original_name, e.stage, e.kind, e.text, e.start_s, e.end_s,"
      " e.scene, ts_rank(reprise_search_vector(e.text), " +
      tsquery +
      ", 1)::DOUBLE PRECISION AS score"
      " FROM search_entries e JOIN assets a ON a.id = e.asset_id"
      " LEFT JOIN derivatives d ON d.id = e.derivative_id"
      " WHERE reprise_search_vector(e.text) @@ " +
      tsquery + " AND (e.derivative_id IS NULL OR d.is_current = 1)";
  if (!query.kinds.empty()) {
    select.sql += " AND e.kind = ANY(ARRAY(SELECT jsonb_array_elements_text(" +
                  select.Add(JsonList(query.kinds)) + "::jsonb)))";
  }
  AddAssetConditions(scope, select);
  select.sql += " ORDER BY score DESC, a.created_at, a.id, e.start_s, e.id LIMIT " +
                select.Add(static_cast<int64_t>(query.limit) + 1) + " OFFSET " +
                select.Add(*offset);
  return Run(PgRetry::kYes, "searching", [&](PgContext& c) -> Result<SearchPage> {
    std::vector<SearchHit> hits;  // built afresh when a retry runs this again
    for (const auto& row : Exec(c.tx, select)) {
      hits.push_back({Text(row[0]), Text(row[1]), Text(row[2]), Text(row[3]), Text(row[4]),
                      row[5].as<double>(), row[6].as<double>(), static_cast<int>(Int(row[7])),
                      row[8].as<double>()});
    }
    return SearchPageOf(std::move(hits), *offset, query.limit);
  });
}

}  // namespace reprise::catalog
