// The PostgreSQL backend's plan scan (Catalog::ScanStagePairs, and CreateBackfill's scan):
// every (asset, stage) pair of the filter in plan order, its status found as
// catalog/pair_chunk.h describes. One query joins the filtered assets to their
// derivative rows of the asked stages and returns them in plan order, a cursor page at a
// time. That lets the server read both tables in one pass each (a hash join and a sort
// over a large library) instead of descending derivatives_history once per asset, which
// was most of a million-asset dry run (docs/PERFORMANCE.md, backfill planning). The rows
// are gathered into PairChunks; a chunk's active job stages and quarantine entries are
// looked up by its sorted keys, and only when those tables hold rows. Runs inside the
// caller's transaction; memory is bounded by a chunk and a cursor page.
#pragma once

#include <vector>

#include <pqxx/pqxx>

#include "catalog/catalog.h"
#include "core/error.h"

namespace reprise::catalog {

// kInvalidArgument for a derivative row with an unknown state; the visitor returning false
// stops the scan.
[[nodiscard]] Result<void> ScanPgStagePairs(pqxx::work& tx, const std::vector<StageRecipe>& stages,
                                            const AssetFilter& filter,
                                            const Catalog::PairVisitor& visit);

}  // namespace reprise::catalog
