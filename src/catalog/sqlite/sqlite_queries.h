// The SQL the SQLite catalog assembles at run time from an AssetFilter, kept apart from
// the code that runs it so tests can EXPLAIN it. Every value travels as a bound
// parameter (`?`, bound left to right in `binds` order); nothing from the caller is ever
// pasted into the text.
//
// Page cursors (catalog/cursor.h), column lists (catalog/codec.h) and the page-size
// maximum (catalog/rules.h) are shared with other backends.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/codec.h"
#include "catalog/cursor.h"
#include "catalog/rules.h"
#include "catalog/sqlite/sqlite_connection.h"
#include "catalog/types.h"
#include "core/error.h"

namespace reprise::catalog {

struct SqlQuery {
  std::string sql;
  std::vector<SqlValue> binds;
};

// The filter as a WHERE clause over alias `a` ("" when it selects everything).
SqlQuery AssetWhere(const AssetFilter& filter);
// The same as conditions each starting with " AND ", to extend a WHERE that exists.
SqlQuery AssetConditions(const AssetFilter& filter);

// One page plus one row (to tell whether another page follows), ordered by
// (created_at, id). `limit` must already be validated.
[[nodiscard]] Result<SqlQuery> ListAssetsQuery(const AssetFilter& filter, std::string_view cursor,
                                               int limit);
SqlQuery CountAssetsQuery(const AssetFilter& filter);
SqlQuery CountAssetsByOwnerQuery(const AssetFilter& filter);

// One row of six counts (current, outdated, missing, failed, skipped, quarantined)
// classifying every asset matching `filter` for one stage and today's recipe, in one
// streaming pass: per asset one index probe for the current row, one for the latest
// finished attempt of that recipe and one for a quarantine entry of its content.
SqlQuery StageStatusCountsQuery(const StageRecipe& stage, const AssetFilter& filter);

// ---- The queue ------------------------------------------------------------------------

// Jobs worth finding after they finished, as the WHERE of the partial index jobs_ended;
// a query must contain this very term for SQLite to use that index.
extern const std::string_view kEndedJobsTerm;

// The filter as conditions over aliases j and a, each starting with " AND " ("" when
// it selects everything); the stage matches any stage row of the job.
SqlQuery JobConditions(const JobFilter& filter);

// The claimable jobs for `request` at `now`, best first (priority DESC, run_after, id), at
// most `limit`, walking the partial index jobs_claim; none holding a stage of `excluded`
// (stages at their limit, catalog/limited_claim.h).
SqlQuery ClaimJobsQuery(const ClaimRequest& request, int64_t now, int limit,
                        const std::vector<std::string>& excluded = {});

// One page plus one row, newest first. `limit` must already be validated.
[[nodiscard]] Result<SqlQuery> ListJobsQuery(const JobFilter& filter, std::string_view cursor,
                                             int limit);

// Failed attempts of one stage and recipe over every asset with one content: binds
// (stage, recipe, sha256); returns COUNT(*) and the id of the latest such attempt.
extern const std::string_view kQuarantineFailuresSql;

// Quarantine entries for content that some asset matching `scope` has.
SqlQuery ListQuarantineQuery(const AssetFilter& scope);
SqlQuery CountQuarantineQuery(const AssetFilter& scope);

}  // namespace reprise::catalog
