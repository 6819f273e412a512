// JSON views of catalog records and service results: the one shape that `--json` on the
// command line prints and the HTTP API returns, so the two cannot drift apart. Times are
// RFC 3339 UTC. Pure functions of their arguments (ages are measured against a `now`
// passed in); thread-safe.
//
// Views that hand out files take a SignUrl: when set, every blob object gets a "url"
// (the API's signed, expiring blob URL); the command line passes none and prints keys.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "backfill/empty_selection.h"
#include "catalog/catalog.h"
#include "ingest/ingest.h"
#include "stages/registry.h"

namespace reprise::services {

// Maps a blob key to a URL that serves it (http::BlobUrlSigner::Sign behind it).
using SignUrl = std::function<Result<std::string>(std::string_view key)>;

nlohmann::json AssetJson(const catalog::Asset& asset);
nlohmann::json DerivativeJson(const catalog::Derivative& derivative);
nlohmann::json IngestItemJson(const ingest::ItemResult& item);
nlohmann::json IngestSummaryJson(const ingest::Summary& summary);
nlohmann::json JobJson(const catalog::Job& job);
// `queue`: depth per stage and state, the oldest waiting job's age, running jobs with
// their worker and lease, the quarantine count. Ages are measured against `now_micros`.
nlohmann::json QueueStatsJson(const catalog::QueueStats& stats, int64_t now_micros);
nlohmann::json QuarantineEntryJson(const catalog::QuarantineEntry& entry);
// `queue`: per backfill, its items not dispatched yet ([{backfill_id, state, items,
// assets}]).
nlohmann::json BackfillBacklogJson(const std::vector<catalog::BackfillBacklog>& backlog);

// One page of a listing: {"items": [...], "next_cursor": "..." or null}, plus
// "empty_selection" (backfill::EmptyCausesJson) when nothing matched and causes are known.
nlohmann::json PageJson(nlohmann::json items, const std::string& next_cursor,
                        const std::vector<backfill::EmptyCause>& empty = {});

// The whole `assets show` document: the asset, its status and error (the latest error of
// a failed stage, null when none failed), its probe metadata and, per registered stage,
// its status against today's recipe, the current result and the attempt history. With
// `sign`, each file (the original and every derivative blob) carries its "url".
Result<nlohmann::json> AssetDetailJson(catalog::Catalog& catalog, const stages::Registry& registry,
                                       const catalog::Asset& asset, const SignUrl& sign = {});

// `stages`: each stage with version, params, recipe and status counts over `filter`.
Result<nlohmann::json> StagesJson(catalog::Catalog& catalog, const stages::Registry& registry,
                                  const catalog::AssetFilter& filter);

}  // namespace reprise::services
