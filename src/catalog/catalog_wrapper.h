// CatalogWrapper: a Catalog that forwards every call to another Catalog, in the way
// leveldb's EnvWrapper forwards to an Env. A subclass overrides the one or two methods
// it wants to change and inherits the rest, so tests inject faults (a write failing as if
// the connection dropped, a slow commit) in front of a real backend without a mock, and
// code can decorate a catalog (counting, tracing) without repeating the interface.
//
// The wrapper owns nothing: `target` must outlive it. It adds no locking and no state;
// thread-safety is the target's. A method added to Catalog must be forwarded here too:
// until it is, CatalogWrapper stays abstract and every test that makes one fails to
// compile, so none is forgotten.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catalog/catalog.h"

namespace reprise::catalog {

class CatalogWrapper : public Catalog {
 public:
  explicit CatalogWrapper(Catalog& target) : target_(target) {}

  // The catalog calls are forwarded to.
  Catalog& target() const { return target_; }

  [[nodiscard]] std::string Describe() const override { return target_.Describe(); }
  [[nodiscard]] Result<int> SchemaVersion() override { return target_.SchemaVersion(); }
  [[nodiscard]] Result<InsertAssetResult> InsertAsset(const NewAsset& asset) override {
    return target_.InsertAsset(asset);
  }
  [[nodiscard]] Result<Asset> GetAsset(std::string_view id, const AssetFilter& scope) override {
    return target_.GetAsset(id, scope);
  }
  [[nodiscard]] Result<AssetPage> ListAssets(const AssetFilter& filter,
                                             const PageRequest& page) override {
    return target_.ListAssets(filter, page);
  }
  [[nodiscard]] Result<int64_t> CountAssets(const AssetFilter& filter) override {
    return target_.CountAssets(filter);
  }
  [[nodiscard]] Result<std::map<std::string, int64_t>> CountAssetsByOwner(
      const AssetFilter& filter) override {
    return target_.CountAssetsByOwner(filter);
  }
  [[nodiscard]] Result<void> SetAssetStatus(std::string_view id, AssetStatus status) override {
    return target_.SetAssetStatus(id, status);
  }
  [[nodiscard]] Result<int64_t> StartDerivative(std::string_view asset_id, std::string_view stage,
                                                int stage_version, std::string_view recipe,
                                                const nlohmann::json& params) override {
    return target_.StartDerivative(asset_id, stage, stage_version, recipe, params);
  }
  [[nodiscard]] Result<Derivative> CompleteDerivative(int64_t derivative_id,
                                                      const DerivativeOutcome& outcome) override {
    return target_.CompleteDerivative(derivative_id, outcome);
  }
  [[nodiscard]] Result<std::vector<Derivative>> ListDerivatives(
      std::string_view asset_id) override {
    return target_.ListDerivatives(asset_id);
  }
  [[nodiscard]] Result<Derivative> GetCurrentDerivative(std::string_view asset_id,
                                                        std::string_view stage) override {
    return target_.GetCurrentDerivative(asset_id, stage);
  }
  [[nodiscard]] Result<void> ScanCurrentResults(std::string_view stage, const AssetFilter& filter,
                                                const CurrentResultVisitor& visit) override {
    return target_.ScanCurrentResults(stage, filter, visit);
  }
  [[nodiscard]] Result<std::vector<StageStatus>> GetStageStatuses(
      std::string_view asset_id, const std::vector<StageRecipe>& stages) override {
    return target_.GetStageStatuses(asset_id, stages);
  }
  [[nodiscard]] Result<StageCounts> CountStageStatuses(const StageRecipe& stage,
                                                       const AssetFilter& filter) override {
    return target_.CountStageStatuses(stage, filter);
  }
  [[nodiscard]] Result<InsertAssetResult> InsertAssetWithJob(const NewAsset& asset,
                                                             const NewJob& job) override {
    return target_.InsertAssetWithJob(asset, job);
  }
  [[nodiscard]] Result<EnqueueResult> Enqueue(const NewJob& job) override {
    return target_.Enqueue(job);
  }
  [[nodiscard]] Result<std::vector<Job>> ClaimJobs(const ClaimRequest& request) override {
    return target_.ClaimJobs(request);
  }
  [[nodiscard]] Result<bool> RenewLease(int64_t job_id, std::string_view worker_id,
                                        int64_t lease_micros) override {
    return target_.RenewLease(job_id, worker_id, lease_micros);
  }
  [[nodiscard]] Result<void> FinishJob(int64_t job_id, std::string_view worker_id,
                                       const JobOutcome& outcome) override {
    return target_.FinishJob(job_id, worker_id, outcome);
  }
  [[nodiscard]] Result<std::vector<Job>> FinishJobAndClaim(int64_t job_id,
                                                           std::string_view worker_id,
                                                           const JobOutcome& outcome,
                                                           const ClaimRequest& next) override {
    return target_.FinishJobAndClaim(job_id, worker_id, outcome, next);
  }
  [[nodiscard]] Result<void> ReleaseJob(int64_t job_id, std::string_view worker_id) override {
    return target_.ReleaseJob(job_id, worker_id);
  }
  [[nodiscard]] Result<int64_t> ReapExpiredLeases() override { return target_.ReapExpiredLeases(); }
  [[nodiscard]] Result<Job> GetJob(int64_t job_id, const AssetFilter& scope) override {
    return target_.GetJob(job_id, scope);
  }
  [[nodiscard]] Result<std::map<int64_t, JobState>> GetJobStates(
      const std::vector<int64_t>& job_ids) override {
    return target_.GetJobStates(job_ids);
  }
  [[nodiscard]] Result<JobPage> ListJobs(const JobFilter& filter,
                                         const PageRequest& page) override {
    return target_.ListJobs(filter, page);
  }
  [[nodiscard]] Result<int64_t> RetryJobs(const JobFilter& filter) override {
    return target_.RetryJobs(filter);
  }
  [[nodiscard]] Result<JobState> CancelJob(int64_t job_id, const AssetFilter& scope) override {
    return target_.CancelJob(job_id, scope);
  }
  [[nodiscard]] Result<QueueStats> GetQueueStats(const AssetFilter& scope) override {
    return target_.GetQueueStats(scope);
  }
  [[nodiscard]] Result<bool> QuarantineIfRepeated(std::string_view asset_id, std::string_view stage,
                                                  std::string_view recipe, int threshold) override {
    return target_.QuarantineIfRepeated(asset_id, stage, recipe, threshold);
  }
  [[nodiscard]] Result<std::vector<QuarantineEntry>> ListQuarantine(
      const AssetFilter& scope) override {
    return target_.ListQuarantine(scope);
  }
  [[nodiscard]] Result<void> ScanStagePairs(const std::vector<StageRecipe>& stages,
                                            const AssetFilter& filter,
                                            const PairVisitor& visit) override {
    return target_.ScanStagePairs(stages, filter, visit);
  }
  [[nodiscard]] Result<Backfill> CreateBackfill(const NewBackfill& backfill,
                                                const AssetFilter& filter,
                                                const PairSelector& select) override {
    return target_.CreateBackfill(backfill, filter, select);
  }
  [[nodiscard]] Result<Backfill> GetBackfill(int64_t id, const AssetFilter& scope) override {
    return target_.GetBackfill(id, scope);
  }
  [[nodiscard]] Result<std::vector<Backfill>> ListBackfills(const AssetFilter& scope,
                                                            int limit) override {
    return target_.ListBackfills(scope, limit);
  }
  [[nodiscard]] Result<Backfill> SetBackfillState(int64_t id,
                                                  const std::vector<BackfillState>& from,
                                                  BackfillState to,
                                                  std::string_view reason) override {
    return target_.SetBackfillState(id, from, to, reason);
  }
  [[nodiscard]] Result<bool> ClaimBackfillDriver(int64_t id, std::string_view driver,
                                                 int64_t lease_micros) override {
    return target_.ClaimBackfillDriver(id, driver, lease_micros);
  }
  [[nodiscard]] Result<void> ReleaseBackfillDriver(int64_t id, std::string_view driver) override {
    return target_.ReleaseBackfillDriver(id, driver);
  }
  [[nodiscard]] Result<std::vector<int64_t>> ListUndrivenBackfills() override {
    return target_.ListUndrivenBackfills();
  }
  [[nodiscard]] Result<DispatchResult> DispatchBackfill(int64_t id,
                                                        const DispatchRequest& request) override {
    return target_.DispatchBackfill(id, request);
  }
  [[nodiscard]] Result<int64_t> WithdrawBackfillJobs(int64_t id, bool cancel) override {
    return target_.WithdrawBackfillJobs(id, cancel);
  }
  [[nodiscard]] Result<BackfillCounts> CountBackfillItems(int64_t id) override {
    return target_.CountBackfillItems(id);
  }
  [[nodiscard]] Result<std::vector<BackfillBacklog>> CountUndispatchedBackfillItems(
      const std::vector<BackfillState>& states, const AssetFilter& scope) override {
    return target_.CountUndispatchedBackfillItems(states, scope);
  }
  [[nodiscard]] Result<std::vector<BackfillItem>> ListBackfillItems(
      int64_t id, std::optional<ItemOutcome> outcome, int64_t offset, int limit) override {
    return target_.ListBackfillItems(id, outcome, offset, limit);
  }
  [[nodiscard]] Result<RollbackResult> RollbackDerivatives(const RollbackRequest& request,
                                                           const AssetFilter& filter) override {
    return target_.RollbackDerivatives(request, filter);
  }
  [[nodiscard]] Result<StageHistory> GetStageHistory(const StageHistoryQuery& query) override {
    return target_.GetStageHistory(query);
  }
  [[nodiscard]] Result<SearchPage> Search(const SearchQuery& query,
                                          const AssetFilter& scope) override {
    return target_.Search(query, scope);
  }
  [[nodiscard]] Result<ApiToken> InsertApiToken(const NewApiToken& token) override {
    return target_.InsertApiToken(token);
  }
  [[nodiscard]] Result<ApiToken> FindApiToken(std::string_view sha256_hex) override {
    return target_.FindApiToken(sha256_hex);
  }
  [[nodiscard]] Result<std::vector<ApiToken>> ListApiTokens() override {
    return target_.ListApiTokens();
  }
  [[nodiscard]] Result<int64_t> CountActiveApiTokens() override {
    return target_.CountActiveApiTokens();
  }
  [[nodiscard]] Result<ApiToken> RevokeApiToken(int64_t id) override {
    return target_.RevokeApiToken(id);
  }
  [[nodiscard]] Result<void> TouchApiToken(int64_t id, int64_t used_at) override {
    return target_.TouchApiToken(id, used_at);
  }
  [[nodiscard]] Result<PermitGrant> AcquireServicePermit(const PermitRequest& request) override {
    return target_.AcquireServicePermit(request);
  }
  [[nodiscard]] Result<void> ReleaseServicePermit(int64_t id) override {
    return target_.ReleaseServicePermit(id);
  }
  [[nodiscard]] Result<bool> DeleteAsset(std::string_view id, const AssetFilter& scope) override {
    return target_.DeleteAsset(id, scope);
  }
  [[nodiscard]] Result<BackfillPage> ListBackfillsWithCounts(const AssetFilter& scope,
                                                             const PageRequest& page) override {
    return target_.ListBackfillsWithCounts(scope, page);
  }
  [[nodiscard]] Result<Import> InsertImport(const NewImport& import) override {
    return target_.InsertImport(import);
  }
  [[nodiscard]] Result<Import> GetImport(std::string_view id, const AssetFilter& scope) override {
    return target_.GetImport(id, scope);
  }
  [[nodiscard]] Result<std::vector<Import>> ListImports(const AssetFilter& scope,
                                                        const std::vector<ImportState>& states,
                                                        int limit) override {
    return target_.ListImports(scope, states, limit);
  }
  [[nodiscard]] Result<std::optional<Import>> FindImportOfAsset(
      std::string_view asset_id) override {
    return target_.FindImportOfAsset(asset_id);
  }
  [[nodiscard]] Result<std::optional<Import>> ClaimImport(std::string_view runner,
                                                          int64_t lease_micros,
                                                          int max_attempts) override {
    return target_.ClaimImport(runner, lease_micros, max_attempts);
  }
  [[nodiscard]] Result<void> RenewImport(std::string_view id, std::string_view runner,
                                         int64_t bytes, int64_t lease_micros) override {
    return target_.RenewImport(id, runner, bytes, lease_micros);
  }
  [[nodiscard]] Result<Import> FinishImport(std::string_view id, std::string_view runner,
                                            const ImportOutcome& outcome) override {
    return target_.FinishImport(id, runner, outcome);
  }
  [[nodiscard]] Result<bool> RecordWebhook(const ReceivedWebhook& webhook,
                                           const std::vector<NewImport>& imports) override {
    return target_.RecordWebhook(webhook, imports);
  }
  [[nodiscard]] Result<std::vector<Event>> ListEvents(const EventQuery& query) override {
    return target_.ListEvents(query);
  }
  [[nodiscard]] Result<int64_t> LatestEventId() override { return target_.LatestEventId(); }
  [[nodiscard]] Result<int64_t> PruneEvents(int64_t before_micros) override {
    return target_.PruneEvents(before_micros);
  }
  [[nodiscard]] Result<WebhookSubscription> CreateWebhookSubscription(
      const NewWebhookSubscription& subscription) override {
    return target_.CreateWebhookSubscription(subscription);
  }
  [[nodiscard]] Result<std::vector<WebhookSubscription>> ListWebhookSubscriptions(
      const AssetFilter& scope) override {
    return target_.ListWebhookSubscriptions(scope);
  }
  [[nodiscard]] Result<WebhookSubscription> GetWebhookSubscription(
      int64_t id, const AssetFilter& scope) override {
    return target_.GetWebhookSubscription(id, scope);
  }
  [[nodiscard]] Result<void> DeleteWebhookSubscription(int64_t id,
                                                       const AssetFilter& scope) override {
    return target_.DeleteWebhookSubscription(id, scope);
  }
  [[nodiscard]] Result<void> SyncConfigWebhookSubscriptions(
      const std::vector<NewWebhookSubscription>& subscriptions) override {
    return target_.SyncConfigWebhookSubscriptions(subscriptions);
  }
  [[nodiscard]] Result<WebhookClaim> ClaimWebhookDeliveries(int limit,
                                                            int64_t lease_micros) override {
    return target_.ClaimWebhookDeliveries(limit, lease_micros);
  }
  [[nodiscard]] Result<WebhookDelivery> RecordWebhookAttempt(
      int64_t delivery_id, const WebhookAttempt& attempt,
      std::optional<int64_t> retry_at) override {
    return target_.RecordWebhookAttempt(delivery_id, attempt, retry_at);
  }
  [[nodiscard]] Result<std::vector<WebhookDelivery>> ListWebhookDeliveries(int64_t subscription_id,
                                                                           const AssetFilter& scope,
                                                                           int limit) override {
    return target_.ListWebhookDeliveries(subscription_id, scope, limit);
  }
  int64_t AddChangeListener(ChangeListener listener) override {
    return target_.AddChangeListener(std::move(listener));
  }
  void RemoveChangeListener(int64_t id) override { target_.RemoveChangeListener(id); }

  [[nodiscard]] Result<std::vector<TableSchema>> ListTables() override {
    return target_.ListTables();
  }
  [[nodiscard]] Result<void> ScanTableRows(const RowScan& scan, const RowVisitor& visit) override {
    return target_.ScanTableRows(scan, visit);
  }
  [[nodiscard]] Result<void> WriteTableRows(const RowWrite& write) override {
    return target_.WriteTableRows(write);
  }
  [[nodiscard]] Result<IdSequences> ReadIdSequences() override { return target_.ReadIdSequences(); }
  [[nodiscard]] Result<void> AdvanceIdSequences(const IdSequences& floors) override {
    return target_.AdvanceIdSequences(floors);
  }

 private:
  Catalog& target_;
};

}  // namespace reprise::catalog
