#include "catalog/types.h"

#include "catalog/backfill_types.h"

#include <string>
#include <utility>

#include <fmt/format.h>

namespace reprise::catalog {
namespace {

// Each enum's stored/printed names, in declaration order; the one table both Name() and
// Parse*() read, so the two can never disagree.
constexpr std::pair<AssetKind, std::string_view> kAssetKindNames[] = {
    {AssetKind::kUnknown, "unknown"},
    {AssetKind::kVideo, "video"},
    {AssetKind::kAudio, "audio"},
    {AssetKind::kImage, "image"},
};
constexpr std::pair<AssetSource, std::string_view> kAssetSourceNames[] = {
    {AssetSource::kUpload, "upload"},
    {AssetSource::kUrl, "url"},
    {AssetSource::kWebhook, "webhook"},
    {AssetSource::kScan, "scan"},
};
constexpr std::pair<AssetStatus, std::string_view> kAssetStatusNames[] = {
    {AssetStatus::kPending, "pending"},
    {AssetStatus::kProcessing, "processing"},
    {AssetStatus::kReady, "ready"},
    {AssetStatus::kFailed, "failed"},
};
constexpr std::pair<DerivativeState, std::string_view> kDerivativeStateNames[] = {
    {DerivativeState::kPending, "pending"}, {DerivativeState::kRunning, "running"},
    {DerivativeState::kDone, "done"},       {DerivativeState::kFailed, "failed"},
    {DerivativeState::kSkipped, "skipped"},
};
constexpr std::pair<StageStatus, std::string_view> kStageStatusNames[] = {
    {StageStatus::kCurrent, "current"}, {StageStatus::kOutdated, "outdated"},
    {StageStatus::kMissing, "missing"}, {StageStatus::kFailed, "failed"},
    {StageStatus::kSkipped, "skipped"}, {StageStatus::kQuarantined, "quarantined"},
};
constexpr std::pair<JobState, std::string_view> kJobStateNames[] = {
    {JobState::kQueued, "queued"},       {JobState::kRunning, "running"},
    {JobState::kSucceeded, "succeeded"}, {JobState::kFailed, "failed"},
    {JobState::kCancelled, "cancelled"},
};

constexpr std::pair<BackfillMode, std::string_view> kBackfillModeNames[] = {
    {BackfillMode::kOutdated, "outdated"},
    {BackfillMode::kMissing, "missing"},
    {BackfillMode::kFailed, "failed"},
    {BackfillMode::kAll, "all"},
};
constexpr std::pair<BackfillState, std::string_view> kBackfillStateNames[] = {
    {BackfillState::kPlanned, "planned"},
    {BackfillState::kRunning, "running"},
    {BackfillState::kPaused, "paused"},
    {BackfillState::kCancelling, "cancelling"},
    {BackfillState::kCancelled, "cancelled"},
    {BackfillState::kSucceeded, "succeeded"},
    {BackfillState::kFailed, "failed"},
    {BackfillState::kCompletedWithFailures, "completed_with_failures"},
};
constexpr std::pair<ItemOutcome, std::string_view> kItemOutcomeNames[] = {
    {ItemOutcome::kPending, "pending"},     {ItemOutcome::kQueued, "queued"},
    {ItemOutcome::kProcessed, "processed"}, {ItemOutcome::kSkipped, "skipped"},
    {ItemOutcome::kFailed, "failed"},       {ItemOutcome::kCancelled, "cancelled"},
};

template <class E, size_t N>
std::string_view NameIn(const std::pair<E, std::string_view> (&table)[N], E value) {
  for (const auto& [candidate, name] : table) {
    if (candidate == value) return name;
  }
  return "invalid";  // only reachable through a cast of an out-of-range integer
}

template <class E, size_t N>
Result<E> ParseIn(const std::pair<E, std::string_view> (&table)[N], std::string_view what,
                  std::string_view text) {
  for (const auto& [value, name] : table) {
    if (name == text) return value;
  }
  std::string valid;
  for (const auto& entry : table) {
    if (!valid.empty()) valid += ", ";
    valid += entry.second;
  }
  return Fail(ErrorCode::kInvalidArgument, "unknown " + std::string(what) + " \"" +
                                               std::string(text) + "\"; valid values: " + valid);
}

}  // namespace

std::string_view Name(AssetKind kind) { return NameIn(kAssetKindNames, kind); }
std::string_view Name(AssetSource source) { return NameIn(kAssetSourceNames, source); }
std::string_view Name(AssetStatus status) { return NameIn(kAssetStatusNames, status); }
std::string_view Name(DerivativeState state) { return NameIn(kDerivativeStateNames, state); }
std::string_view Name(StageStatus status) { return NameIn(kStageStatusNames, status); }
std::string_view Name(JobState state) { return NameIn(kJobStateNames, state); }

std::string_view Name(BackfillMode mode) { return NameIn(kBackfillModeNames, mode); }
std::string_view Name(BackfillState state) { return NameIn(kBackfillStateNames, state); }
std::string_view Name(ItemOutcome outcome) { return NameIn(kItemOutcomeNames, outcome); }
Result<BackfillMode> ParseBackfillMode(std::string_view text) {
  return ParseIn(kBackfillModeNames, "backfill mode", text);
}
Result<BackfillState> ParseBackfillState(std::string_view text) {
  return ParseIn(kBackfillStateNames, "backfill state", text);
}
StageStatus StatusOf(const StagePair& pair, std::string_view today_recipe) {
  if (pair.latest == DerivativeState::kSkipped) return StageStatus::kSkipped;
  if (!pair.current_recipe.empty() && pair.current_recipe == today_recipe) {
    return StageStatus::kCurrent;
  }
  if (pair.quarantined) return StageStatus::kQuarantined;
  if (pair.latest == DerivativeState::kFailed) return StageStatus::kFailed;
  if (!pair.current_recipe.empty() || !pair.result_recipe.empty()) return StageStatus::kOutdated;
  return StageStatus::kMissing;
}
Result<ItemOutcome> ParseItemOutcome(std::string_view text) {
  return ParseIn(kItemOutcomeNames, "item outcome", text);
}
bool IsFinal(BackfillState state) {
  return state == BackfillState::kCancelled || state == BackfillState::kSucceeded ||
         state == BackfillState::kFailed || state == BackfillState::kCompletedWithFailures;
}

Result<AssetKind> ParseAssetKind(std::string_view text) {
  return ParseIn(kAssetKindNames, "asset kind", text);
}
Result<AssetSource> ParseAssetSource(std::string_view text) {
  return ParseIn(kAssetSourceNames, "asset source", text);
}
Result<AssetStatus> ParseAssetStatus(std::string_view text) {
  return ParseIn(kAssetStatusNames, "asset status", text);
}
Result<DerivativeState> ParseDerivativeState(std::string_view text) {
  return ParseIn(kDerivativeStateNames, "derivative state", text);
}
Result<StageStatus> ParseStageStatus(std::string_view text) {
  return ParseIn(kStageStatusNames, "stage status", text);
}
Result<JobState> ParseJobState(std::string_view text) {
  return ParseIn(kJobStateNames, "job state", text);
}

std::string DescribeLease(int64_t expires_at_micros, int64_t now_micros) {
  // As the reaper sees it: a lease holds up to and including its expiry instant.
  if (expires_at_micros >= now_micros) {
    return fmt::format("{:.1f} s left", static_cast<double>(expires_at_micros - now_micros) / 1e6);
  }
  return fmt::format("expired {:.1f} s ago, waiting for a worker",
                     static_cast<double>(now_micros - expires_at_micros) / 1e6);
}

}  // namespace reprise::catalog
