// Rollback in the SQLite catalog (Catalog::RollbackDerivatives): one pass over the
// filtered assets picks, per asset, the current row of the stage and the earlier
// successful row to go back to; then the current flags are swapped pair by pair (the
// partial unique index derivatives_current admits one current row per (asset, stage),
// so the old one is cleared first). Part of the caller's transaction.
#pragma once

#include <cstdint>

#include "catalog/backfill_types.h"
#include "catalog/sqlite/sqlite_connection.h"
#include "core/error.h"

namespace reprise::catalog {

[[nodiscard]] Result<RollbackResult> Rollback(SqliteConnection& db, int64_t now,
                                              const RollbackRequest& request,
                                              const AssetFilter& filter);

}  // namespace reprise::catalog
