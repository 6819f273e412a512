// JSON views of catalog records and service results: the one shape that `--json` on the
// command line prints and the HTTP API (later) returns. Times are RFC 3339 UTC.
#pragma once

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "ingest/ingest.h"
#include "queue/process.h"
#include "stages/registry.h"

namespace reprise::app {

nlohmann::json AssetJson(const catalog::Asset& asset);
nlohmann::json DerivativeJson(const catalog::Derivative& derivative);
nlohmann::json IngestItemJson(const ingest::ItemResult& item);
nlohmann::json IngestSummaryJson(const ingest::Summary& summary);
nlohmann::json ProcessSummaryJson(const queue::ProcessSummary& summary);
nlohmann::json JobJson(const catalog::Job& job);
// `queue`: depth per stage and state, the oldest waiting job's age, running jobs with
// their worker and lease, the quarantine count. Ages are measured against `now_micros`.
nlohmann::json QueueStatsJson(const catalog::QueueStats& stats, int64_t now_micros);
nlohmann::json QuarantineEntryJson(const catalog::QuarantineEntry& entry);
// `queue`: per backfill, its items not dispatched yet ([{backfill_id, state, items,
// assets}]).
nlohmann::json BackfillBacklogJson(const std::vector<catalog::BackfillBacklog>& backlog);

// The whole `assets show` document: the asset, its probe metadata and, per registered
// stage, its status against today's recipe, the current result and the attempt history.
Result<nlohmann::json> AssetDetailJson(catalog::Catalog& catalog, const stages::Registry& registry,
                                       const catalog::Asset& asset);

// `stages`: each stage with version, params, recipe and status counts over `filter`.
Result<nlohmann::json> StagesJson(catalog::Catalog& catalog, const stages::Registry& registry,
                                  const catalog::AssetFilter& filter);

}  // namespace reprise::app
