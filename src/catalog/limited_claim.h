// The claim of a request that carries stage limits (catalog/stage_limits.h), written
// once for every backend: the backend supplies the queries (LimitedClaimStore, used
// inside its claim transaction) and ClaimWithinLimits walks the due jobs in claim order,
// leasing those whose limited stages have room and leaving the others queued.
//
// The walk reads the limits' state only when it first meets a job holding a limited
// stage (after LockLimits on every limited stage of the request), so a claim that finds
// only unlimited work pays nothing; a job refused by a limit does not stop the walk, and
// the next query leaves out the stages found exhausted. Starts of rate-limited stages
// are recorded before the transaction commits. Not thread-safe (one transaction).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "catalog/stage_limits.h"
#include "catalog/types.h"
#include "core/error.h"

namespace reprise::catalog {

// The rate tables of one transaction: rate_starts (stage windows) and rate_buckets
// (backfill token buckets).
class RateStarts {
 public:
  virtual ~RateStarts() = default;
  // Forgets the starts of `key` at or before `expired` and counts the rest.
  [[nodiscard]] virtual Result<int64_t> CountStarts(const std::string& key, int64_t expired) = 0;
  // `count` starts of `key` at the transaction's now.
  [[nodiscard]] virtual Result<void> RecordStarts(const std::string& key, int64_t count) = 0;
  // The bucket stored for `key`, nullopt when there is none.
  [[nodiscard]] virtual Result<std::optional<TokenBucket>> LoadBucket(const std::string& key) = 0;
  [[nodiscard]] virtual Result<void> StoreBucket(const std::string& key,
                                                 const TokenBucket& bucket) = 0;
};

class LimitedClaimStore {
 public:
  virtual ~LimitedClaimStore() = default;
  // The rate tables, in the same transaction.
  [[nodiscard]] virtual RateStarts& starts() = 0;
  // Up to `limit` due queued jobs the request may take, in claim order, holding none of
  // `excluded`, each with `stages` filled (PostgreSQL: locked, SKIP LOCKED).
  [[nodiscard]] virtual Result<std::vector<Job>> SelectDue(
      int limit, const std::vector<std::string>& excluded) = 0;
  // Leases the given jobs (from SelectDue) to the request's worker; returns them leased,
  // stages filled, in claim order.
  [[nodiscard]] virtual Result<std::vector<Job>> Lease(const std::vector<Job>& jobs) = 0;
  // Makes every other claim that checks one of `stages` wait for this transaction (a
  // no-op where transactions already run one at a time). Called once, sorted names.
  [[nodiscard]] virtual Result<void> LockLimits(const std::vector<std::string>& stages) = 0;
  // Running jobs holding each of `stages` (stages with none may be absent).
  [[nodiscard]] virtual Result<std::map<std::string, int64_t>> CountRunning(
      const std::vector<std::string>& stages) = 0;
};

// Claims as ClaimJobs does, within request.limits (see the file comment). `now` is the
// transaction's time; `limit` the most jobs to lease.
[[nodiscard]] Result<std::vector<Job>> ClaimWithinLimits(const ClaimRequest& request, int limit,
                                                         int64_t now, LimitedClaimStore& store);

}  // namespace reprise::catalog
