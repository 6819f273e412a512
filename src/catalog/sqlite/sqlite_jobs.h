// The durable queue of the SQLite catalog (the contract is the queue section of
// catalog/catalog.h). Internal to the backend: SqliteCatalog holds its mutex, opens the
// transaction (BEGIN IMMEDIATE for every change, which is what makes a claim atomic
// across processes sharing the file), reads "now" once the lock is held, and calls one
// method of a SqliteJobs made for that call; the methods never commit.
//
// Storage: a job's stages are rows of job_stages. They are active while the job is
// queued or running (the partial unique index job_stages_active then admits one per
// (asset, stage): that index, not this code, is the last word on uniqueness) and
// inactive once it finished. A stage that ends through a partial kQueued outcome leaves
// the job, so a job's rows always are its `stages`: still due while it waits or runs,
// the ones it ended with once finished (what RetryJobs runs again).
//
// A claim carrying stage limits goes through catalog/limited_claim.h; the rate state is
// the rate_starts table (sqlite_rate_starts.h).
//
// Cancellation requested on a running job is never lost: a release, an expired lease
// or a kQueued outcome of such a job cancels it instead of queueing it again.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/sqlite/sqlite_connection.h"
#include "catalog/types.h"
#include "core/error.h"

namespace reprise::catalog {

class SqliteJobs {
 public:
  SqliteJobs(SqliteConnection& db, int64_t now) : db_(db), now_(now) {}

  [[nodiscard]] Result<EnqueueResult> Enqueue(const NewJob& job);
  [[nodiscard]] Result<std::vector<Job>> Claim(const ClaimRequest& request);
  [[nodiscard]] Result<bool> Renew(int64_t job_id, std::string_view worker_id,
                                   int64_t lease_micros);
  [[nodiscard]] Result<void> Finish(int64_t job_id, std::string_view worker_id,
                                    const JobOutcome& outcome);
  [[nodiscard]] Result<void> Release(int64_t job_id, std::string_view worker_id);
  [[nodiscard]] Result<int64_t> ReapExpired();
  [[nodiscard]] Result<Job> Get(int64_t job_id, const AssetFilter& scope);
  [[nodiscard]] Result<JobPage> List(const JobFilter& filter, std::string_view cursor, int limit);
  [[nodiscard]] Result<int64_t> Retry(const JobFilter& filter);
  [[nodiscard]] Result<JobState> Cancel(int64_t job_id, const AssetFilter& scope);
  [[nodiscard]] Result<QueueStats> Stats(const AssetFilter& scope);
  [[nodiscard]] Result<bool> QuarantineIfRepeated(std::string_view asset_id, std::string_view stage,
                                                  std::string_view recipe, int threshold);
  [[nodiscard]] Result<std::vector<QuarantineEntry>> ListQuarantine(const AssetFilter& scope);

 private:
  class LimitStore;  // LimitedClaimStore over this transaction (sqlite_jobs.cc)

  struct Lease {
    JobState state = JobState::kQueued;
    std::string owner;
    bool cancel_requested = false;
  };

  // The job's lease as stored; kConflict unless `worker_id` holds it. A lease past its
  // expiry that no reaper has taken yet is still held: nobody else can have it.
  [[nodiscard]] Result<Lease> CheckHeld(int64_t job_id, std::string_view worker_id);
  // Every stage row of the given jobs, names sorted, in one query; `forced`, when given,
  // receives the forced ones.
  [[nodiscard]] Result<std::map<int64_t, std::vector<std::string>>> LoadStages(
      const std::vector<int64_t>& job_ids,
      std::map<int64_t, std::vector<std::string>>* forced = nullptr);
  [[nodiscard]] Result<void> FillStages(std::vector<Job>& jobs);
  // Leases the selected jobs to the request's worker (updating them in place).
  [[nodiscard]] Result<void> LeaseJobs(const ClaimRequest& request, std::vector<Job>& jobs);
  // Ends the job in a final state (succeeded, failed, cancelled): lease cleared, stages
  // inactive. `error_code`/`error_message` replace the last error unless empty.
  [[nodiscard]] Result<void> End(int64_t job_id, JobState state, const std::string& error_code,
                                 const std::string& error_message);
  [[nodiscard]] Result<JobState> LoadState(int64_t job_id, const AssetFilter& scope);

  SqliteConnection& db_;
  const int64_t now_;
};

}  // namespace reprise::catalog
