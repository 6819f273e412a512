#include "catalog/rules.h"

#include <algorithm>

namespace reprise::catalog {
namespace {

tl::unexpected<Error> Invalid(std::string message) {
  return Fail(ErrorCode::kInvalidArgument, std::move(message));
}

}  // namespace

Result<int> CheckedPageLimit(const PageRequest& page) {
  if (page.limit < 1) {
    return Invalid("page limit must be positive, got " + std::to_string(page.limit));
  }
  return std::min(page.limit, kMaxPageLimit);
}

int ClampedListLimit(int limit) { return std::clamp(limit, 1, kMaxPageLimit); }

Result<void> CheckNewAsset(const NewAsset& asset) {
  if (asset.id.empty()) return Invalid("an asset needs an id");
  return {};
}

Result<void> CheckAssetWithJob(const NewAsset& asset, const NewJob& job) {
  if (!job.asset_id.empty() && job.asset_id != asset.id) {
    return Invalid("the job names asset " + job.asset_id + ", not the asset inserted (" + asset.id +
                   ")");
  }
  return CheckNewAsset(asset);
}

Result<void> CheckDerivativeStart(std::string_view stage, std::string_view recipe) {
  if (stage.empty() || recipe.empty())
    return Invalid("a derivative needs a stage name and a recipe");
  return {};
}

Result<void> ValidateOutcome(const DerivativeOutcome& outcome) {
  switch (outcome.state) {
    case DerivativeState::kDone:
      return {};
    case DerivativeState::kFailed:
      if (!outcome.error) return Invalid("a failed derivative needs its error");
      return {};
    case DerivativeState::kSkipped:
      if (outcome.skip_reason.empty()) return Invalid("a skipped derivative needs a skip reason");
      return {};
    case DerivativeState::kPending:
    case DerivativeState::kRunning:
      break;
  }
  return Invalid("a derivative completes as done, failed or skipped, not " +
                 std::string(Name(outcome.state)));
}

Result<std::vector<std::string>> CheckedStages(const std::vector<std::string>& stages,
                                               std::string_view what) {
  if (stages.empty()) return Invalid(std::string(what) + " needs at least one stage");
  std::vector<std::string> distinct;
  for (const auto& stage : stages) {
    if (stage.empty()) return Invalid(std::string(what) + " names an empty stage");
    if (std::find(distinct.begin(), distinct.end(), stage) == distinct.end()) {
      distinct.push_back(stage);
    }
  }
  return distinct;
}

Result<std::vector<std::string>> CheckNewJob(const NewJob& job) {
  auto stages = CheckedStages(job.stages, "a job");
  if (!stages) return Fail(std::move(stages.error()));
  if (job.max_attempts < 1) {
    return Invalid("max_attempts must be at least 1, got " + std::to_string(job.max_attempts));
  }
  return stages;
}

Result<void> CheckClaimRequest(const ClaimRequest& request) {
  if (request.worker_id.empty()) return Invalid("a claim needs a worker id");
  if (request.max_jobs < 1 || request.lease_micros < 1) {
    return Invalid("a claim needs max_jobs and lease_micros above 0");
  }
  return CheckStageLimits(request.limits);
}

Result<void> CheckLease(int64_t lease_micros) {
  if (lease_micros < 1) return Invalid("lease_micros must be above 0");
  return {};
}

Result<void> CheckJobOutcome(const JobOutcome& outcome) {
  if (outcome.state == JobState::kRunning) {
    return Invalid("a job finishes as succeeded, failed, cancelled or queued, not running");
  }
  return {};
}

Result<void> CheckQuarantineRequest(std::string_view stage, std::string_view recipe,
                                    int threshold) {
  if (stage.empty() || recipe.empty() || threshold < 1) {
    return Invalid("quarantine needs a stage, a recipe and a threshold of at least 1");
  }
  return {};
}

Result<void> CheckBackfillStages(const std::vector<StageRecipe>& stages) {
  if (stages.empty()) return Invalid("a backfill needs stages");
  for (const auto& stage : stages) {
    if (stage.stage.empty() || stage.recipe.empty()) {
      return Invalid("a backfill stage needs a name and a recipe");
    }
  }
  return {};
}

Result<void> CheckDriverClaim(std::string_view driver, int64_t lease_micros) {
  if (driver.empty() || lease_micros < 1)
    return Invalid("a backfill driver needs an id and a lease");
  return {};
}

Result<void> CheckRollbackRequest(const RollbackRequest& request) {
  if (request.stage.empty()) return Invalid("a rollback needs a stage");
  return {};
}

Result<void> CheckEventQuery(const EventQuery& query) {
  if (query.limit < 1 || query.limit > kMaxPageLimit) {
    return Invalid("an event page holds 1 to " + std::to_string(kMaxPageLimit) + " events, not " +
                   std::to_string(query.limit));
  }
  return {};
}

bool IsWebhookType(std::string_view type) {
  auto types = WebhookEventTypes();
  return std::find(types.begin(), types.end(), type) != types.end();
}

Result<void> CheckSubscription(const NewWebhookSubscription& subscription) {
  if (subscription.url.empty()) return Invalid("a webhook subscription needs a url");
  if (subscription.secret.empty()) return Invalid("a webhook subscription needs a secret");
  if (subscription.events.empty()) {
    return Invalid("a webhook subscription needs at least one event");
  }
  for (const auto& type : subscription.events) {
    if (!IsWebhookType(type)) {
      return Invalid("webhooks are not sent for event type '" + type +
                     "' (asset.ready, asset.failed and backfill.finished are)");
    }
  }
  return {};
}

Result<void> CheckDeliveryClaim(int limit, int64_t lease_micros) {
  if (limit < 1 || lease_micros < 1)
    return Invalid("claiming deliveries needs a limit and a lease");
  return {};
}

Result<void> CheckDeliveryPage(int limit) {
  if (limit < 1) return Invalid("a delivery page needs a limit");
  return {};
}

bool IsSha256Hex(std::string_view text) {
  if (text.size() != 64) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<void> CheckNewApiToken(const NewApiToken& token) {
  if (!IsSha256Hex(token.sha256_hex)) {
    return Invalid("an API token's hash must be 64 lower-case hex digits (SHA-256)");
  }
  if (!token.admin && token.owner.empty()) {
    return Invalid("an API token that is not admin needs an owner");
  }
  return {};
}

Result<void> CheckNewImport(const NewImport& import) {
  if (import.id.empty() || import.owner.empty() || import.url.empty()) {
    return Invalid("an import needs an id, an owner and a url");
  }
  return {};
}

Result<void> CheckImportClaim(std::string_view runner, int64_t lease_micros, int max_attempts) {
  if (runner.empty() || lease_micros < 1 || max_attempts < 1) {
    return Invalid("claiming an import needs a runner id, a lease and max attempts");
  }
  return {};
}

Result<void> CheckImportOutcome(const ImportOutcome& outcome) {
  const bool done = outcome.state == ImportState::kDone && !outcome.asset_id.empty();
  const bool failed = outcome.state == ImportState::kFailed && outcome.error;
  const bool queued = outcome.state == ImportState::kQueued;
  const bool retried = queued && outcome.error && outcome.retry_at;
  const bool released = queued && !outcome.error;
  if (!done && !failed && !released && !retried) {
    return Invalid(
        "an import finishes done with its asset, failed with its error, or queued (with an "
        "error only when it has a retry time)");
  }
  return {};
}

}  // namespace reprise::catalog
