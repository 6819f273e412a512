// Global limits on how many jobs of a stage run at once and how often one starts,
// enforced by the catalog inside the claim transaction, so every worker process on
// every machine that shares the catalog respects them together.
//
// The limits travel in the claim (ClaimRequest::limits, filled by the worker from its
// [stages.NAME] max_running / rate settings): workers sharing a catalog must share those
// settings, as they share the stage params that make recipes. The state they are
// checked against is in the database:
// - max_running: jobs of the stage running now (state running, the stage among its
//   active stages). A job holding several capped stages needs a free slot of each.
// - rate: a sliding window. Each claim of a job holding the stage records a start in
//   the rate_starts table (key "stage:NAME"); a claim is refused while `starts` starts
//   lie within the last `window_micros` (a start at exactly now - window has left it).
//   Retries count again: every claim is a call to the stage.
// A job refused by a limit stays queued and does not hold back the jobs behind it: the
// claim takes the next claimable job. Backfills keep their start
// rate as a token bucket (table rate_buckets, key "backfill:ID",
// DispatchRequest::rate_per_second), so it survives a driver handover.
//
// On PostgreSQL the check is serialised by a transaction-scoped advisory lock per
// limited stage of the request, taken (in sorted order, all at once) by the first claim
// that meets a job holding one, so two workers never both take the last slot; SQLite's
// single writer serialises claims already.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/start_rate.h"

namespace reprise::catalog {

struct StageLimit {
  std::string stage;
  int max_running = 0;  // 0: no cap
  StartRate rate;
  friend bool operator==(const StageLimit&, const StageLimit&) = default;
};

// A token bucket of `per_second` starts a second holding at most max(1, per_second):
// the backfill start rate. `tokens` as of `at`.
struct TokenBucket {
  double tokens = 0;
  int64_t at = 0;
};
// The bucket at `now`: `stored` refilled (full when there is none yet), never above the
// burst; floor(tokens) starts are allowed.
[[nodiscard]] TokenBucket RefillBucket(const std::optional<TokenBucket>& stored, double per_second,
                                       int64_t now);

// Limits a claim may carry: distinct non-empty stage names, max_running >= 0, a rate
// with starts >= 0 and a positive window when limited. kInvalidArgument otherwise.
[[nodiscard]] Result<void> CheckStageLimits(const std::vector<StageLimit>& limits);

// The key of a stage's or a backfill's starts in rate_starts.
std::string StageRateKey(std::string_view stage);
std::string BackfillRateKey(int64_t backfill_id);

// What one claim may still start of each limited stage, filled by the backend from the
// database and spent as the claim walks the due jobs in claim order.
class ClaimBudget final {
 public:
  explicit ClaimBudget(const std::vector<StageLimit>& limits);

  // Stages of the request that have a limit (sorted), whose state the backend reads.
  [[nodiscard]] const std::vector<std::string>& stages() const { return stages_; }
  [[nodiscard]] bool empty() const { return stages_.empty(); }
  [[nodiscard]] const StageLimit& limit(const std::string& stage) const;
  // Lowers the stage's allowance to `left` (clamped at 0): called with the cap minus
  // the jobs running and with the rate minus the starts in the window.
  void Cap(const std::string& stage, int64_t left);
  // Limited stages nothing more may start of; claims leave jobs holding them alone.
  [[nodiscard]] std::vector<std::string> Exhausted() const;
  // True (and spends one of each) when every limited stage among `job_stages` has
  // allowance left; false (and spends nothing) otherwise.
  bool TryTake(const std::vector<std::string>& job_stages);
  // Whether `job_stages` holds a limited stage.
  [[nodiscard]] bool Touches(const std::vector<std::string>& job_stages) const;

 private:
  std::map<std::string, StageLimit> limits_;
  std::map<std::string, int64_t> left_;  // only stages with a bound so far
  std::vector<std::string> stages_;
};

}  // namespace reprise::catalog
