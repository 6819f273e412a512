// What the parts of the PostgreSQL catalog share: the transaction context every part
// works in, and the queries and row readers more than one part uses. Internal to the
// backend. Every function runs inside the caller's transaction and never commits;
// libpqxx exceptions pass through to PgPool::Transact().
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "catalog/backfill_plan.h"
#include "catalog/backfill_types.h"
#include "catalog/codec.h"
#include "catalog/event_types.h"
#include "catalog/limited_claim.h"
#include "catalog/postgres/pg_catalog.h"
#include "catalog/postgres/pg_query.h"
#include "catalog/types.h"
#include "core/error.h"

namespace reprise::catalog {

// One transaction of the catalog: the work, "now" read when it began, what it queued or
// wrote (notified at its commit, see catalog.h's "Change notifications") and the events
// it has yet to write (EndPgTransaction writes them).
struct PgContext {
  pqxx::work& tx;
  int64_t now;
  Change change;
  std::vector<Event> events;
};

// ---- Assets and derivatives (pg_assets.cc) -------------------------------------------

// Appends the filter as " AND ..." conditions over alias `a` ("" when it selects all).
void AddAssetConditions(const AssetFilter& filter, PgQuery& query);

[[nodiscard]] Result<Asset> LoadAsset(PgContext& c, std::string_view id, const AssetFilter& scope);
[[nodiscard]] Result<InsertAssetResult> InsertAssetIn(PgContext& c, const NewAsset& asset);
[[nodiscard]] Result<StageCounts> CountStatuses(PgContext& c, const StageRecipe& stage,
                                                const AssetFilter& filter);
tl::unexpected<Error> AssetNotFound(std::string_view id);

// ---- Search (pg_search.cc) ---------------------------------------------------------------

// Stores the entries of a derivative that completed done (those with empty text left out).
void StoreSearchEntries(PgContext& c, int64_t derivative_id, std::string_view asset_id,
                        std::string_view stage, const std::vector<SearchEntry>& entries);

// ---- The queue (pg_jobs.cc) --------------------------------------------------------------

class PgJobs {
 public:
  explicit PgJobs(PgContext& c) : c_(c) {}

  [[nodiscard]] Result<EnqueueResult> Enqueue(const NewJob& job);
  [[nodiscard]] Result<std::vector<Job>> Claim(const ClaimRequest& request);
  [[nodiscard]] Result<bool> Renew(int64_t job_id, std::string_view worker_id,
                                   int64_t lease_micros);
  [[nodiscard]] Result<void> Finish(int64_t job_id, std::string_view worker_id,
                                    const JobOutcome& outcome);
  [[nodiscard]] Result<void> Release(int64_t job_id, std::string_view worker_id);
  [[nodiscard]] Result<int64_t> ReapExpired();
  [[nodiscard]] Result<Job> Get(int64_t job_id, const AssetFilter& scope);
  [[nodiscard]] Result<JobPage> List(const JobFilter& filter, std::string_view cursor, int limit);
  [[nodiscard]] Result<int64_t> Retry(const JobFilter& filter);
  [[nodiscard]] Result<JobState> Cancel(int64_t job_id, const AssetFilter& scope);
  [[nodiscard]] Result<QueueStats> Stats(const AssetFilter& scope);
  [[nodiscard]] Result<bool> QuarantineIfRepeated(std::string_view asset_id, std::string_view stage,
                                                  std::string_view recipe, int threshold);
  [[nodiscard]] Result<std::vector<QuarantineEntry>> ListQuarantine(const AssetFilter& scope);

 private:
  class LimitStore;  // LimitedClaimStore over this transaction (pg_jobs.cc)

  struct Lease {
    JobState state = JobState::kQueued;
    std::string owner;
    bool cancel_requested = false;
  };
  [[nodiscard]] Result<Lease> CheckHeld(int64_t job_id, std::string_view worker_id);
  // Leases the jobs `pick` selects (a query of job ids j.id, locked) to the request's
  // worker and returns them in claim order, stages filled.
  [[nodiscard]] Result<std::vector<Job>> LeasePicked(const ClaimRequest& request,
                                                     const PgQuery& pick);
  std::map<int64_t, std::vector<std::string>> LoadStages(
      const std::vector<int64_t>& job_ids,
      std::map<int64_t, std::vector<std::string>>* forced = nullptr);
  void FillStages(std::vector<Job>& jobs);
  // Ends the job in `state`: its stages retire, a backfill's items settle, job.finished
  // is appended. End is for a job the transaction has locked; EndIfHeld ends it only if
  // worker `holder` holds its lease ("": whoever does) and says whether it did.
  [[nodiscard]] Result<void> End(int64_t job_id, JobState state, const std::string& error_code,
                                 const std::string& error_message);
  [[nodiscard]] Result<bool> EndIfHeld(int64_t job_id, std::string_view holder, JobState state,
                                       const std::string& error_code,
                                       const std::string& error_message);

  PgContext& c_;
};

// The rate tables (catalog/stage_limits.h) in the transaction of `c` (pg_jobs.cc).
class PgRateStarts : public RateStarts {
 public:
  explicit PgRateStarts(PgContext& c) : c_(c) {}
  [[nodiscard]] Result<int64_t> CountStarts(const std::string& key, int64_t expired) override;
  [[nodiscard]] Result<void> RecordStarts(const std::string& key, int64_t count) override;
  [[nodiscard]] Result<std::optional<TokenBucket>> LoadBucket(const std::string& key) override;
  [[nodiscard]] Result<void> StoreBucket(const std::string& key,
                                         const TokenBucket& bucket) override;

 private:
  PgContext& c_;
};

// ---- Backfills (pg_backfills.cc) -------------------------------------------------------

class PgBackfills {
 public:
  explicit PgBackfills(PgContext& c) : c_(c) {}

  [[nodiscard]] Result<void> ScanPairs(const std::vector<StageRecipe>& stages,
                                       const AssetFilter& filter,
                                       const Catalog::PairVisitor& visit);
  [[nodiscard]] Result<Backfill> Create(const NewBackfill& backfill, const AssetFilter& filter,
                                        const Catalog::PairSelector& select);
  [[nodiscard]] Result<Backfill> Get(int64_t id, const AssetFilter& scope);
  [[nodiscard]] Result<std::vector<Backfill>> List(const AssetFilter& scope, int limit);
  [[nodiscard]] Result<Backfill> SetState(int64_t id, const std::vector<BackfillState>& from,
                                          BackfillState to, std::string_view reason);
  [[nodiscard]] Result<bool> ClaimDriver(int64_t id, std::string_view driver, int64_t lease_micros);
  void ReleaseDriver(int64_t id, std::string_view driver);
  std::vector<int64_t> ListUndriven();
  [[nodiscard]] Result<DispatchResult> Dispatch(int64_t id, const DispatchRequest& request);
  [[nodiscard]] Result<int64_t> Withdraw(int64_t id, bool cancel);
  // The counts of every backfill in `ids` (CountBackfillItems for one).
  [[nodiscard]] Result<std::map<int64_t, BackfillCounts>> CountAll(const std::vector<int64_t>& ids);
  [[nodiscard]] Result<std::vector<BackfillBacklog>> CountUndispatched(
      const std::vector<BackfillState>& states, const AssetFilter& scope);
  [[nodiscard]] Result<std::vector<BackfillItem>> ListItems(int64_t id,
                                                            std::optional<ItemOutcome> outcome,
                                                            int64_t offset, int limit);
  [[nodiscard]] Result<StageHistory> History(const StageHistoryQuery& query);
  [[nodiscard]] Result<RollbackResult> Rollback(const RollbackRequest& request,
                                                const AssetFilter& filter);
  [[nodiscard]] Result<BackfillPage> Page(const AssetFilter& scope, const PageRequest& page);

 private:
  int64_t CountActiveJobs(int64_t id);

  PgContext& c_;
};

// As SettleBackfillItems in catalog/sqlite/sqlite_backfills.h.
[[nodiscard]] Result<void> SettlePgBackfillItems(PgContext& c, int64_t job_id,
                                                 const std::vector<std::string>& stages,
                                                 JobState job_state, std::string_view error_code);

// ---- The compact plan (pg_backfill_plan.cc; catalog/backfill_plan.h) ---------------------

// The row `seq`, locked for update; kNotFound when there is none.
[[nodiscard]] Result<PlanRow> LoadPgPlanRow(PgContext& c, int64_t seq);
// Writes row.items back with the tally columns.
void StorePgPlanRow(PgContext& c, const PlanRow& row);
// Adds `deltas` to backfill_counts for `backfill_id` (rows updated in key order).
void ApplyPgPlanCounts(PgContext& c, int64_t backfill_id, const PlanCountDeltas& deltas);
// The backfill's stages; empty when it does not exist.
[[nodiscard]] Result<std::vector<StageRecipe>> PgBackfillStages(PgContext& c, int64_t id);
// Takes the items of asset `asset_id` out of its backfills' counts (before the asset's
// rows go: the cascade does not count).
[[nodiscard]] Result<void> UncountPgAssetPlans(PgContext& c, std::string_view asset_id);

// ---- Events (pg_events.cc) -----------------------------------------------------------------

// Adds `event` (created_at = now) to the transaction's events, which EndPgTransaction
// writes, with their webhook deliveries, just before the commit. Event writers take
// turns from there (a transaction-level advisory lock held to the commit) so ids increase
// in commit order, the promise of event_types.h.
[[nodiscard]] Result<void> AppendPgEvent(PgContext& c, Event event);
// The end of every transaction that goes on to commit: writes the pending events (ids
// assigned) and NOTIFYs what the transaction changed (pg_listener.h).
[[nodiscard]] Result<void> EndPgTransaction(PgContext& c);
// What job.finished says of a job, read by the statement that ended it (PgJobs::End).
struct PgFinishedJob {
  int64_t job_id = 0;
  std::string asset_id;
  std::string owner;
  int64_t attempts = 0;
  std::optional<int64_t> backfill_id;
  std::string last_error_code;
  std::string last_error_message;
  std::string stages_json;  // its stages, a JSON list sorted by name
};
[[nodiscard]] Result<void> AppendPgJobFinished(PgContext& c, const PgFinishedJob& job,
                                               JobState state);
[[nodiscard]] Result<void> AppendPgBackfillProgress(PgContext& c, int64_t backfill_id);
[[nodiscard]] Result<void> AppendPgBackfillFinished(PgContext& c, const Backfill& backfill);
// The newest event id written (0 for none); it waits for event writers still committing,
// so a stream that starts after it misses nothing.
[[nodiscard]] Result<int64_t> PgEventIdSeen(PgContext& c);

// ---- The catalog's transaction wrapper ------------------------------------------------

// ---- Change notifications (pg_listener.cc) ---------------------------------------------

// NOTIFYs the catalog's channel with `change` (pg_listener.h) in the open transaction:
// delivered to every LISTENing connection when (and only if) it commits.
void NotifyChange(pqxx::work& tx, const Change& change);

// Database errors get the operation prepended; the catalog's own errors (not found,
// invalid argument) already say what they are about.
Error InContext(Error error, std::string_view context);

template <class Body>
auto PostgresCatalog::Run(PgRetry retry, const std::string& what, Body&& body) {
  Change change;
  auto result = pool_->Transact(retry, [&](pqxx::work& tx) {
    PgContext context{tx, clock_.NowMicros(), {}, {}};
    auto answer = body(context);
    if (answer) {
      auto ended = EndPgTransaction(context);
      if (!ended) return decltype(answer)(Fail(std::move(ended.error())));
    }
    change = context.change;
    return answer;
  });
  if (!result) return decltype(result)(Fail(InContext(std::move(result.error()), what)));
  listeners_.Tell(change);
  return result;
}

}  // namespace reprise::catalog
