#include "catalog/postgres/pg_catalog.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "catalog/cursor.h"
#include "catalog/migrations/migrations.h"
#include "catalog/postgres/pg_internal.h"
#include "catalog/postgres/pg_migrator.h"
#include "catalog/postgres/pg_scan.h"
#include "catalog/rules.h"

namespace reprise::catalog {
namespace {

using nlohmann::json;

Result<Derivative> LoadDerivative(PgContext& c, int64_t id, bool for_update) {
  auto rows = Exec(c.tx,
                   "SELECT " + std::string(kDerivativeColumns) + " FROM derivatives WHERE id = $1" +
                       (for_update ? " FOR UPDATE" : ""),
                   id);
  if (rows.empty()) {
    return Fail(ErrorCode::kNotFound, "derivative " + std::to_string(id) + " not found");
  }
  return ReadDerivative(PgRow(rows[0]));
}

bool AssetExists(PgContext& c, std::string_view id) {
  return !Exec(c.tx, "SELECT 1 FROM assets WHERE id = $1", id).empty();
}

}  // namespace

Error InContext(Error error, std::string_view context) {
  if (error.origin.rfind("sqlstate:", 0) == 0) return error.Wrap(context);
  return error;
}

// ---- The catalog ---------------------------------------------------------------------

PostgresCatalog::PostgresCatalog(std::unique_ptr<PgPool> pool, const Clock& clock,
                                 PgPoolOptions options)
    : pool_(std::move(pool)), clock_(clock), listener_(pool_->url(), options, listeners_) {}

PostgresCatalog::~PostgresCatalog() = default;

Result<std::unique_ptr<Catalog>> PostgresCatalog::Open(const std::string& url, const Clock& clock,
                                                       PgPoolOptions options) {
  auto pool = std::make_unique<PgPool>(url, options);
  auto migrations = PostgresMigrations();
  auto migrated = MigratePostgres(*pool, migrations, static_cast<int>(migrations.size()), clock);
  if (!migrated) {
    return Fail(InContext(std::move(migrated.error()), "migrating " + RedactPgUrl(url)));
  }
  return std::unique_ptr<Catalog>(new PostgresCatalog(std::move(pool), clock, options));
}

std::string PostgresCatalog::Describe() const { return RedactPgUrl(pool_->url()); }

Result<int> PostgresCatalog::SchemaVersion() {
  auto applied = ReadPgMigrations(*pool_);
  if (!applied) {
    return Fail(InContext(std::move(applied.error()), "reading the schema version"));
  }
  return applied->empty() ? 0 : applied->back().version;
}

// ---- Assets ------------------------------------------------------------------------------

Result<InsertAssetResult> PostgresCatalog::InsertAsset(const NewAsset& asset) {
  return Run(PgRetry::kYes, "inserting asset " + asset.id,
             [&](PgContext& c) { return InsertAssetIn(c, asset); });
}

Result<Asset> PostgresCatalog::GetAsset(std::string_view id, const AssetFilter& scope) {
  return Run(PgRetry::kYes, "reading asset " + std::string(id),
             [&](PgContext& c) { return LoadAsset(c, id, scope); });
}

Result<AssetPage> PostgresCatalog::ListAssets(const AssetFilter& filter, const PageRequest& page) {
  auto limit = CheckedPageLimit(page);
  if (!limit) return Fail(std::move(limit.error()));
  PgQuery query;
  query.sql = "SELECT " + std::string(kAssetColumns) + " FROM assets a WHERE true";
  AddAssetConditions(filter, query);
  if (!page.cursor.empty()) {
    auto after = DecodeAssetCursor(page.cursor);
    if (!after) return Fail(std::move(after.error()));
    query.sql += " AND (a.created_at, a.id) > (" + query.Add(after->created_at) + ", " +
                 query.Add(after->id) + ")";
  }
  query.sql += " ORDER BY a.created_at, a.id LIMIT " + query.Add(int64_t{*limit} + 1);
  return Run(PgRetry::kYes, "listing assets", [&](PgContext& c) -> Result<AssetPage> {
    AssetPage result;
    for (const auto& row : Exec(c.tx, query)) {
      if (static_cast<int>(result.items.size()) == *limit) {
        const Asset& last = result.items.back();
        result.next_cursor = EncodeAssetCursor(last.created_at, last.id);
        break;
      }
      auto asset = ReadAsset(PgRow(row));
      if (!asset) return Fail(std::move(asset.error()));
      result.items.push_back(std::move(*asset));
    }
    return result;
  });
}

Result<int64_t> PostgresCatalog::CountAssets(const AssetFilter& filter) {
  PgQuery query{"SELECT COUNT(*) FROM assets a WHERE true", {}};
  AddAssetConditions(filter, query);
  return Run(PgRetry::kYes, "counting assets",
             [&](PgContext& c) -> Result<int64_t> { return Int(Exec(c.tx, query)[0][0]); });
}

Result<std::map<std::string, int64_t>> PostgresCatalog::CountAssetsByOwner(
    const AssetFilter& filter) {
  PgQuery query{"SELECT a.owner, COUNT(*) FROM assets a WHERE true", {}};
  AddAssetConditions(filter, query);
  query.sql += " GROUP BY a.owner";
  return Run(PgRetry::kYes, "counting assets per owner",
             [&](PgContext& c) -> Result<std::map<std::string, int64_t>> {
               std::map<std::string, int64_t> counts;
               for (const auto& row : Exec(c.tx, query)) counts[Text(row[0])] = Int(row[1]);
               return counts;
             });
}

Result<void> PostgresCatalog::SetAssetStatus(std::string_view id, AssetStatus status) {
  return Run(PgRetry::kYes, "setting status of asset " + std::string(id),
             [&](PgContext& c) -> Result<void> {
               // The old status is read under the row lock the update takes anyway.
               auto rows =
                   Exec(c.tx, "SELECT status, owner FROM assets WHERE id = $1 FOR UPDATE", id);
               if (rows.empty()) return AssetNotFound(id);
               const std::string previous = Text(rows[0][0]);
               Exec(c.tx, "UPDATE assets SET status = $1, updated_at = $2 WHERE id = $3",
                    Name(status), c.now, id);
               // Only a real change is news; pending is where work waits, not an outcome.
               if (previous == Name(status) || status == AssetStatus::kPending) return {};
               Event event;
               event.type = status == AssetStatus::kReady    ? std::string(kEventAssetReady)
                            : status == AssetStatus::kFailed ? std::string(kEventAssetFailed)
                                                             : std::string(kEventAssetProcessing);
               event.owner = Text(rows[0][1]);
               event.asset_id = std::string(id);
               event.data = {{"status", Name(status)}, {"previous_status", previous}};
               REPRISE_TRY(AppendPgEvent(c, std::move(event)));
               return {};
             });
}

// ---- Derivatives -------------------------------------------------------------------------

Result<int64_t> PostgresCatalog::StartDerivative(std::string_view asset_id, std::string_view stage,
                                                 int stage_version, std::string_view recipe,
                                                 const nlohmann::json& params) {
  REPRISE_TRY(CheckDerivativeStart(stage, recipe));
  return Run(
      PgRetry::kYes, "starting " + std::string(stage) + " on asset " + std::string(asset_id),
      [&](PgContext& c) -> Result<int64_t> {
        // The asset row lock orders attempts of one asset, so `attempts` counts right when
        // two start at once (and a deleted asset is seen as missing).
        if (Exec(c.tx, "SELECT 1 FROM assets WHERE id = $1 FOR NO KEY UPDATE", asset_id).empty()) {
          return AssetNotFound(asset_id);
        }
        auto rows = Exec(
            c.tx,
            "INSERT INTO derivatives (asset_id, stage, stage_version, recipe, params, state,"
            " attempts, created_at, started_at) SELECT $1::text, $2::text, $3::integer, $4::text,"
            " $5::text, $6::text, 1 + (SELECT COUNT(*) FROM derivatives WHERE asset_id = $1"
            " AND stage = $2 AND recipe = $4), $7::bigint, $7::bigint RETURNING id",
            asset_id, stage, stage_version, recipe, DumpJson(params),
            Name(DerivativeState::kRunning), c.now);
        return Int(rows[0][0]);
      });
}

Result<Derivative> PostgresCatalog::CompleteDerivative(int64_t derivative_id,
                                                       const DerivativeOutcome& outcome) {
  REPRISE_TRY(ValidateOutcome(outcome));
  REPRISE_TRY(CheckSearchEntries(outcome.search));
  return Run(
      PgRetry::kYes, "completing derivative " + std::to_string(derivative_id),
      [&](PgContext& c) -> Result<Derivative> {
        auto attempt = LoadDerivative(c, derivative_id, /*for_update=*/true);
        if (!attempt) return Fail(std::move(attempt.error()));
        // A late completion (e.g. from a worker whose lease was taken over) must not
        // rewrite a result that is already recorded.
        if (attempt->state != DerivativeState::kRunning &&
            attempt->state != DerivativeState::kPending) {
          return Fail(ErrorCode::kConflict, "derivative " + std::to_string(derivative_id) +
                                                " is already " + std::string(Name(attempt->state)));
        }
        const bool done = outcome.state == DerivativeState::kDone;
        if (done) {
          // Completions of one asset take turns on its row: two attempts finishing at once
          // would otherwise both demote the old current row and both try to take its place.
          Exec(c.tx, "SELECT 1 FROM assets WHERE id = $1 FOR NO KEY UPDATE", attempt->asset_id);
          // Demote first: the partial unique index allows one current row at any moment.
          Exec(c.tx,
               "UPDATE derivatives SET is_current = 0"
               " WHERE asset_id = $1 AND stage = $2 AND is_current = 1",
               attempt->asset_id, attempt->stage);
        }
        int64_t bytes = 0;
        for (const auto& blob : outcome.blobs) bytes += blob.size;
        std::string error_code;
        std::string error_message;
        if (outcome.state == DerivativeState::kFailed && outcome.error) {
          error_code = ErrorCodeName(outcome.error->code);
          error_message = outcome.error->message;
          if (!outcome.error->origin.empty()) error_message += " (" + outcome.error->origin + ")";
        }
        Exec(c.tx,
             "UPDATE derivatives SET state = $1, skip_reason = $2, error_code = $3,"
             " error_message = $4, metadata = $5, blobs = $6, bytes = $7, is_current = $8,"
             " finished_at = $9 WHERE id = $10",
             Name(outcome.state),
             outcome.state == DerivativeState::kSkipped ? outcome.skip_reason : "", error_code,
             error_message, DumpJson(outcome.metadata), BlobsToJson(outcome.blobs), bytes, done,
             c.now, derivative_id);
        if (done)
          StoreSearchEntries(c, derivative_id, attempt->asset_id, attempt->stage, outcome.search);
        if (outcome.asset_media) {
          const MediaSummary& media = *outcome.asset_media;
          Exec(c.tx,
               "UPDATE assets SET kind = $1, container = $2, duration_seconds = $3, width = $4,"
               " height = $5, updated_at = $6 WHERE id = $7",
               Name(media.kind), media.container, media.duration_seconds, media.width, media.height,
               c.now, attempt->asset_id);
        }
        return LoadDerivative(c, derivative_id, false);
      });
}

Result<std::vector<Derivative>> PostgresCatalog::ListDerivatives(std::string_view asset_id) {
  return Run(PgRetry::kYes, "listing derivatives of asset " + std::string(asset_id),
             [&](PgContext& c) -> Result<std::vector<Derivative>> {
               if (!AssetExists(c, asset_id)) return AssetNotFound(asset_id);
               std::vector<Derivative> derivatives;
               for (const auto& row : Exec(c.tx,
                                           "SELECT " + std::string(kDerivativeColumns) +
                                               " FROM derivatives WHERE asset_id = $1"
                                               " ORDER BY id DESC",
                                           asset_id)) {
                 auto derivative = ReadDerivative(PgRow(row));
                 if (!derivative) return Fail(std::move(derivative.error()));
                 derivatives.push_back(std::move(*derivative));
               }
               return derivatives;
             });
}

Result<Derivative> PostgresCatalog::GetCurrentDerivative(std::string_view asset_id,
                                                         std::string_view stage) {
  return Run(
      PgRetry::kYes, "reading current " + std::string(stage) + " of asset " + std::string(asset_id),
      [&](PgContext& c) -> Result<Derivative> {
        auto rows = Exec(c.tx,
                         "SELECT " + std::string(kDerivativeColumns) +
                             " FROM derivatives WHERE asset_id = $1 AND stage = $2"
                             " AND is_current = 1",
                         asset_id, stage);
        if (rows.empty()) {
          return Fail(ErrorCode::kNotFound, "asset " + std::string(asset_id) + " has no current " +
                                                std::string(stage) + " result");
        }
        return ReadDerivative(PgRow(rows[0]));
      });
}

Result<void> PostgresCatalog::ScanCurrentResults(std::string_view stage, const AssetFilter& filter,
                                                 const CurrentResultVisitor& visit) {
  PgQuery query;
  query.sql =
      "SELECT a.id, a.original_name, a.duration_seconds, d.recipe, d.metadata FROM assets a"
      " JOIN derivatives d ON d.asset_id = a.id AND d.stage = " +
      query.Add(stage) + " AND d.is_current = 1 WHERE true";
  AddAssetConditions(filter, query);
  query.sql += " ORDER BY a.created_at, a.id";
  return Run(PgRetry::kNo, "scanning current " + std::string(stage) + " results",
             [&](PgContext& c) -> Result<void> {
               return ScanRows(c.tx, query, [&](const pqxx::row& row) -> Result<bool> {
                 CurrentResult current;
                 current.asset_id = Text(row[0]);
                 current.asset_name = Text(row[1]);
                 current.duration_seconds = OptionalDouble(row[2]);
                 current.recipe = Text(row[3]);
                 auto metadata = ParseJson(Text(row[4]), "derivatives.metadata");
                 if (!metadata) return Fail(std::move(metadata.error()));
                 current.metadata = std::move(*metadata);
                 return visit(current);
               });
             });
}

Result<std::vector<StageStatus>> PostgresCatalog::GetStageStatuses(
    std::string_view asset_id, const std::vector<StageRecipe>& stages) {
  return Run(PgRetry::kYes, "reading stage statuses of asset " + std::string(asset_id),
             [&](PgContext& c) -> Result<std::vector<StageStatus>> {
               if (!AssetExists(c, asset_id)) return AssetNotFound(asset_id);
               // The aggregate over a one-asset filter: the same SQL as CountStageStatuses,
               // so the per-asset answer and the library-wide counts cannot drift apart.
               AssetFilter one;
               one.ids.emplace_back(asset_id);
               std::vector<StageStatus> statuses;
               for (const auto& stage : stages) {
                 auto counts = CountStatuses(c, stage, one);
                 if (!counts) return Fail(std::move(counts.error()));
                 statuses.push_back(counts->current       ? StageStatus::kCurrent
                                    : counts->outdated    ? StageStatus::kOutdated
                                    : counts->failed      ? StageStatus::kFailed
                                    : counts->skipped     ? StageStatus::kSkipped
                                    : counts->quarantined ? StageStatus::kQuarantined
                                                          : StageStatus::kMissing);
               }
               return statuses;
             });
}

Result<StageCounts> PostgresCatalog::CountStageStatuses(const StageRecipe& stage,
                                                        const AssetFilter& filter) {
  return Run(PgRetry::kYes, "counting " + stage.stage + " statuses",
             [&](PgContext& c) { return CountStatuses(c, stage, filter); });
}

// ---- The queue ---------------------------------------------------------------------------

Result<InsertAssetResult> PostgresCatalog::InsertAssetWithJob(const NewAsset& asset,
                                                              const NewJob& job) {
  REPRISE_TRY(CheckAssetWithJob(asset, job));
  // Checked before anything is written: a refused job then draws no event id either.
  REPRISE_TRY(CheckNewJob(job));
  return Run(PgRetry::kYes, "inserting asset " + asset.id + " with its job",
             [&](PgContext& c) -> Result<InsertAssetResult> {
               auto inserted = InsertAssetIn(c, asset);
               if (!inserted || !inserted->created) return inserted;
               NewJob for_asset = job;
               for_asset.asset_id = asset.id;
               auto enqueued = PgJobs(c).Enqueue(for_asset);
               if (!enqueued) return Fail(std::move(enqueued.error()));
               return inserted;
             });
}

Result<EnqueueResult> PostgresCatalog::Enqueue(const NewJob& job) {
  return Run(PgRetry::kYes, "enqueuing work on asset " + job.asset_id,
             [&](PgContext& c) { return PgJobs(c).Enqueue(job); });
}

Result<std::vector<Job>> PostgresCatalog::ClaimJobs(const ClaimRequest& request) {
  return Run(PgRetry::kYes, "claiming jobs for worker " + request.worker_id,
             [&](PgContext& c) { return PgJobs(c).Claim(request); });
}

Result<bool> PostgresCatalog::RenewLease(int64_t job_id, std::string_view worker_id,
                                         int64_t lease_micros) {
  return Run(PgRetry::kYes, "renewing the lease on job " + std::to_string(job_id),
             [&](PgContext& c) { return PgJobs(c).Renew(job_id, worker_id, lease_micros); });
}

Result<void> PostgresCatalog::FinishJob(int64_t job_id, std::string_view worker_id,
                                        const JobOutcome& outcome) {
  return Run(PgRetry::kYes, "finishing job " + std::to_string(job_id),
             [&](PgContext& c) { return PgJobs(c).Finish(job_id, worker_id, outcome); });
}

Result<std::vector<Job>> PostgresCatalog::FinishJobAndClaim(int64_t job_id,
                                                            std::string_view worker_id,
                                                            const JobOutcome& outcome,
                                                            const ClaimRequest& next) {
  return Run(PgRetry::kYes, "finishing job " + std::to_string(job_id) + " and claiming the next",
             [&](PgContext& c) -> Result<std::vector<Job>> {
               PgJobs jobs(c);
               REPRISE_TRY(jobs.Finish(job_id, worker_id, outcome));
               return jobs.Claim(next);
             });
}

Result<void> PostgresCatalog::ReleaseJob(int64_t job_id, std::string_view worker_id) {
  return Run(PgRetry::kYes, "releasing job " + std::to_string(job_id),
             [&](PgContext& c) { return PgJobs(c).Release(job_id, worker_id); });
}

Result<int64_t> PostgresCatalog::ReapExpiredLeases() {
  return Run(PgRetry::kYes, "reaping expired leases",
             [&](PgContext& c) { return PgJobs(c).ReapExpired(); });
}

Result<Job> PostgresCatalog::GetJob(int64_t job_id, const AssetFilter& scope) {
  return Run(PgRetry::kYes, "reading job " + std::to_string(job_id),
             [&](PgContext& c) { return PgJobs(c).Get(job_id, scope); });
}

Result<std::map<int64_t, JobState>> PostgresCatalog::GetJobStates(
    const std::vector<int64_t>& job_ids) {
  std::map<int64_t, JobState> states;
  if (job_ids.empty()) return states;
  const std::string ids = fmt::format("{{{}}}", fmt::join(job_ids, ","));
  return Run(PgRetry::kYes, "reading the states of " + std::to_string(job_ids.size()) + " jobs",
             [&](PgContext& c) -> Result<std::map<int64_t, JobState>> {
               states.clear();
               for (const auto& row :
                    Exec(c.tx, "SELECT id, state FROM jobs WHERE id = ANY($1::bigint[])", ids)) {
                 auto state = ParseJobState(row[1].c_str());
                 if (!state) return Fail(std::move(state.error()));
                 states[row[0].as<int64_t>()] = *state;
               }
               return states;
             });
}

Result<JobPage> PostgresCatalog::ListJobs(const JobFilter& filter, const PageRequest& page) {
  auto limit = CheckedPageLimit(page);
  if (!limit) return Fail(std::move(limit.error()));
  return Run(PgRetry::kYes, "listing jobs",
             [&](PgContext& c) { return PgJobs(c).List(filter, page.cursor, *limit); });
}

Result<int64_t> PostgresCatalog::RetryJobs(const JobFilter& filter) {
  return Run(PgRetry::kYes, "retrying jobs", [&](PgContext& c) { return PgJobs(c).Retry(filter); });
}

Result<JobState> PostgresCatalog::CancelJob(int64_t job_id, const AssetFilter& scope) {
  return Run(PgRetry::kYes, "cancelling job " + std::to_string(job_id),
             [&](PgContext& c) { return PgJobs(c).Cancel(job_id, scope); });
}

Result<QueueStats> PostgresCatalog::GetQueueStats(const AssetFilter& scope) {
  return Run(PgRetry::kYes, "reading queue statistics",
             [&](PgContext& c) { return PgJobs(c).Stats(scope); });
}

Result<bool> PostgresCatalog::QuarantineIfRepeated(std::string_view asset_id,
                                                   std::string_view stage, std::string_view recipe,
                                                   int threshold) {
  return Run(PgRetry::kYes,
             "checking quarantine of " + std::string(stage) + " on asset " + std::string(asset_id),
             [&](PgContext& c) {
               return PgJobs(c).QuarantineIfRepeated(asset_id, stage, recipe, threshold);
             });
}

Result<std::vector<QuarantineEntry>> PostgresCatalog::ListQuarantine(const AssetFilter& scope) {
  return Run(PgRetry::kYes, "listing quarantine",
             [&](PgContext& c) { return PgJobs(c).ListQuarantine(scope); });
}

Result<void> PostgresCatalog::ScanStagePairs(const std::vector<StageRecipe>& stages,
                                             const AssetFilter& filter, const PairVisitor& visit) {
  return Run(PgRetry::kNo, "scanning stage pairs",
             [&](PgContext& c) { return PgBackfills(c).ScanPairs(stages, filter, visit); });
}

Result<Backfill> PostgresCatalog::CreateBackfill(const NewBackfill& backfill,
                                                 const AssetFilter& filter,
                                                 const PairSelector& select) {
  // Not run twice: `select` may count what it saw.
  return Run(PgRetry::kNo, "creating a backfill",
             [&](PgContext& c) { return PgBackfills(c).Create(backfill, filter, select); });
}

Result<Backfill> PostgresCatalog::GetBackfill(int64_t id, const AssetFilter& scope) {
  return Run(PgRetry::kYes, "reading backfill " + std::to_string(id),
             [&](PgContext& c) { return PgBackfills(c).Get(id, scope); });
}

Result<std::vector<Backfill>> PostgresCatalog::ListBackfills(const AssetFilter& scope, int limit) {
  return Run(PgRetry::kYes, "listing backfills",
             [&](PgContext& c) { return PgBackfills(c).List(scope, limit); });
}

Result<Backfill> PostgresCatalog::SetBackfillState(int64_t id,
                                                   const std::vector<BackfillState>& from,
                                                   BackfillState to, std::string_view reason) {
  return Run(PgRetry::kYes, "changing the state of backfill " + std::to_string(id),
             [&](PgContext& c) { return PgBackfills(c).SetState(id, from, to, reason); });
}

Result<bool> PostgresCatalog::ClaimBackfillDriver(int64_t id, std::string_view driver,
                                                  int64_t lease_micros) {
  return Run(PgRetry::kYes, "claiming backfill " + std::to_string(id),
             [&](PgContext& c) { return PgBackfills(c).ClaimDriver(id, driver, lease_micros); });
}

Result<void> PostgresCatalog::ReleaseBackfillDriver(int64_t id, std::string_view driver) {
  return Run(PgRetry::kYes, "releasing backfill " + std::to_string(id),
             [&](PgContext& c) -> Result<void> {
               PgBackfills(c).ReleaseDriver(id, driver);
               return {};
             });
}

Result<std::vector<int64_t>> PostgresCatalog::ListUndrivenBackfills() {
  return Run(
      PgRetry::kYes, "listing backfills without a driver",
      [&](PgContext& c) -> Result<std::vector<int64_t>> { return PgBackfills(c).ListUndriven(); });
}

Result<DispatchResult> PostgresCatalog::DispatchBackfill(int64_t id,
                                                         const DispatchRequest& request) {
  return Run(PgRetry::kYes, "dispatching backfill " + std::to_string(id),
             [&](PgContext& c) { return PgBackfills(c).Dispatch(id, request); });
}

Result<int64_t> PostgresCatalog::WithdrawBackfillJobs(int64_t id, bool cancel) {
  return Run(PgRetry::kYes, "withdrawing the jobs of backfill " + std::to_string(id),
             [&](PgContext& c) { return PgBackfills(c).Withdraw(id, cancel); });
}

Result<BackfillCounts> PostgresCatalog::CountBackfillItems(int64_t id) {
  return Run(PgRetry::kYes, "counting backfill " + std::to_string(id),
             [&](PgContext& c) -> Result<BackfillCounts> {
               auto counts = PgBackfills(c).CountAll({id});
               if (!counts) return Fail(std::move(counts.error()));
               return std::move((*counts)[id]);
             });
}

Result<std::vector<BackfillBacklog>> PostgresCatalog::CountUndispatchedBackfillItems(
    const std::vector<BackfillState>& states, const AssetFilter& scope) {
  return Run(PgRetry::kYes, "counting the undispatched items of backfills",
             [&](PgContext& c) { return PgBackfills(c).CountUndispatched(states, scope); });
}

Result<std::vector<BackfillItem>> PostgresCatalog::ListBackfillItems(
    int64_t id, std::optional<ItemOutcome> outcome, int64_t offset, int limit) {
  return Run(PgRetry::kYes, "listing the items of backfill " + std::to_string(id),
             [&](PgContext& c) { return PgBackfills(c).ListItems(id, outcome, offset, limit); });
}

Result<RollbackResult> PostgresCatalog::RollbackDerivatives(const RollbackRequest& request,
                                                            const AssetFilter& filter) {
  return Run(PgRetry::kYes, "rolling back stage " + request.stage,
             [&](PgContext& c) { return PgBackfills(c).Rollback(request, filter); });
}

Result<StageHistory> PostgresCatalog::GetStageHistory(const StageHistoryQuery& query) {
  return Run(PgRetry::kYes, "reading the history of stage " + query.stage,
             [&](PgContext& c) { return PgBackfills(c).History(query); });
}

Result<BackfillPage> PostgresCatalog::ListBackfillsWithCounts(const AssetFilter& scope,
                                                              const PageRequest& page) {
  return Run(PgRetry::kYes, "listing backfills",
             [&](PgContext& c) { return PgBackfills(c).Page(scope, page); });
}

int64_t PostgresCatalog::AddChangeListener(ChangeListener listener) {
  const int64_t id = listeners_.Add(std::move(listener));
  listener_.Start();
  return id;
}

void PostgresCatalog::RemoveChangeListener(int64_t id) { listeners_.Remove(id); }

}  // namespace reprise::catalog
