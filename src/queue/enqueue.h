// EnqueueDue: puts the work that is due on a selection of assets into the durable queue.
//
// It streams the assets matching a filter page by page (memory bounded by one page),
// asks the catalog how each stands for the selected stages, and enqueues the stages that
// are due in one job per asset: missing and outdated ones, and failed ones when asked.
// A due stage that consumes others (Stage::Inputs()) brings along those of its inputs,
// selected or not, that are due by the same rule, so the job builds them first.
// Stages that are current, skipped or quarantined are left alone. A stage already queued
// or running for the asset is not enqueued twice (Catalog::Enqueue merges or reports it
// as already active).
//
// Errors: kInvalidArgument for an unknown stage name; a catalog error stops the walk and
// is returned (what was enqueued until then stays queued). Thread-safety: as the Catalog.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "stages/registry.h"

namespace reprise::queue {

struct EnqueueDueOptions {
  catalog::AssetFilter filter;
  std::vector<std::string> stages;  // empty: every registered stage
  bool include_failed = false;      // also stages whose latest attempt failed
  int priority = catalog::kLivePriority;
  int max_attempts = 5;
  std::optional<int64_t> backfill_id;
  // Jobs hold only selected stages (catalog::NewJob::separate): for a pool that runs
  // nothing else.
  bool separate = false;
};

struct EnqueueDueCounts {
  int64_t assets_seen = 0;
  int64_t assets_due = 0;    // assets with at least one due stage
  int64_t jobs_created = 0;  // new job rows
  int64_t jobs_merged = 0;   // stages added to a job that was already queued
  int64_t stages_enqueued = 0;
  int64_t stages_already_active = 0;           // due, but already queued or running
  std::map<std::string, int64_t> quarantined;  // by stage: left alone
};

// One asset with due stages, as enqueued.
struct DueAsset {
  const catalog::Asset& asset;
  std::vector<std::string> due;  // in registration order
  const catalog::EnqueueResult& result;
};

[[nodiscard]] Result<EnqueueDueCounts> EnqueueDue(
    catalog::Catalog& catalog, const stages::Registry& registry, const EnqueueDueOptions& options,
    const std::function<void(const DueAsset&)>& on_due = nullptr);

}  // namespace reprise::queue
