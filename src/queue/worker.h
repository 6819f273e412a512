// Worker: a pool of slots (threads) that lease jobs from the durable queue in the
// catalog, run their due stages through an Executor and end each lease with an outcome.
//
// Each slot claims one job at a time; a busy slot finishes a job and claims its next one
// in one transaction (Catalog::FinishJobAndClaim), so each job costs one commit fewer. With N
// slots, ceil(N * reserved_live_share) of them (at most N - 1, so some slot always takes anything)
// only claim jobs at or above catalog::kLivePriority: a long backfill never starves new uploads. A
// claimed job runs the stages that are still due (missing, outdated or failed; a stage that is
// current, skipped or quarantined by now is finished without running). While the one decode pass
// makes progress the slot renews the lease once per heartbeat interval, so a hung decode
// is not kept alive by a timer; a renewal that reports a cancel request stops the job
// (kCancelled), and one that reports the lease lost (kConflict: expired and taken over)
// stops it without finishing it, because another worker owns it now.
//
// Outcomes: every stage done or skipped -> kSucceeded. Stages that failed with a
// transient error (queue/retry_policy.h) go back to the queue with a backoff unless the
// job used its attempts; other failures fail the job at once. After any stage failure
// the content is checked for quarantine (Catalog::QuarantineIfRepeated); a quarantined
// stage is not retried. Errors of the catalog itself while running a job count as
// transient. An exception escaping a job fails it (kInternal); an exception escaping a
// slot's loop is logged and the slot carries on.
//
// Any slot reaps expired leases (Catalog::ReapExpiredLeases) every reap interval (by
// default the poll interval, at most half the lease), so a job of a worker killed with
// SIGKILL is requeued about one poll after its lease expires and runs again.
//
// Shutdown: StopClaiming() lets running jobs finish; Abort() makes them stop at their
// next decode progress and gives their leases back (ReleaseJob: queued again, attempt
// not counted); Shutdown(grace) does both in order. The destructor aborts and joins.
//
// Idle slots look for work when the catalog tells of queued jobs (Catalog::AddChangeListener:
// this process's commits, and on PostgreSQL every process's), when Wake() is called, and
// every poll interval as the fallback for what no notification reaches.
//
// Times: the injected Clock decides heartbeats, reaps and backoffs (so tests drive them
// with a FakeClock); idle slots and grace periods wait on real time.
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/random.h"
#include "queue/executor.h"
#include "queue/retry_policy.h"
#include "stages/registry.h"

namespace reprise::queue {

struct WorkerOptions {
  // Lease owner prefix, unique per worker: "host:pid:n". Slot s leases as "ID/s".
  std::string worker_id;
  int concurrency = 1;
  // Only jobs whose every stage is listed here; empty: any job.
  std::vector<std::string> stages;
  // Global per-stage caps and start rates, checked by the catalog at every claim against
  // what all workers run (catalog/stage_limits.h): a job over a limit waits queued.
  std::vector<catalog::StageLimit> limits;
  int64_t lease_micros = 30'000'000;
  int64_t heartbeat_micros = 0;     // 0: lease / 3
  int64_t poll_micros = 1'000'000;  // idle slots look for work this often (notified: sooner)
  int64_t reap_micros = 0;          // 0: the poll interval, at most lease / 2
  double reserved_live_share = 0.25;
  // Attempts a job may use: the lower of this and the job's own max_attempts.
  int max_attempts = 5;
  int64_t backoff_base_micros = 2'000'000;
  int64_t backoff_max_micros = 600'000'000;
  int quarantine_threshold = 3;
  int64_t grace_micros = 30'000'000;  // Shutdown(): how long running jobs may go on
};

// "host:pid:n": a worker id no other live process uses.
std::string MakeWorkerId(int n);

// What a slot did with one job, for observers (`reprise process`, tests).
struct JobReport {
  catalog::Job job;  // as claimed
  std::string lease_owner;
  // How the lease ended: kSucceeded, kFailed, kCancelled, or kQueued (retry later, or
  // released on shutdown). Unset when the lease was lost and the job left alone.
  std::optional<catalog::JobState> outcome;
  bool released = false;  // given back on shutdown
  bool lease_lost = false;
  int64_t run_after = 0;              // kQueued: not before
  std::vector<std::string> ran;       // stages that were due and ran
  std::vector<std::string> retried;   // kQueued: stages to run again
  std::optional<AssetReport> report;  // the executor's account, when it ran
  std::optional<Error> error;         // the job's error, if it did not succeed
  double seconds = 0;
};

// How a job's lease ended, for logs and metrics: "succeeded", "failed", "cancelled",
// "retry" (queued again with a backoff), "released" (given back on shutdown),
// "lease_lost" or "unfinished".
std::string_view OutcomeName(const JobReport& report);

class Worker {
 public:
  // One Executor per slot (an Executor serves one call at a time).
  using ExecutorFactory = std::function<std::unique_ptr<Executor>()>;
  using Observer = std::function<void(const JobReport&)>;

  Worker(catalog::Catalog& catalog, ExecutorFactory make_executor, const stages::Registry& registry,
         const Clock& clock, Random& random, Logger log, WorkerOptions options);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Called on a slot thread after each job; set before Start(). SetObserver replaces the
  // one observer of the caller that drives the pool (`reprise process`); AddObserver adds
  // another that runs after it (metrics). Observers must be quick: a slot waits for them.
  void SetObserver(Observer observer) { observer_ = std::move(observer); }
  void AddObserver(Observer observer) { more_observers_.push_back(std::move(observer)); }

  // Starts the slots. kInvalidArgument for a stage filter naming an unknown stage, no
  // slots or a non-positive lease; kConflict when already started.
  [[nodiscard]] Result<void> Start();
  // New work may be queued: idle slots look at once instead of at their next poll.
  void Wake();
  // No new claims; running jobs go on.
  void StopClaiming();
  // Running jobs stop at their next decode progress and are released.
  void Abort();
  // Waits (real time) until no slot runs a job; false on timeout.
  bool WaitIdle(int64_t timeout_micros);
  // Waits for every slot to end (call StopClaiming() or Abort() first).
  void Join();
  // StopClaiming(), up to grace_micros (real time) for running jobs, then Abort() and
  // Join(). `hurry`, polled while waiting, cuts the grace period short when it returns
  // true (a second Ctrl-C).
  void Shutdown(const std::function<bool()>& hurry = nullptr);

  [[nodiscard]] const WorkerOptions& options() const { return options_; }
  [[nodiscard]] int reserved_slots() const { return reserved_slots_; }
  [[nodiscard]] int running_jobs() const { return running_.load(); }

 private:
  struct JobRun;

  void SlotLoop(int slot);
  // Runs one claimed job to its end; with `next_claim`, finishing it also claims the
  // slot's next job (returned) in the same transaction.
  std::vector<catalog::Job> RunClaimed(Executor& executor, const std::string& owner,
                                       const catalog::Job& job,
                                       const catalog::ClaimRequest* next_claim);
  void Execute(Executor& executor, JobRun& run);
  bool RebuiltByEarlierAttempt(const catalog::Job& job, const std::string& stage,
                               catalog::StageStatus status);
  Result<void> OnProgress(JobRun& run);
  // Ends the lease with the outcome the failures call for (see the header comment).
  void FinishWithFailures(JobRun& run, std::vector<std::pair<std::string, Error>> failures,
                          bool check_quarantine);
  void Finish(JobRun& run, catalog::JobOutcome outcome);
  void MaybeReap();
  void IdleWait(uint64_t seen);

  catalog::Catalog& catalog_;
  ExecutorFactory make_executor_;
  const stages::Registry& registry_;
  const Clock& clock_;
  Random& random_;
  Logger log_;
  WorkerOptions options_;
  RetryPolicy retry_;
  int reserved_slots_ = 0;
  Observer observer_;
  std::vector<Observer> more_observers_;

  std::vector<std::thread> threads_;
  std::atomic<bool> stop_claiming_{false};
  std::atomic<bool> abort_{false};
  std::atomic<int> running_{0};
  std::atomic<int64_t> last_reap_{0};
  std::mutex mutex_;
  std::condition_variable wake_;  // idle slots
  std::condition_variable idle_;  // WaitIdle()
  uint64_t wake_seq_ = 0;
  std::atomic<int64_t> listener_id_{0};  // the catalog's change listener while started
};

}  // namespace reprise::queue
