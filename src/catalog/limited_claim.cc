#include "catalog/limited_claim.h"

#include <algorithm>
#include <utility>

namespace reprise::catalog {
namespace {

// Caps, in `budget`, each limited stage at what its limits leave now.
Result<void> LoadBudget(ClaimBudget& budget, int64_t now, LimitedClaimStore& store) {
  REPRISE_TRY(store.LockLimits(budget.stages()));
  std::vector<std::string> capped;
  for (const auto& stage : budget.stages()) {
    if (budget.limit(stage).max_running > 0) capped.push_back(stage);
  }
  if (!capped.empty()) {
    auto running = store.CountRunning(capped);
    if (!running) return Fail(std::move(running.error()));
    for (const auto& stage : capped) {
      auto it = running->find(stage);
      budget.Cap(stage, budget.limit(stage).max_running - (it == running->end() ? 0 : it->second));
    }
  }
  for (const auto& stage : budget.stages()) {
    const StartRate& rate = budget.limit(stage).rate;
    if (!rate.limited()) continue;
    auto started = store.starts().CountStarts(StageRateKey(stage), now - rate.window_micros);
    if (!started) return Fail(std::move(started.error()));
    budget.Cap(stage, rate.starts - *started);
  }
  return {};
}

}  // namespace

Result<std::vector<Job>> ClaimWithinLimits(const ClaimRequest& request, int limit, int64_t now,
                                           LimitedClaimStore& store) {
  ClaimBudget budget(request.limits);
  bool loaded = false;
  std::vector<Job> leased;
  // Each pass that refuses a job has found a stage exhausted that the next pass's query
  // leaves out, so there are at most one pass per limited stage, plus one.
  while (static_cast<int>(leased.size()) < limit) {
    auto due = store.SelectDue(limit - static_cast<int>(leased.size()), budget.Exhausted());
    if (!due) return Fail(std::move(due.error()));
    if (due->empty()) break;
    std::vector<Job> chosen;
    bool refused = false;
    for (auto& job : *due) {
      if (budget.Touches(job.stages)) {
        if (!loaded) {
          REPRISE_TRY(LoadBudget(budget, now, store));
          loaded = true;
        }
        if (!budget.TryTake(job.stages)) {
          refused = true;
          continue;
        }
      }
      chosen.push_back(std::move(job));
    }
    if (!chosen.empty()) {
      auto taken = store.Lease(chosen);
      if (!taken) return Fail(std::move(taken.error()));
      for (auto& job : *taken) leased.push_back(std::move(job));
    }
    if (!refused) break;
  }
  std::map<std::string, int64_t> starts;
  for (const auto& job : leased) {
    for (const auto& stage : job.stages) {
      if (budget.Touches({stage}) && budget.limit(stage).rate.limited()) ++starts[stage];
    }
  }
  for (const auto& [stage, count] : starts) {
    REPRISE_TRY(store.starts().RecordStarts(StageRateKey(stage), count));
  }
  return leased;
}

}  // namespace reprise::catalog
