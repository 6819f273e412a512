#include "catalog/stage_limits.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

namespace reprise::catalog {
namespace {

tl::unexpected<Error> Invalid(std::string message) {
  return Fail(ErrorCode::kInvalidArgument, std::move(message));
}

}  // namespace

TokenBucket RefillBucket(const std::optional<TokenBucket>& stored, double per_second, int64_t now) {
  const double burst = std::max(1.0, per_second);
  if (!stored) return {burst, now};
  const double elapsed = static_cast<double>(std::max<int64_t>(0, now - stored->at)) / 1e6;
  return {std::min(burst, stored->tokens + per_second * elapsed), now};
}

Result<void> CheckStageLimits(const std::vector<StageLimit>& limits) {
  std::set<std::string_view> seen;
  for (const auto& limit : limits) {
    if (limit.stage.empty()) return Invalid("a stage limit needs a stage name");
    if (!seen.insert(limit.stage).second) {
      return Invalid("stage " + limit.stage + " has two limits in one claim");
    }
    if (limit.max_running < 0 || limit.rate.starts < 0 ||
        (limit.rate.limited() && limit.rate.window_micros < 1)) {
      return Invalid("stage " + limit.stage +
                     ": max_running and the rate's starts must be 0 or more, and a rate needs "
                     "a window above 0");
    }
  }
  return {};
}

std::string StageRateKey(std::string_view stage) { return "stage:" + std::string(stage); }

std::string BackfillRateKey(int64_t backfill_id) {
  return "backfill:" + std::to_string(backfill_id);
}

ClaimBudget::ClaimBudget(const std::vector<StageLimit>& limits) {
  for (const auto& limit : limits) {
    if (limit.max_running == 0 && !limit.rate.limited()) continue;
    limits_[limit.stage] = limit;
    stages_.push_back(limit.stage);
  }
  std::sort(stages_.begin(), stages_.end());
}

const StageLimit& ClaimBudget::limit(const std::string& stage) const { return limits_.at(stage); }

void ClaimBudget::Cap(const std::string& stage, int64_t left) {
  left = std::max<int64_t>(0, left);
  auto [it, inserted] = left_.emplace(stage, left);
  if (!inserted) it->second = std::min(it->second, left);
}

std::vector<std::string> ClaimBudget::Exhausted() const {
  std::vector<std::string> exhausted;
  for (const auto& [stage, left] : left_) {
    if (left == 0) exhausted.push_back(stage);
  }
  return exhausted;
}

bool ClaimBudget::TryTake(const std::vector<std::string>& job_stages) {
  for (const auto& stage : job_stages) {
    auto it = left_.find(stage);
    if (it != left_.end() && it->second == 0) return false;
  }
  for (const auto& stage : job_stages) {
    auto it = left_.find(stage);
    if (it != left_.end()) --it->second;
  }
  return true;
}

bool ClaimBudget::Touches(const std::vector<std::string>& job_stages) const {
  return std::any_of(job_stages.begin(), job_stages.end(),
                     [&](const std::string& stage) { return limits_.count(stage) != 0; });
}

}  // namespace reprise::catalog
