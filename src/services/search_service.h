// SearchService: full-text search for a caller, the rules behind `reprise search` and
// `GET /api/v1/search` (catalog/search.h says what matches and how hits rank).
//
// The caller's scope applies as for asset listings: an owner's token finds only that
// owner's assets (another owner's text is simply not found); an admin finds every owner's
// unless it narrows to one with selection.owner, which a non-admin naming another owner
// gets kPermissionDenied for. The other backfill filters (status, kind, --where, ...)
// narrow the assets searched. kInvalidArgument for an empty query, a limit outside
// 1..100, a bad cursor or a filter that does not parse. Thread-safe as the catalog is.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backfill/service.h"
#include "catalog/catalog.h"
#include "services/caller.h"

namespace reprise::services {

// {"asset_id", "asset_name", "stage", "kind", "text", "start", "end", "scene", "rank"};
// start/end in seconds (null when the entry is not timed), scene null when none.
nlohmann::json SearchHitJson(const catalog::SearchHit& hit);
// {"query", "hits": [SearchHitJson...], "next_cursor"}
nlohmann::json SearchPageJson(const std::string& query, const catalog::SearchPage& page);
// "1:02" for 62.4 s, "1:02:03" past the hour, "-" when not timed: where a player jumps.
std::string SearchOffsetText(double seconds);

class SearchService final {
 public:
  explicit SearchService(catalog::Catalog& catalog) : catalog_(catalog) {}

  [[nodiscard]] Result<catalog::SearchPage> Search(const Caller& caller,
                                                   const backfill::Selection& selection,
                                                   const catalog::SearchQuery& query);

 private:
  catalog::Catalog& catalog_;
};

}  // namespace reprise::services
