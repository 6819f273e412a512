// Backfills in the SQLite catalog (the contract is the backfill section of
// catalog/catalog.h). Like SqliteJobs: SqliteCatalog holds the lock and the
// transaction and calls one method of a SqliteBackfills made for that call.
//
// Storage: backfills (one row each, with the frozen selection and options as JSON) and
// the compact plan of catalog/backfill_plan.h (backfill_plan: one row per selected
// asset, seq order is plan order; backfill_holds: which job holds a queued item;
// backfill_counts, kept in step with every change). SettleBackfillItems(), called
// by the queue whenever a job lets go of stages, ends those items in the same
// transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/backfill_types.h"
#include "catalog/catalog.h"
#include "catalog/sqlite/sqlite_connection.h"
#include "core/error.h"

namespace reprise::catalog {

class SqliteBackfills {
 public:
  SqliteBackfills(SqliteConnection& db, int64_t now) : db_(db), now_(now) {}

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
  [[nodiscard]] Result<void> ReleaseDriver(int64_t id, std::string_view driver);
  [[nodiscard]] Result<std::vector<int64_t>> ListUndriven();
  [[nodiscard]] Result<DispatchResult> Dispatch(int64_t id, const DispatchRequest& request);
  [[nodiscard]] Result<int64_t> Withdraw(int64_t id, bool cancel);
  [[nodiscard]] Result<BackfillCounts> Count(int64_t id);
  [[nodiscard]] Result<std::vector<BackfillBacklog>> CountUndispatched(
      const std::vector<BackfillState>& states, const AssetFilter& scope);
  [[nodiscard]] Result<std::vector<BackfillItem>> ListItems(int64_t id,
                                                            std::optional<ItemOutcome> outcome,
                                                            int64_t offset, int limit);
  [[nodiscard]] Result<StageHistory> History(const StageHistoryQuery& query);

 private:
  [[nodiscard]] Result<int64_t> CountActiveJobs(int64_t id);
  // The names of the backfill's stages, by index (empty when it does not exist).
  [[nodiscard]] Result<std::vector<std::string>> BackfillStageIndex(int64_t id);

  SqliteConnection& db_;
  const int64_t now_;
};

// Ends the queued backfill items that job `job_id` holds for `stages` (all of its items
// when `stages` is empty), from what the job did: the newest attempt of the stage made
// after the item was dispatched (a derivative row newer than the newest one then)
// decides (done -> processed, skipped -> skipped with its reason, failed -> failed with
// its code). With no such attempt: skipped "current" when a result of the item's recipe
// is current by now, else cancelled for a cancelled job, failed with `error_code` for a
// failed one, and skipped "not_due" otherwise. Part of the caller's transaction.
[[nodiscard]] Result<void> SettleBackfillItems(SqliteConnection& db, int64_t now, int64_t job_id,
                                               const std::vector<std::string>& stages,
                                               JobState job_state, std::string_view error_code);

}  // namespace reprise::catalog
