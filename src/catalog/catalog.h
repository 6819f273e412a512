// Catalog: the database of assets, derivatives, jobs and backfills. Backends: SQLite
// (catalog/sqlite, the embedded default) and PostgreSQL (catalog/postgres), behind this one
// interface; nothing above it names a database.
//
// Every state change is one transaction. Every query that returns assets takes an
// AssetFilter whose `owner`, when set, scopes the answer to that owner; an asset of
// another owner is reported as kNotFound, never as forbidden.
//
// Derivative history: StartDerivative() inserts a new attempt row; CompleteDerivative()
// finishes it, and only a successful (kDone) completion makes it the current result,
// demoting the previous current row in the same transaction. A failed attempt never
// removes the last good result.
//
// Errors: kNotFound, kInvalidArgument (bad cursor, bad enum text), kConflict
// (constraint violated), kUnavailable (database busy or unreachable, retry), kIo,
// kInternal. Thread-safety: a Catalog may be used from many threads at once.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/backfill_types.h"
#include "catalog/change_types.h"
#include "catalog/event_types.h"
#include "catalog/import_types.h"
#include "catalog/rows.h"
#include "catalog/search.h"
#include "catalog/service_permits.h"
#include "catalog/token_types.h"
#include "catalog/types.h"
#include "core/error.h"

namespace reprise::catalog {

class Catalog {
 public:
  virtual ~Catalog() = default;

  // "sqlite:/path/catalog.db"
  [[nodiscard]] virtual std::string Describe() const = 0;
  // Schema version applied (highest row in schema_migrations).
  [[nodiscard]] virtual Result<int> SchemaVersion() = 0;

  // Inserts the asset (status kPending, created_at = updated_at = now) unless one with the
  // same id exists, in which case the existing record is returned with created=false
  // (ingesting the same content is a no-op). kConflict when that existing record has
  // another owner or sha256 (ids derive from both); kNotFound when parent_id names no
  // asset; kInvalidArgument for an empty id.
  [[nodiscard]] virtual Result<InsertAssetResult> InsertAsset(const NewAsset& asset) = 0;
  // kNotFound unless the asset exists and matches every field set in `scope`.
  [[nodiscard]] virtual Result<Asset> GetAsset(std::string_view id, const AssetFilter& scope) = 0;
  // Ordered by (created_at, id) ascending. page.limit must be positive (larger than the
  // backend's maximum, 1000, is trimmed); a cursor not returned by this call is
  // kInvalidArgument.
  [[nodiscard]] virtual Result<AssetPage> ListAssets(const AssetFilter& filter,
                                                     const PageRequest& page) = 0;
  [[nodiscard]] virtual Result<int64_t> CountAssets(const AssetFilter& filter) = 0;
  // The assets `filter` selects, counted per owner (owners with none are absent).
  [[nodiscard]] virtual Result<std::map<std::string, int64_t>> CountAssetsByOwner(
      const AssetFilter& filter) = 0;
  // Sets the status and updated_at; kNotFound for an unknown asset.
  [[nodiscard]] virtual Result<void> SetAssetStatus(std::string_view id, AssetStatus status) = 0;

  // Inserts a kRunning attempt row for (asset, stage, recipe) with started_at = now and
  // attempts = 1 + the rows already recorded for that (asset, stage, recipe); returns its
  // id. kNotFound for an unknown asset; kInvalidArgument for an empty stage or recipe.
  [[nodiscard]] virtual Result<int64_t> StartDerivative(std::string_view asset_id,
                                                        std::string_view stage, int stage_version,
                                                        std::string_view recipe,
                                                        const nlohmann::json& params) = 0;
  // Finishes a running attempt and returns the updated row (see the class comment for
  // the current-row rule; bytes = sum of blob sizes). The outcome must be kDone, kFailed
  // with an error, or kSkipped with a reason (else kInvalidArgument). kConflict when the
  // attempt already finished (a late second completion changes nothing); kNotFound for
  // an unknown id.
  [[nodiscard]] virtual Result<Derivative> CompleteDerivative(int64_t derivative_id,
                                                              const DerivativeOutcome& outcome) = 0;
  // Every attempt row of the asset, newest first (history included); kNotFound for an
  // unknown asset.
  [[nodiscard]] virtual Result<std::vector<Derivative>> ListDerivatives(
      std::string_view asset_id) = 0;
  // The current result of (asset, stage), kNotFound when there is none.
  [[nodiscard]] virtual Result<Derivative> GetCurrentDerivative(std::string_view asset_id,
                                                                std::string_view stage) = 0;
  // The current result of `stage` of every asset matching `filter` that has one, in
  // (created_at, id) order, streamed in one read transaction; `visit` returns false to
  // stop. Reads only.
  using CurrentResultVisitor = std::function<bool(const CurrentResult&)>;
  [[nodiscard]] virtual Result<void> ScanCurrentResults(std::string_view stage,
                                                        const AssetFilter& filter,
                                                        const CurrentResultVisitor& visit) = 0;

  // How the asset stands for each given stage (see StageStatus), in the given order;
  // kNotFound for an unknown asset. "Latest attempt" means the highest row id.
  [[nodiscard]] virtual Result<std::vector<StageStatus>> GetStageStatuses(
      std::string_view asset_id, const std::vector<StageRecipe>& stages) = 0;
  // Counts over every asset matching `filter`, computed in the database.
  [[nodiscard]] virtual Result<StageCounts> CountStageStatuses(const StageRecipe& stage,
                                                               const AssetFilter& filter) = 0;

  // ---- The durable queue ------------------------------------------------------------
  // At most one queued-or-running job holds a given (asset, stage). Times come from the
  // injected clock. Every method is one transaction; claims are atomic across processes
  // (SQLite: BEGIN IMMEDIATE; PostgreSQL: FOR UPDATE SKIP LOCKED).
  //
  // Also part of the contract (the shared tests check each):
  // - A running job's updated_at stays the time of its claim (RunningJob::started_at):
  //   heartbeats and cancel requests do not move it.
  // - A cancellation requested on a running job is never lost: ReleaseJob, an expired
  //   lease and a kQueued outcome cancel such a job instead of queueing it again.
  // - Job::stages are sorted by name.

  // Inserts the asset and, when it was created, `job` for it in the same transaction:
  // there is no moment where a new asset exists without its work queued. An existing
  // asset is returned unchanged and no job is enqueued (created=false). job.asset_id may
  // be left empty; naming another asset is kInvalidArgument. Any error of either part
  // (as for InsertAsset and Enqueue) leaves neither behind.
  [[nodiscard]] virtual Result<InsertAssetResult> InsertAssetWithJob(const NewAsset& asset,
                                                                     const NewJob& job) = 0;
  // Stages already queued or running for the asset are reported in already_active and
  // skipped; the others join the asset's queued job if there is one (its priority rises
  // to the higher of the two; run_after to the earlier; it keeps its max_attempts and
  // backfill) or form a new job. A repeated stage counts once. kNotFound for an unknown
  // asset or backfill; kInvalidArgument for no stages, an empty stage name or
  // max_attempts < 1. With job.separate the job holds none but the given stages: it
  // joins only a queued job holding nothing else, and a stage waiting in a queued job
  // together with others moves out of it into this one (EnqueueResult::moved); stages
  // of a running job stay there (already_active).
  [[nodiscard]] virtual Result<EnqueueResult> Enqueue(const NewJob& job) = 0;
  // Leases up to max_jobs due queued jobs (run_after <= now), highest priority first,
  // then earliest run_after, then lowest id: each becomes kRunning with lease_owner and
  // lease_expires_at = now + lease_micros, attempts + 1. No job is leased twice.
  // kInvalidArgument for an empty worker_id, max_jobs < 1 or lease_micros < 1; at most
  // 1000 jobs are claimed at once.
  [[nodiscard]] virtual Result<std::vector<Job>> ClaimJobs(const ClaimRequest& request) = 0;
  // Extends a held lease to now + lease_micros and returns whether cancellation was
  // requested. kConflict when worker_id no longer holds it (expired and reaped, taken
  // over, finished, or no such job): the caller must stop and must not finish the job.
  // A lease past its expiry that no reaper has taken yet is still the holder's (nobody
  // else can hold it), so a late heartbeat saves it.
  [[nodiscard]] virtual Result<bool> RenewLease(int64_t job_id, std::string_view worker_id,
                                                int64_t lease_micros) = 0;
  // Ends a held lease with `outcome`; finished stages stop being active (so they can be
  // enqueued again). kConflict when worker_id does not hold the lease (nothing changes).
  // kQueued: retry_stages must be a non-empty subset of the job's stages (else
  // kInvalidArgument); the other stages leave the job; run_after 0 means now; attempts
  // stay as they are and the job is queued even when they reached max_attempts (the
  // worker decides when to give up). kRunning is kInvalidArgument. A succeeded job keeps
  // no error (last_error_* of earlier attempts are cleared).
  [[nodiscard]] virtual Result<void> FinishJob(int64_t job_id, std::string_view worker_id,
                                               const JobOutcome& outcome) = 0;
  // FinishJob, then ClaimJobs(next), in one transaction: a busy worker pays one commit
  // per job for both. When finishing fails nothing is claimed and nothing changes.
  [[nodiscard]] virtual Result<std::vector<Job>> FinishJobAndClaim(int64_t job_id,
                                                                   std::string_view worker_id,
                                                                   const JobOutcome& outcome,
                                                                   const ClaimRequest& next) = 0;
  // Gives a held lease back (graceful shutdown): kQueued, run_after = now, and the
  // attempt does not count. kConflict when not held.
  [[nodiscard]] virtual Result<void> ReleaseJob(int64_t job_id, std::string_view worker_id) = 0;
  // Requeues running jobs whose lease expired (run_after = now, last error
  // "unavailable: lease of worker W expired"), or fails them when attempts reached
  // max_attempts. Returns how many were reaped. Safe to call from every worker.
  [[nodiscard]] virtual Result<int64_t> ReapExpiredLeases() = 0;
  [[nodiscard]] virtual Result<Job> GetJob(int64_t job_id, const AssetFilter& scope) = 0;
  // The state of each job of `job_ids` that exists (a deleted one is absent), in one read
  // whatever their number: how a waiter follows many jobs without a query per job.
  [[nodiscard]] virtual Result<std::map<int64_t, JobState>> GetJobStates(
      const std::vector<int64_t>& job_ids) = 0;
  // Newest first; cursor as for ListAssets.
  [[nodiscard]] virtual Result<JobPage> ListJobs(const JobFilter& filter,
                                                 const PageRequest& page) = 0;
  // Failed or cancelled jobs matching the filter go back to kQueued (attempts 0,
  // run_after now, stages active again); a stage meanwhile queued elsewhere is dropped
  // from the retried job, and a job left with no stage stays as it was. Returns how many
  // jobs were requeued.
  [[nodiscard]] virtual Result<int64_t> RetryJobs(const JobFilter& filter) = 0;
  // A queued job is cancelled at once; a running one gets cancel_requested (its worker
  // stops at the next heartbeat and finishes it as kCancelled). Returns the state after
  // the call. kConflict for a job already finished; kNotFound outside `scope`.
  [[nodiscard]] virtual Result<JobState> CancelJob(int64_t job_id, const AssetFilter& scope) = 0;
  [[nodiscard]] virtual Result<QueueStats> GetQueueStats(const AssetFilter& scope) = 0;

  // Counts the failed attempts of (the asset's content, stage, recipe) over every asset
  // with that content; at `threshold` or more, records a quarantine entry (with the
  // latest error) and returns true. GetStageStatuses/CountStageStatuses report
  // kQuarantined for such content unless a current result of that recipe exists. Checking
  // again updates the entry's count and error, not its created_at. kNotFound for an
  // unknown asset; kInvalidArgument for an empty stage or recipe or a threshold < 1.
  [[nodiscard]] virtual Result<bool> QuarantineIfRepeated(std::string_view asset_id,
                                                          std::string_view stage,
                                                          std::string_view recipe,
                                                          int threshold) = 0;
  // Entries for content that some asset matching `scope` has, oldest first.
  [[nodiscard]] virtual Result<std::vector<QuarantineEntry>> ListQuarantine(
      const AssetFilter& scope) = 0;

  // ---- Backfills ------------------------------------------------------------------------
  // A backfill's plan is frozen when it is created: one item per selected (asset, stage)
  // pair, in plan order (assets by (created_at, id), then the stages as given). Jobs
  // enqueued for its items carry its id; when such a job ends, its items end with it in
  // the same transaction (processed, skipped with the stage's reason or "current" when
  // nothing had to run, failed with the error code, cancelled), so counters never drift
  // from what happened.

  using PairVisitor = std::function<bool(const StagePair&)>;
  using PairSelector = std::function<PairDecision(const StagePair&)>;

  // Streams every (asset, stage) pair over the assets matching `filter`, in plan order,
  // without holding them in memory; `visit` returns false to stop. Reads only.
  [[nodiscard]] virtual Result<void> ScanStagePairs(const std::vector<StageRecipe>& stages,
                                                    const AssetFilter& filter,
                                                    const PairVisitor& visit) = 0;
  // Inserts the backfill and its plan in one transaction: the pairs are scanned as by
  // ScanStagePairs and `select` decides which become items (and when to stop).
  // kInvalidArgument for no stages or an empty stage/recipe.
  [[nodiscard]] virtual Result<Backfill> CreateBackfill(const NewBackfill& backfill,
                                                        const AssetFilter& filter,
                                                        const PairSelector& select) = 0;
  // kNotFound unless it exists and, when scope.owner is set, belongs to that owner.
  [[nodiscard]] virtual Result<Backfill> GetBackfill(int64_t id, const AssetFilter& scope) = 0;
  // Newest first, at most `limit`.
  [[nodiscard]] virtual Result<std::vector<Backfill>> ListBackfills(const AssetFilter& scope,
                                                                    int limit) = 0;
  // Moves the backfill to `to` if it is in one of `from` (kConflict naming its state
  // otherwise); started_at is set on the first kRunning, finished_at on a final state;
  // `reason` (may be empty) becomes stop_reason.
  [[nodiscard]] virtual Result<Backfill> SetBackfillState(int64_t id,
                                                          const std::vector<BackfillState>& from,
                                                          BackfillState to,
                                                          std::string_view reason) = 0;
  // Takes or renews the right to dispatch the backfill's items until now + lease_micros:
  // true when `driver` holds it now (it was free, expired or already its own).
  [[nodiscard]] virtual Result<bool> ClaimBackfillDriver(int64_t id, std::string_view driver,
                                                         int64_t lease_micros) = 0;
  // Gives the right back if `driver` holds it (no-op otherwise).
  [[nodiscard]] virtual Result<void> ReleaseBackfillDriver(int64_t id, std::string_view driver) = 0;
  // Running or cancelling backfills (the states that need a driver; a paused one
  // dispatches nothing) whose driver lease is free or expired (it holds up to its expiry
  // instant).
  [[nodiscard]] virtual Result<std::vector<int64_t>> ListUndrivenBackfills() = 0;
  // Enqueues, in plan order, one job per asset for the pending items of up to
  // request.max_assets assets (all its pending stages at once, with the backfill's id):
  // the items become queued with the job's id; pairs already queued or running
  // elsewhere are skipped ("already_active"). The stages of items whose reason is in
  // request.force_reasons (all of them with request.force) are enqueued forced.
  // kConflict unless the backfill is running.
  [[nodiscard]] virtual Result<DispatchResult> DispatchBackfill(int64_t id,
                                                                const DispatchRequest& request) = 0;
  // Takes back the work of the backfill that has not started: its queued jobs are
  // deleted and their items become pending again (pause) or cancelled (cancel, which
  // also cancels every pending item and asks its running jobs to stop). Returns how many
  // jobs were taken back.
  [[nodiscard]] virtual Result<int64_t> WithdrawBackfillJobs(int64_t id, bool cancel) = 0;
  [[nodiscard]] virtual Result<BackfillCounts> CountBackfillItems(int64_t id) = 0;
  // Per backfill in one of `states` with items not dispatched yet: how many, over how
  // many assets, counting only the items of assets matching scope.owner; oldest backfill
  // first, backfills with none left out.
  [[nodiscard]] virtual Result<std::vector<BackfillBacklog>> CountUndispatchedBackfillItems(
      const std::vector<BackfillState>& states, const AssetFilter& scope) = 0;
  // Items in plan order, from `offset`, at most `limit`; only `outcome` when set.
  [[nodiscard]] virtual Result<std::vector<BackfillItem>> ListBackfillItems(
      int64_t id, std::optional<ItemOutcome> outcome, int64_t offset, int limit) = 0;
  // For each asset matching `filter` (plan order), makes an earlier successful result
  // of request.stage current again (see RollbackRequest), all in one transaction;
  // request.dry_run counts without changing anything. The files of earlier results are
  // kept (attempts are keyed apart), so the result served is complete at once.
  // kInvalidArgument for an empty stage.
  [[nodiscard]] virtual Result<RollbackResult> RollbackDerivatives(const RollbackRequest& request,
                                                                   const AssetFilter& filter) = 0;
  // Medians over the latest successful attempts that `query` takes.
  [[nodiscard]] virtual Result<StageHistory> GetStageHistory(const StageHistoryQuery& query) = 0;

  // ---- Full-text search (catalog/search.h) -------------------------------------------
  // Entries are stored by CompleteDerivative (DerivativeOutcome::search, kDone only; an
  // entry with empty text is dropped, one with an empty kind is kInvalidArgument) and an
  // asset's name is an entry of kind "name" from its insertion on. A search finds the
  // entries of each asset's current derivative of a stage only (a newer run hides an older
  // run's text; a rollback brings it back) and of assets matching `scope` (scope.owner
  // for a user's token); entries go with their derivative and asset. Hits are ranked by
  // relevance (bm25 / ts_rank), then by asset (created_at, id), time and entry.
  // kInvalidArgument as CheckSearchQuery says; a query with no word finds nothing.
  [[nodiscard]] virtual Result<SearchPage> Search(const SearchQuery& query,
                                                  const AssetFilter& scope) = 0;

  // ---- API tokens -----------------------------------------------------------------------
  // Rows of the bearer tokens `reprise serve` accepts, keyed by the SHA-256 of the token
  // (token_types.h); a revoked token keeps its row. Times come from the catalog's clock.

  // Inserts an active token (created_at = now) and returns it. kInvalidArgument when
  // sha256_hex is not 64 lower-case hex digits or a non-admin token has no owner;
  // kConflict when a token with that hash exists.
  [[nodiscard]] virtual Result<ApiToken> InsertApiToken(const NewApiToken& token) = 0;
  // The token whose hash is `sha256_hex`, revoked or not; kNotFound when there is none.
  [[nodiscard]] virtual Result<ApiToken> FindApiToken(std::string_view sha256_hex) = 0;
  // Every token, revoked ones included, by id ascending (creation order).
  [[nodiscard]] virtual Result<std::vector<ApiToken>> ListApiTokens() = 0;
  // How many tokens are not revoked.
  [[nodiscard]] virtual Result<int64_t> CountActiveApiTokens() = 0;
  // Sets revoked_at = now unless already set (revoking twice keeps the first time) and
  // returns the row; kNotFound for an unknown id.
  [[nodiscard]] virtual Result<ApiToken> RevokeApiToken(int64_t id) = 0;
  // Records that the token was used at `used_at` (last_used_at never moves backwards);
  // kNotFound for an unknown id.
  [[nodiscard]] virtual Result<void> TouchApiToken(int64_t id, int64_t used_at) = 0;

  // ---- Service permits ------------------------------------------------------------------
  // Requests to external services counted across every process on this catalog
  // (catalog/service_permits.h). Times come from the catalog's clock.

  // A permit when the service's limits leave room now, else the refusal (id 0) saying
  // which limit held it back. kInvalidArgument for a malformed request
  // (CheckPermitRequest).
  [[nodiscard]] virtual Result<PermitGrant> AcquireServicePermit(const PermitRequest& request) = 0;
  // Frees a permit; releasing one that is gone (released, or its lease ended and another
  // grant swept it) is not an error.
  [[nodiscard]] virtual Result<void> ReleaseServicePermit(int64_t id) = 0;

  // ---- Deleting assets ------------------------------------------------------------------
  // Deletes the asset and with it (in the same transaction) its derivative rows, its
  // jobs and its backfill items; assets naming it as their parent keep their record,
  // parent_id cleared. Returns true when another asset still has the same content (its
  // original blob must stay). The blobs are the caller's to remove. kNotFound unless it
  // exists within `scope`; kConflict while a job of it runs (nothing changes then).
  [[nodiscard]] virtual Result<bool> DeleteAsset(std::string_view id, const AssetFilter& scope) = 0;
  // ---- Backfill pages (the API's and `backfill list`'s one read) ---------------------
  // Backfills newest first, each with its counts as CountBackfillItems gives them, read
  // in one transaction with a fixed number of queries whatever the page size: only those
  // of scope.owner when it is set; at most page.limit (1..1000) after page.cursor, which
  // is empty or a next_cursor this call returned (kInvalidArgument otherwise).
  [[nodiscard]] virtual Result<BackfillPage> ListBackfillsWithCounts(const AssetFilter& scope,
                                                                     const PageRequest& page) = 0;

  // ---- URL imports ----------------------------------------------------------------------
  // A download runs under a lease like a job's: the runner that claimed it renews the
  // lease with each progress report, and an import whose lease expired (its server was
  // killed) is claimed again by the next runner to look. Times come from the clock.

  // Inserts a queued import (created_at = updated_at = now). kConflict for an id in use;
  // kInvalidArgument for an empty id, owner or url.
  [[nodiscard]] virtual Result<Import> InsertImport(const NewImport& import) = 0;
  // kNotFound unless it exists and, when scope.owner is set, belongs to that owner.
  [[nodiscard]] virtual Result<Import> GetImport(std::string_view id, const AssetFilter& scope) = 0;
  // Imports of scope.owner (every owner when unset) in one of `states` (any when empty),
  // newest first, at most `limit`.
  [[nodiscard]] virtual Result<std::vector<Import>> ListImports(
      const AssetFilter& scope, const std::vector<ImportState>& states, int limit) = 0;
  // The newest done import that produced `asset_id` (its name and metadata are the
  // asset's), nullopt when none did.
  [[nodiscard]] virtual Result<std::optional<Import>> FindImportOfAsset(
      std::string_view asset_id) = 0;
  // Takes the oldest import that is queued (and whose retry_at, if any, has come), or
  // downloading with an expired lease:
  // kDownloading, lease_owner = runner, lease until now + lease_micros, attempts + 1,
  // bytes 0. An expired one that already had `max_attempts` claims is failed instead
  // ("unavailable": its downloads kept being interrupted). nullopt when none is due.
  [[nodiscard]] virtual Result<std::optional<Import>> ClaimImport(std::string_view runner,
                                                                  int64_t lease_micros,
                                                                  int max_attempts) = 0;
  // Records progress and extends the lease to now + lease_micros. kConflict when
  // `runner` no longer holds it (it must stop and not finish the import).
  [[nodiscard]] virtual Result<void> RenewImport(std::string_view id, std::string_view runner,
                                                 int64_t bytes, int64_t lease_micros) = 0;
  // Ends a held import as kDone (with the asset) or kFailed (with the error) and returns
  // it; kQueued gives it back (a runner shutting down): queued again, the attempt not
  // counted; kQueued with an error and retry_at queues it again after a passing failure:
  // the attempt counted, the error kept, not claimed before retry_at. kConflict when
  // `runner` does not hold it; kInvalidArgument for kDownloading, a done one without
  // asset, a failed one without error, or an error with kQueued but no retry_at.
  [[nodiscard]] virtual Result<Import> FinishImport(std::string_view id, std::string_view runner,
                                                    const ImportOutcome& outcome) = 0;
  // Remembers a verified webhook delivery and inserts `imports` in the same transaction;
  // false (and nothing inserted) when (source, webhook_id) was received before.
  [[nodiscard]] virtual Result<bool> RecordWebhook(const ReceivedWebhook& webhook,
                                                   const std::vector<NewImport>& imports) = 0;

  // ---- Events and outgoing webhooks ---------------------------------------------------
  // The event log (catalog/event_types.h) is written by the state changes above, in
  // their own transactions: wherever a job ends (FinishJob, FinishJobAndClaim, ReleaseJob
  // and ReapExpiredLeases of a job asked to stop or out of attempts, CancelJob of a queued
  // one: job.finished, and backfill.progress for a backfill's job), SetAssetStatus
  // (asset.processing/ready/failed on a real change), InsertAsset/InsertAssetWithJob
  // (asset.created) and SetBackfillState to a final state (backfill.finished). An event of a type
  // some webhook subscription asks for gets one delivery row per matching subscription (same owner,
  // or an owner-less one) in that same transaction.

  // Events with id > query.after_id, ascending, at most query.limit (1..1000, else
  // kInvalidArgument).
  [[nodiscard]] virtual Result<std::vector<Event>> ListEvents(const EventQuery& query) = 0;
  // The newest event id (0 when there is none): where a fresh live stream starts.
  [[nodiscard]] virtual Result<int64_t> LatestEventId() = 0;
  // Deletes events created before `before_micros`; returns how many. Ids are never reused.
  [[nodiscard]] virtual Result<int64_t> PruneEvents(int64_t before_micros) = 0;

  // kInvalidArgument for an empty url or secret, no events or an event type that
  // WebhookEventTypes() does not hold.
  [[nodiscard]] virtual Result<WebhookSubscription> CreateWebhookSubscription(
      const NewWebhookSubscription& subscription) = 0;
  // Oldest first. scope.owner set: only that owner's subscriptions.
  [[nodiscard]] virtual Result<std::vector<WebhookSubscription>> ListWebhookSubscriptions(
      const AssetFilter& scope) = 0;
  // kNotFound unless it exists and, when scope.owner is set, belongs to that owner.
  [[nodiscard]] virtual Result<WebhookSubscription> GetWebhookSubscription(
      int64_t id, const AssetFilter& scope) = 0;
  // Deletes it with its deliveries (pending ones are never sent); kNotFound as for Get.
  [[nodiscard]] virtual Result<void> DeleteWebhookSubscription(int64_t id,
                                                               const AssetFilter& scope) = 0;
  // Makes the subscriptions of origin "config" exactly `subscriptions` (matched by url
  // and owner: kept ones keep their id and deliveries), in one transaction.
  [[nodiscard]] virtual Result<void> SyncConfigWebhookSubscriptions(
      const std::vector<NewWebhookSubscription>& subscriptions) = 0;
  // Leases up to `limit` pending deliveries due now (next_attempt_at <= now), oldest due
  // first, by moving their next_attempt_at to now + lease_micros (a sender that dies is
  // replaced when the lease ends: delivery is at least once).
  [[nodiscard]] virtual Result<WebhookClaim> ClaimWebhookDeliveries(int limit,
                                                                    int64_t lease_micros) = 0;
  // Records one attempt (attempt.attempt = attempts + 1, created_at = now) and moves the
  // delivery on: succeeded when attempt.error is empty; otherwise pending again at
  // `retry_at`, or failed when there is none. kNotFound for an unknown delivery;
  // kConflict for one already finished.
  [[nodiscard]] virtual Result<WebhookDelivery> RecordWebhookAttempt(
      int64_t delivery_id, const WebhookAttempt& attempt, std::optional<int64_t> retry_at) = 0;
  // The subscription's deliveries, newest first, at most `limit`, each with its attempts;
  // kNotFound for a subscription outside `scope`.
  [[nodiscard]] virtual Result<std::vector<WebhookDelivery>> ListWebhookDeliveries(
      int64_t subscription_id, const AssetFilter& scope, int limit) = 0;

  // ---- Tables as rows, for copies between backends (catalog/rows.h) -------------------
  // Every table holding data, described from the database's own catalog; the schema's
  // bookkeeping (schema_migrations, SQLite's internal tables) is left out.
  [[nodiscard]] virtual Result<std::vector<TableSchema>> ListTables() = 0;
  // Streams the rows `scan` selects, in one read transaction, never all in memory.
  // kNotFound for an `after` row kInsertion cannot place.
  [[nodiscard]] virtual Result<void> ScanTableRows(const RowScan& scan,
                                                   const RowVisitor& visit) = 0;
  // Writes every row of `write` in one transaction, with the table's triggers off;
  // kConflict for a row a constraint refuses (its key already present, say).
  [[nodiscard]] virtual Result<void> WriteTableRows(const RowWrite& write) = 0;
  // The identity counters (see IdSequences).
  [[nodiscard]] virtual Result<IdSequences> ReadIdSequences() = 0;
  // Moves every identity counter up to at least its floor in `floors` (when named there)
  // and its column's highest value; never down.
  [[nodiscard]] virtual Result<void> AdvanceIdSequences(const IdSequences& floors) = 0;

  // ---- Change notifications ---------------------------------------------------------------
  // So that idle workers, live event streams, the webhook runner and import runners wake
  // at once instead of at their next poll (catalog/change_types.h). A listener is told,
  // after the commit, of every transaction that queued jobs (Enqueue, InsertAssetWithJob,
  // DispatchBackfill, a kQueued outcome, ReleaseJob, ReapExpiredLeases, RetryJobs), wrote
  // events (with the newest id) or queued imports (InsertImport, RecordWebhook, an import
  // given back or queued for a retry):
  // - on every backend, those of this catalog object, from the committing thread;
  // - on PostgreSQL also those of every other connection and process: transactions
  //   NOTIFY at commit, and the catalog LISTENs on a connection of its own, opened by the
  //   first AddChangeListener, from its own thread. Once it listens, and again each time
  //   it has reconnected (with backoff) after losing the server, every listener gets a
  //   Change with every topic and no event id, because it may have missed some.
  // SQLite hears no other process: their work is found by the readers' poll.
  // Listeners run one at a time; they must be quick and must not call the catalog.
  // Returns the id RemoveChangeListener takes; once that returns the listener is neither
  // running nor called again.
  virtual int64_t AddChangeListener(ChangeListener listener) = 0;
  virtual void RemoveChangeListener(int64_t id) = 0;
};

}  // namespace reprise::catalog
