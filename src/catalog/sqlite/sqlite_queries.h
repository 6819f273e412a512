// The SQL the SQLite catalog assembles at run time from an AssetFilter, kept apart from
// the code that runs it so tests can EXPLAIN it. Every value travels as a bound
// parameter (`?`, bound left to right in `binds` order); nothing from the caller is ever
// pasted into the text.
//
// Page cursors are opaque to callers: the hex of "<created_at>:<id>" of the last item
// returned. DecodeAssetCursor() refuses anything else with kInvalidArgument.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/sqlite/sqlite_connection.h"
#include "catalog/types.h"
#include "core/error.h"

namespace reprise::catalog {

struct SqlQuery {
  std::string sql;
  std::vector<SqlValue> binds;
};

// Columns read by ReadAsset(), in order, qualified with the alias `a`.
extern const std::string_view kAssetColumns;

// The largest page ListAssets() returns; larger requests are trimmed to it.
constexpr int kMaxPageLimit = 1000;

struct AssetCursor {
  int64_t created_at = 0;
  std::string id;
};
std::string EncodeAssetCursor(int64_t created_at, std::string_view id);
[[nodiscard]] Result<AssetCursor> DecodeAssetCursor(std::string_view cursor);

// The filter as a WHERE clause over alias `a` ("" when it selects everything).
SqlQuery AssetWhere(const AssetFilter& filter);

// One page plus one row (to tell whether another page follows), ordered by
// (created_at, id). `limit` must already be validated.
[[nodiscard]] Result<SqlQuery> ListAssetsQuery(const AssetFilter& filter, std::string_view cursor,
                                               int limit);
SqlQuery CountAssetsQuery(const AssetFilter& filter);

// One row of five counts (current, outdated, missing, failed, skipped) classifying every
// asset matching `filter` for one stage and today's recipe, in one streaming pass: per
// asset one index probe for the current row and one for the latest finished attempt of
// that recipe.
SqlQuery StageStatusCountsQuery(const StageRecipe& stage, const AssetFilter& filter);

}  // namespace reprise::catalog
