#include "catalog/postgres/pg_pair_scan.h"

#include <string>
#include <string_view>

#include "catalog/pair_chunk.h"
#include "catalog/postgres/pg_internal.h"
#include "catalog/postgres/pg_scan.h"

namespace reprise::catalog {
namespace {

// Rows per cursor page: about two chunks' worth of assets with two derivatives each.
constexpr size_t kJoinedPage = 2 * PairChunk::kAssets;

// The filtered assets in plan order, each with its derivative rows of the asked stages
// (or one row of NULLs). Columns: asset id, created_at, duration_seconds, sha256 (empty
// unless the quarantine is looked up), then the derivative's stage, id, recipe,
// is_current, state, skip_reason, error_code.
PgQuery JoinedQuery(const std::vector<StageRecipe>& stages, const AssetFilter& filter,
                    bool with_contents) {
  std::vector<std::string> names;
  for (const auto& stage : stages) names.push_back(stage.stage);
  PgQuery query;
  query.sql = std::string("SELECT a.id, a.created_at, a.duration_seconds, ") +
              (with_contents ? "a.sha256" : "''") +
              ", d.stage, d.id, d.recipe, d.is_current, d.state, d.skip_reason, d.error_code"
              " FROM assets a LEFT JOIN derivatives d ON d.asset_id = a.id"
              " AND d.stage = ANY(ARRAY(SELECT jsonb_array_elements_text(" +
              query.Add(JsonList(names)) + "::jsonb))) WHERE true";
  AddAssetConditions(filter, query);
  query.sql += " ORDER BY a.created_at, a.id";
  return query;
}

// Chunk lookups: $1 is a JSON array of the chunk's sorted keys (asset ids or sha256),
// column 0 the key's position in it (0-based), column 1 the stage.
constexpr std::string_view kChunkActive =
    "SELECT k.n - 1, s.stage FROM jsonb_array_elements_text($1::jsonb) WITH ORDINALITY"
    " k(key, n) JOIN job_stages s ON s.asset_id = k.key AND s.active = 1";
constexpr std::string_view kChunkQuarantine =
    "SELECT k.n - 1, q.stage, q.recipe FROM jsonb_array_elements_text($1::jsonb) WITH"
    " ORDINALITY k(key, n) JOIN quarantine q ON q.sha256 = k.key";

class Scan final {
 public:
  Scan(pqxx::work& tx, const std::vector<StageRecipe>& stages, const Catalog::PairVisitor& visit)
      : tx_(tx), chunk_(stages), stages_(stages), visit_(visit) {}

  Result<void> Run(const AssetFilter& filter) {
    // The query is planned for all its rows (a cursor is planned for the first tenth by
    // default, which picks a descent per asset), without JIT compilation (0.7 s of a
    // 0.8 s scan over 2,000 assets, for rows only passed through), with memory enough to
    // hash a million assets in one batch; the sort spills to disk beyond its share.
    Exec(tx_, "SET LOCAL jit = off");
    Exec(tx_, "SET LOCAL cursor_tuple_fraction = 1");
    Exec(tx_, "SET LOCAL work_mem = '64MB'");
    const auto any = Exec(tx_,
                          "SELECT EXISTS (SELECT 1 FROM job_stages WHERE active = 1),"
                          " EXISTS (SELECT 1 FROM quarantine)")[0];
    any_active_ = any[0].as<bool>();
    any_quarantine_ = any[1].as<bool>();
    bool more = true;
    auto scanned = ScanRows(
        tx_, JoinedQuery(stages_, filter, any_quarantine_),
        [&](const pqxx::row& row) -> Result<bool> {
          const std::string_view id = View(row[0]);
          if (chunk_.Empty() || id != last_id_) {
            if (chunk_.Full()) {
              auto flushed = Flush();
              if (!flushed) return Fail(std::move(flushed.error()));
              if (!*flushed) {
                more = false;
                return false;
              }
            }
            chunk_.Add({std::string(id), Int(row[1]), OptionalDouble(row[2]), Text(row[3])});
            last_id_.assign(id);
          }
          if (row[4].is_null()) return true;
          REPRISE_TRY(chunk_.AddDerivativeOfLast(View(row[4]), Int(row[5]), View(row[6]),
                                                 Int(row[7]) != 0, View(row[8]), View(row[9]),
                                                 View(row[10])));
          return true;
        },
        kJoinedPage);
    if (!scanned) return Fail(std::move(scanned.error()));
    if (more && !chunk_.Empty()) {
      REPRISE_TRY(Flush());
    }
    return {};
  }

 private:
  static std::string_view View(const pqxx::field& field) { return {field.c_str(), field.size()}; }

  // Looks the chunk's active stages and quarantine up and visits its pairs; false when
  // the visitor stopped.
  Result<bool> Flush() {
    if (any_active_) {
      const PairChunk::Keys ids = chunk_.AssetIds();
      for (const auto& row : Exec(tx_, std::string(kChunkActive), ids.json)) {
        REPRISE_TRY(chunk_.MarkActive(ids, static_cast<size_t>(Int(row[0])), View(row[1])));
      }
    }
    if (any_quarantine_) {
      const PairChunk::Keys contents = chunk_.Contents();
      for (const auto& row : Exec(tx_, std::string(kChunkQuarantine), contents.json)) {
        REPRISE_TRY(chunk_.MarkQuarantined(contents, static_cast<size_t>(Int(row[0])), View(row[1]),
                                           View(row[2])));
      }
    }
    return chunk_.Visit(visit_);
  }

  pqxx::work& tx_;
  PairChunk chunk_;
  const std::vector<StageRecipe>& stages_;
  const Catalog::PairVisitor& visit_;
  std::string last_id_;
  bool any_active_ = false;
  bool any_quarantine_ = false;
};

}  // namespace

Result<void> ScanPgStagePairs(pqxx::work& tx, const std::vector<StageRecipe>& stages,
                              const AssetFilter& filter, const Catalog::PairVisitor& visit) {
  Scan scan(tx, stages, visit);
  return scan.Run(filter);
}

}  // namespace reprise::catalog
