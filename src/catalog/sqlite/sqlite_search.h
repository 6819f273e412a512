// Full-text search in the SQLite catalog (Catalog::Search, catalog/search.h): entries in
// search_entries, their text indexed by the FTS5 table search_fts (migration 14).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "catalog/search.h"
#include "catalog/sqlite/sqlite_connection.h"
#include "catalog/types.h"
#include "core/error.h"

namespace reprise::catalog {

// Stores the entries of a derivative that completed done, inside the caller's
// transaction; entries with empty text are left out.
[[nodiscard]] Result<void> StoreSearchEntries(SqliteConnection& db, int64_t derivative_id,
                                              std::string_view asset_id, std::string_view stage,
                                              const std::vector<SearchEntry>& entries);

}  // namespace reprise::catalog
