// Executor: runs the due stages of one asset and records the outcome.
//
// For one asset and a set of stages it inserts an attempt row per stage, opens the
// original once from the blob store, runs every stage in one demux/decode pass
// (stages/runner.h), writes outputs under assets/{asset}/{stage}/{attempt}/ (a fresh
// folder per attempt, so a failing run never touches the files of the current result),
// and completes each row in its own transaction: a success becomes current, a failure or
// skip leaves the previous result current and removes the failed attempt's files.
// Finally the asset's status is recomputed over every registered stage.
//
// How work is scheduled (synchronously now, by the durable queue later) is not its
// concern. Thread-safety: one call per Executor at a time; use one per worker thread.
#pragma once

#include <string>
#include <vector>

#include "blob/blob_store.h"
#include "catalog/catalog.h"
#include "core/clock.h"
#include "core/log.h"
#include "stages/registry.h"
#include "stages/runner.h"

namespace reprise::queue {

struct StageReport {
  std::string stage;
  catalog::DerivativeState state = catalog::DerivativeState::kFailed;
  std::string skip_reason;
  std::optional<Error> error;
  int64_t derivative_id = 0;
};

struct AssetReport {
  std::string asset_id;
  std::vector<StageReport> stages;
  catalog::AssetStatus status = catalog::AssetStatus::kPending;
  double seconds = 0;
  // What the one demux/decode pass read (zero when the input could not be opened), so
  // callers can see that the original was read once and how early reading stopped.
  stages::RunStats stats;
};

// What the asset's status shows while its stages run: `processing`, or what it was until
// the new results are in (a backfill with --skip-reset, catalog::NewJob::keep_status).
enum class StatusWhileRunning { kProcessing, kKeep };

class Executor {
 public:
  Executor(catalog::Catalog& catalog, blob::BlobStore& blobs, const stages::Registry& registry,
           const Clock& clock, Logger log)
      : catalog_(catalog),
        blobs_(blobs),
        registry_(registry),
        clock_(clock),
        log_(std::move(log)) {}

  // Runs `due` on `asset`. Errors only when the catalog itself fails; stage failures
  // are reported in AssetReport and recorded on their derivative rows. `options` carry
  // the decode-progress hook a worker uses to renew its lease and notice cancellation
  // (an error from it fails the stages still being fed with that error). Either way the
  // status is recomputed from the results at the end.
  [[nodiscard]] Result<AssetReport> RunAsset(
      const catalog::Asset& asset, const std::vector<const stages::Stage*>& due,
      const stages::RunOptions& options = {},
      StatusWhileRunning while_running = StatusWhileRunning::kProcessing);

  // Closes attempts of `stages` on the asset that are still marked running although no
  // worker runs them any more (their worker was killed, or lost its lease): each becomes
  // failed (kUnavailable, "abandoned") and the files it committed are removed. Call it
  // only while holding the job that owns these stages, so no live attempt is touched.
  // Returns how many were closed.
  [[nodiscard]] Result<int> CloseAbandonedAttempts(const catalog::Asset& asset,
                                                   const std::vector<const stages::Stage*>& stages);

  // ready / failed / pending from the statuses of every registered stage.
  [[nodiscard]] Result<catalog::AssetStatus> ComputeStatus(const std::string& asset_id);

 private:
  catalog::Catalog& catalog_;
  blob::BlobStore& blobs_;
  const stages::Registry& registry_;
  const Clock& clock_;
  Logger log_;
};

// The recipe list of every registered stage, in registration order.
std::vector<catalog::StageRecipe> RecipesOf(const stages::Registry& registry,
                                            const std::vector<const stages::Stage*>& stages);

}  // namespace reprise::queue
