// Streams the rows of a query through a server-side cursor, a page at a time, inside the
// caller's transaction: a scan over a million assets holds one page in memory. `visit`
// returns false to stop early (the cursor is closed either way).
#pragma once

#include <cstddef>
#include <functional>

#include <pqxx/pqxx>

#include "catalog/postgres/pg_query.h"
#include "core/error.h"

namespace reprise::catalog {

inline constexpr int kPgScanPage = 500;

// `page`: rows per FETCH, one round trip each.
[[nodiscard]] Result<void> ScanRows(pqxx::transaction_base& tx, const PgQuery& query,
                                    const std::function<Result<bool>(const pqxx::row&)>& visit,
                                    size_t page = kPgScanPage);

}  // namespace reprise::catalog
