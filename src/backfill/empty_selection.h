// Why a selection of assets is empty. A filter that matches nothing (a mistyped owner, an
// asset status where a derivative mode was meant) would otherwise look like a library
// with nothing to do. ExplainEmptySelection() drops each filter the user gave in turn and
// counts again: a filter without which assets would be selected is named, with the values
// the other filters do select for its field (statuses with counts, owners, kinds).
//
// Shared by `backfill` (dry runs and runs) and `assets list`, and later the HTTP API, so
// every caller names the same cause in the same words. With a scope owner (an API user)
// other owners are never listed.
//
// Errors: those of the catalog, and kInvalidArgument for a selection ToFilter() refuses.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backfill/service.h"
#include "catalog/catalog.h"

namespace reprise::backfill {

struct EmptyCause {
  // The option that emptied the selection ("--status", "--owner", ...); empty when no
  // single filter does (an empty library, or filters that only exclude each other).
  std::string filter;
  std::string message;                     // one sentence for people
  std::map<std::string, int64_t> present;  // the field's values the other filters select
};

// Call it for a selection that selected no asset; an empty result means the selection
// is not empty after all (assets were added meanwhile).
[[nodiscard]] Result<std::vector<EmptyCause>> ExplainEmptySelection(catalog::Catalog& catalog,
                                                                    const Selection& selection,
                                                                    const std::string& scope_owner);

// [{"filter": "--status", "message": "...", "present": {"ready": 40}}, ...]
nlohmann::json EmptyCausesJson(const std::vector<EmptyCause>& causes);

}  // namespace reprise::backfill
