// The PostgreSQL catalog: the Catalog contract (catalog/catalog.h) on a PostgreSQL 15
// database named by a URL ("postgres://user@host:port/db" or "postgresql://...", as libpq
// reads them), for libraries shared by many workers and servers on many machines.
//
// Open() connects, brings the schema up to the newest migration this build knows
// (migrations/postgres_migrations.cc; a database written by a newer reprise is refused
// with kConflict) and returns the catalog; an unreachable server is kUnavailable after
// the pool's connection retries.
//
// Every method is one transaction on a connection of a bounded pool (pg_pool.h), at READ
// COMMITTED with explicit row locks where SQLite relied on its single writer: claims take
// jobs with FOR UPDATE SKIP LOCKED (two workers never wait for, nor take, the same job),
// lease holders lock their job row, an enqueue locks its asset row, and event writers
// take turns so event ids increase in commit order. A transaction the server aborted
// (deadlock, serialization) or that lost its connection before committing runs again; a
// scan that has already called its visitor is not repeated. Scans stream through a
// server-side cursor in pages, never holding the whole answer in memory.
//
// "Now" comes from the injected Clock, read once per transaction attempt. Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/postgres/pg_listener.h"
#include "catalog/postgres/pg_pool.h"
#include "core/clock.h"

namespace reprise::catalog {

struct PgContext;

class PostgresCatalog final : public Catalog {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Catalog>> Open(const std::string& url,
                                                             const Clock& clock,
                                                             PgPoolOptions options = {});
  ~PostgresCatalog() override;
  PostgresCatalog(const PostgresCatalog&) = delete;
  PostgresCatalog& operator=(const PostgresCatalog&) = delete;

  [[nodiscard]] std::string Describe() const override;
  [[nodiscard]] Result<int> SchemaVersion() override;

  [[nodiscard]] Result<InsertAssetResult> InsertAsset(const NewAsset& asset) override;
  [[nodiscard]] Result<Asset> GetAsset(std::string_view id, const AssetFilter& scope) override;
  [[nodiscard]] Result<AssetPage> ListAssets(const AssetFilter& filter,
                                             const PageRequest& page) override;
  [[nodiscard]] Result<int64_t> CountAssets(const AssetFilter& filter) override;
  [[nodiscard]] Result<std::map<std::string, int64_t>> CountAssetsByOwner(
      const AssetFilter& filter) override;
  [[nodiscard]] Result<void> SetAssetStatus(std::string_view id, AssetStatus status) override;

  [[nodiscard]] Result<int64_t> StartDerivative(std::string_view asset_id, std::string_view stage,
                                                int stage_version, std::string_view recipe,
                                                const nlohmann::json& params) override;
  [[nodiscard]] Result<Derivative> CompleteDerivative(int64_t derivative_id,
                                                      const DerivativeOutcome& outcome) override;
  [[nodiscard]] Result<std::vector<Derivative>> ListDerivatives(std::string_view asset_id) override;
  [[nodiscard]] Result<Derivative> GetCurrentDerivative(std::string_view asset_id,
                                                        std::string_view stage) override;
  [[nodiscard]] Result<void> ScanCurrentResults(std::string_view stage, const AssetFilter& filter,
                                                const CurrentResultVisitor& visit) override;

  [[nodiscard]] Result<std::vector<StageStatus>> GetStageStatuses(
      std::string_view asset_id, const std::vector<StageRecipe>& stages) override;
  [[nodiscard]] Result<StageCounts> CountStageStatuses(const StageRecipe& stage,
                                                       const AssetFilter& filter) override;

  [[nodiscard]] Result<InsertAssetResult> InsertAssetWithJob(const NewAsset& asset,
                                                             const NewJob& job) override;
  [[nodiscard]] Result<EnqueueResult> Enqueue(const NewJob& job) override;
  [[nodiscard]] Result<std::vector<Job>> ClaimJobs(const ClaimRequest& request) override;
  [[nodiscard]] Result<bool> RenewLease(int64_t job_id, std::string_view worker_id,
                                        int64_t lease_micros) override;
  [[nodiscard]] Result<void> FinishJob(int64_t job_id, std::string_view worker_id,
                                       const JobOutcome& outcome) override;
  [[nodiscard]] Result<std::vector<Job>> FinishJobAndClaim(int64_t job_id,
                                                           std::string_view worker_id,
                                                           const JobOutcome& outcome,
                                                           const ClaimRequest& next) override;
  [[nodiscard]] Result<void> ReleaseJob(int64_t job_id, std::string_view worker_id) override;
  [[nodiscard]] Result<int64_t> ReapExpiredLeases() override;
  [[nodiscard]] Result<Job> GetJob(int64_t job_id, const AssetFilter& scope) override;
  [[nodiscard]] Result<std::map<int64_t, JobState>> GetJobStates(
      const std::vector<int64_t>& job_ids) override;
  [[nodiscard]] Result<JobPage> ListJobs(const JobFilter& filter, const PageRequest& page) override;
  [[nodiscard]] Result<int64_t> RetryJobs(const JobFilter& filter) override;
  [[nodiscard]] Result<JobState> CancelJob(int64_t job_id, const AssetFilter& scope) override;
  [[nodiscard]] Result<QueueStats> GetQueueStats(const AssetFilter& scope) override;
  [[nodiscard]] Result<bool> QuarantineIfRepeated(std::string_view asset_id, std::string_view stage,
                                                  std::string_view recipe, int threshold) override;
  [[nodiscard]] Result<std::vector<QuarantineEntry>> ListQuarantine(
      const AssetFilter& scope) override;

  [[nodiscard]] Result<void> ScanStagePairs(const std::vector<StageRecipe>& stages,
                                            const AssetFilter& filter,
                                            const PairVisitor& visit) override;
  [[nodiscard]] Result<Backfill> CreateBackfill(const NewBackfill& backfill,
                                                const AssetFilter& filter,
                                                const PairSelector& select) override;
  [[nodiscard]] Result<Backfill> GetBackfill(int64_t id, const AssetFilter& scope) override;
  [[nodiscard]] Result<std::vector<Backfill>> ListBackfills(const AssetFilter& scope,
                                                            int limit) override;
  [[nodiscard]] Result<Backfill> SetBackfillState(int64_t id,
                                                  const std::vector<BackfillState>& from,
                                                  BackfillState to,
                                                  std::string_view reason) override;
  [[nodiscard]] Result<bool> ClaimBackfillDriver(int64_t id, std::string_view driver,
                                                 int64_t lease_micros) override;
  [[nodiscard]] Result<void> ReleaseBackfillDriver(int64_t id, std::string_view driver) override;
  [[nodiscard]] Result<std::vector<int64_t>> ListUndrivenBackfills() override;
  [[nodiscard]] Result<DispatchResult> DispatchBackfill(int64_t id,
                                                        const DispatchRequest& request) override;
  [[nodiscard]] Result<int64_t> WithdrawBackfillJobs(int64_t id, bool cancel) override;
  [[nodiscard]] Result<BackfillCounts> CountBackfillItems(int64_t id) override;
  [[nodiscard]] Result<std::vector<BackfillBacklog>> CountUndispatchedBackfillItems(
      const std::vector<BackfillState>& states, const AssetFilter& scope) override;
  [[nodiscard]] Result<std::vector<BackfillItem>> ListBackfillItems(
      int64_t id, std::optional<ItemOutcome> outcome, int64_t offset, int limit) override;
  [[nodiscard]] Result<RollbackResult> RollbackDerivatives(const RollbackRequest& request,
                                                           const AssetFilter& filter) override;
  [[nodiscard]] Result<StageHistory> GetStageHistory(const StageHistoryQuery& query) override;
  [[nodiscard]] Result<BackfillPage> ListBackfillsWithCounts(const AssetFilter& scope,
                                                             const PageRequest& page) override;

  [[nodiscard]] Result<ApiToken> InsertApiToken(const NewApiToken& token) override;
  [[nodiscard]] Result<ApiToken> FindApiToken(std::string_view sha256_hex) override;
  [[nodiscard]] Result<std::vector<ApiToken>> ListApiTokens() override;
  [[nodiscard]] Result<int64_t> CountActiveApiTokens() override;
  [[nodiscard]] Result<ApiToken> RevokeApiToken(int64_t id) override;
  [[nodiscard]] Result<void> TouchApiToken(int64_t id, int64_t used_at) override;
  [[nodiscard]] Result<PermitGrant> AcquireServicePermit(const PermitRequest& request) override;
  [[nodiscard]] Result<void> ReleaseServicePermit(int64_t id) override;
  [[nodiscard]] Result<bool> DeleteAsset(std::string_view id, const AssetFilter& scope) override;
  [[nodiscard]] Result<SearchPage> Search(const SearchQuery& query,
                                          const AssetFilter& scope) override;

  [[nodiscard]] Result<Import> InsertImport(const NewImport& import) override;
  [[nodiscard]] Result<Import> GetImport(std::string_view id, const AssetFilter& scope) override;
  [[nodiscard]] Result<std::vector<Import>> ListImports(const AssetFilter& scope,
                                                        const std::vector<ImportState>& states,
                                                        int limit) override;
  [[nodiscard]] Result<std::optional<Import>> FindImportOfAsset(std::string_view asset_id) override;
  [[nodiscard]] Result<std::optional<Import>> ClaimImport(std::string_view runner,
                                                          int64_t lease_micros,
                                                          int max_attempts) override;
  [[nodiscard]] Result<void> RenewImport(std::string_view id, std::string_view runner,
                                         int64_t bytes, int64_t lease_micros) override;
  [[nodiscard]] Result<Import> FinishImport(std::string_view id, std::string_view runner,
                                            const ImportOutcome& outcome) override;
  [[nodiscard]] Result<bool> RecordWebhook(const ReceivedWebhook& webhook,
                                           const std::vector<NewImport>& imports) override;
  [[nodiscard]] Result<std::vector<Event>> ListEvents(const EventQuery& query) override;
  [[nodiscard]] Result<int64_t> LatestEventId() override;
  [[nodiscard]] Result<int64_t> PruneEvents(int64_t before_micros) override;
  [[nodiscard]] Result<WebhookSubscription> CreateWebhookSubscription(
      const NewWebhookSubscription& subscription) override;
  [[nodiscard]] Result<std::vector<WebhookSubscription>> ListWebhookSubscriptions(
      const AssetFilter& scope) override;
  [[nodiscard]] Result<WebhookSubscription> GetWebhookSubscription(
      int64_t id, const AssetFilter& scope) override;
  [[nodiscard]] Result<void> DeleteWebhookSubscription(int64_t id,
                                                       const AssetFilter& scope) override;
  [[nodiscard]] Result<void> SyncConfigWebhookSubscriptions(
      const std::vector<NewWebhookSubscription>& subscriptions) override;
  [[nodiscard]] Result<WebhookClaim> ClaimWebhookDeliveries(int limit,
                                                            int64_t lease_micros) override;
  [[nodiscard]] Result<WebhookDelivery> RecordWebhookAttempt(
      int64_t delivery_id, const WebhookAttempt& attempt, std::optional<int64_t> retry_at) override;
  [[nodiscard]] Result<std::vector<WebhookDelivery>> ListWebhookDeliveries(int64_t subscription_id,
                                                                           const AssetFilter& scope,
                                                                           int limit) override;
  int64_t AddChangeListener(ChangeListener listener) override;
  void RemoveChangeListener(int64_t id) override;

  [[nodiscard]] Result<std::vector<TableSchema>> ListTables() override;
  [[nodiscard]] Result<void> ScanTableRows(const RowScan& scan, const RowVisitor& visit) override;
  [[nodiscard]] Result<void> WriteTableRows(const RowWrite& write) override;
  [[nodiscard]] Result<IdSequences> ReadIdSequences() override;
  [[nodiscard]] Result<void> AdvanceIdSequences(const IdSequences& floors) override;

 private:
  PostgresCatalog(std::unique_ptr<PgPool> pool, const Clock& clock, PgPoolOptions options);

  // Runs `body(PgContext&)` in one transaction (see the class comment); an error gets
  // `what` as context, and what it queued or wrote is notified (NOTIFY inside, the
  // listeners of this object after the commit).
  template <class Body>
  auto Run(PgRetry retry, const std::string& what, Body&& body);

  std::unique_ptr<PgPool> pool_;
  const Clock& clock_;
  ChangeListeners listeners_;
  PgListener listener_;  // tells listeners_ (so it goes first)
};

}  // namespace reprise::catalog
