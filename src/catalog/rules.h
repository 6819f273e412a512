// The argument checks every Catalog backend applies before touching its store, so that
// backends agree on what is refused and with which words (catalog.h states the
// contract; these are its preconditions). Each check returns kInvalidArgument naming
// what is missing or wrong, and nothing else; none does I/O.
//
// A backend calls the check first thing in the matching method, e.g. CompleteDerivative
// starts with REPRISE_TRY(ValidateOutcome(outcome)). Rules that need the stored state
// (a lease held, an asset existing) stay in the backend.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/backfill_types.h"
#include "catalog/event_types.h"
#include "catalog/import_types.h"
#include "catalog/token_types.h"
#include "catalog/types.h"
#include "core/error.h"

namespace reprise::catalog {

// The largest page any listing returns; larger requests are trimmed to it.
constexpr int kMaxPageLimit = 1000;

// A page request's limit trimmed to kMaxPageLimit; a limit below 1 is refused.
[[nodiscard]] Result<int> CheckedPageLimit(const PageRequest& page);
// A listing limit (ListBackfills, ListBackfillItems) clamped into 1..kMaxPageLimit.
int ClampedListLimit(int limit);

// ---- Assets and derivatives -----------------------------------------------------------

[[nodiscard]] Result<void> CheckNewAsset(const NewAsset& asset);
// InsertAssetWithJob: the job names the asset inserted (or no asset).
[[nodiscard]] Result<void> CheckAssetWithJob(const NewAsset& asset, const NewJob& job);
// StartDerivative: a stage name and a recipe.
[[nodiscard]] Result<void> CheckDerivativeStart(std::string_view stage, std::string_view recipe);
// CompleteDerivative: done, failed with its error, or skipped with its reason.
[[nodiscard]] Result<void> ValidateOutcome(const DerivativeOutcome& outcome);

// ---- The queue ------------------------------------------------------------------------

// Distinct, non-empty stage names in the order given (a repeat is ignored); `what`
// names the holder in the error ("a job", "a queued outcome").
[[nodiscard]] Result<std::vector<std::string>> CheckedStages(const std::vector<std::string>& stages,
                                                             std::string_view what);
// Enqueue: the job's distinct stages (CheckedStages) and max_attempts of at least 1.
[[nodiscard]] Result<std::vector<std::string>> CheckNewJob(const NewJob& job);
// ClaimJobs / FinishJobAndClaim: a worker id, max_jobs and lease_micros above 0, and
// limits that CheckStageLimits accepts.
[[nodiscard]] Result<void> CheckClaimRequest(const ClaimRequest& request);
// RenewLease: a lease above 0.
[[nodiscard]] Result<void> CheckLease(int64_t lease_micros);
// FinishJob: any state but running (a queued outcome's stages are checked with
// CheckedStages by the backend, which knows the job's own).
[[nodiscard]] Result<void> CheckJobOutcome(const JobOutcome& outcome);
[[nodiscard]] Result<void> CheckQuarantineRequest(std::string_view stage, std::string_view recipe,
                                                  int threshold);

// ---- Backfills ------------------------------------------------------------------------

// CreateBackfill / ScanStagePairs: at least one stage, each with a name and a recipe.
[[nodiscard]] Result<void> CheckBackfillStages(const std::vector<StageRecipe>& stages);
// ClaimBackfillDriver: a driver id and a lease above 0.
[[nodiscard]] Result<void> CheckDriverClaim(std::string_view driver, int64_t lease_micros);
// RollbackDerivatives: a stage.
[[nodiscard]] Result<void> CheckRollbackRequest(const RollbackRequest& request);

// ---- Events and webhooks --------------------------------------------------------------

// ListEvents: a limit in 1..kMaxPageLimit.
[[nodiscard]] Result<void> CheckEventQuery(const EventQuery& query);
// One of WebhookEventTypes().
bool IsWebhookType(std::string_view type);
// CreateWebhookSubscription / SyncConfigWebhookSubscriptions: a url, a secret and a
// non-empty list of webhook event types.
[[nodiscard]] Result<void> CheckSubscription(const NewWebhookSubscription& subscription);
// ClaimWebhookDeliveries: a limit and a lease above 0.
[[nodiscard]] Result<void> CheckDeliveryClaim(int limit, int64_t lease_micros);
// ListWebhookDeliveries: a limit above 0.
[[nodiscard]] Result<void> CheckDeliveryPage(int limit);

// ---- API tokens and imports -----------------------------------------------------------

// 64 lower-case hex digits.
bool IsSha256Hex(std::string_view text);
// InsertApiToken: a SHA-256 hash, and an owner unless admin.
[[nodiscard]] Result<void> CheckNewApiToken(const NewApiToken& token);
// InsertImport: an id, an owner and a url.
[[nodiscard]] Result<void> CheckNewImport(const NewImport& import);
// ClaimImport: a runner id, a lease and max attempts above 0.
[[nodiscard]] Result<void> CheckImportClaim(std::string_view runner, int64_t lease_micros,
                                            int max_attempts);
// FinishImport: done with its asset, failed with its error, or queued.
[[nodiscard]] Result<void> CheckImportOutcome(const ImportOutcome& outcome);

}  // namespace reprise::catalog
