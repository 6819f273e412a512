#include "queue/worker.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <limits>

#include <fmt/format.h>

namespace reprise::queue {
namespace {

std::string CommaList(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ",") + name;
  return out.empty() ? "-" : out;
}

}  // namespace

std::string_view OutcomeName(const JobReport& report) {
  if (report.lease_lost) return "lease_lost";
  if (report.released) return "released";
  if (!report.outcome) return "unfinished";
  if (*report.outcome == catalog::JobState::kQueued) return "retry";
  return catalog::Name(*report.outcome);
}

std::string MakeWorkerId(int n) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof host, "localhost");
  }
  return fmt::format("{}:{}:{}", host, ::getpid(), n);
}

// One claimed job on its way through a slot.
struct Worker::JobRun {
  catalog::Job job;
  std::string owner;
  JobReport report;
  int max_attempts = 1;
  int64_t last_renew = 0;     // monotonic, last heartbeat attempt
  int64_t last_renew_ok = 0;  // monotonic, last heartbeat the catalog accepted
  bool cancel_requested = false;
  bool aborted = false;  // stopped by Abort() through the progress hook
  bool ended = false;    // the lease was ended (finished, released) or found lost
  // When set, finishing the job also claims the next one in the same transaction
  // (Catalog::FinishJobAndClaim); what it claimed lands in `next_jobs`.
  const catalog::ClaimRequest* next_claim = nullptr;
  std::vector<catalog::Job> next_jobs;
};

Worker::Worker(catalog::Catalog& catalog, ExecutorFactory make_executor,
               const stages::Registry& registry, const Clock& clock, Random& random, Logger log,
               WorkerOptions options)
    : catalog_(catalog),
      make_executor_(std::move(make_executor)),
      registry_(registry),
      clock_(clock),
      random_(random),
      log_(std::move(log)),
      options_(std::move(options)) {
  retry_.max_attempts = options_.max_attempts;
  retry_.backoff_base_micros = options_.backoff_base_micros;
  retry_.backoff_max_micros = options_.backoff_max_micros;
}

Worker::~Worker() {
  Abort();
  Join();
}

Result<void> Worker::Start() {
  if (!threads_.empty()) return Fail(ErrorCode::kConflict, "worker already started");
  if (options_.concurrency < 1) {
    return Fail(ErrorCode::kInvalidArgument, "a worker needs at least one slot");
  }
  if (options_.lease_micros <= 0) {
    return Fail(ErrorCode::kInvalidArgument, "the lease must be longer than zero");
  }
  if (!options_.stages.empty()) {
    auto known = registry_.Select(options_.stages);
    if (!known) return Fail(known.error());
  }
  if (options_.heartbeat_micros <= 0) options_.heartbeat_micros = options_.lease_micros / 3;
  // A lease's expiry is absolute (set by whoever holds it, with its own lease), so how
  // late a dead worker's job is requeued depends only on how often someone looks: every
  // poll, so recovery takes about one lease plus one poll whatever lease this worker has.
  if (options_.reap_micros <= 0) {
    options_.reap_micros = std::min(options_.poll_micros, options_.lease_micros / 2);
  }
  if (options_.worker_id.empty()) options_.worker_id = MakeWorkerId(0);
  const int n = options_.concurrency;
  double share = std::clamp(options_.reserved_live_share, 0.0, 1.0);
  reserved_slots_ = std::min(static_cast<int>(std::ceil(n * share - 1e-9)), n - 1);
  stop_claiming_ = false;
  abort_ = false;
  log_->info("worker {} started: {} slot(s) ({} reserved for live work), stages {}, lease {:.1f}s",
             options_.worker_id, n, reserved_slots_, CommaList(options_.stages),
             static_cast<double>(options_.lease_micros) / 1e6);
  listener_id_ = catalog_.AddChangeListener([this](const catalog::Change& change) {
    if (change.Has(catalog::ChangeTopic::kJobs)) Wake();
  });
  for (int slot = 0; slot < n; ++slot) threads_.emplace_back([this, slot] { SlotLoop(slot); });
  return {};
}

void Worker::Wake() {
  {
    std::lock_guard lock(mutex_);
    ++wake_seq_;
  }
  wake_.notify_all();
}

void Worker::StopClaiming() {
  stop_claiming_ = true;
  Wake();
}

void Worker::Abort() {
  abort_ = true;
  StopClaiming();
}

bool Worker::WaitIdle(int64_t timeout_micros) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, std::chrono::microseconds(std::max<int64_t>(timeout_micros, 0)),
                        [&] { return running_.load() == 0; });
}

void Worker::Join() {
  if (const int64_t id = listener_id_.exchange(0); id != 0) catalog_.RemoveChangeListener(id);
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

void Worker::Shutdown(const std::function<bool()>& hurry) {
  StopClaiming();
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::microseconds(options_.grace_micros);
  constexpr auto kStep = std::chrono::milliseconds(50);
  while (!WaitIdle(0)) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      log_->info("worker {}: grace period over, releasing {} running job(s)", options_.worker_id,
                 running_.load());
      Abort();
      break;
    }
    auto step = std::min<std::chrono::steady_clock::duration>(kStep, deadline - now);
    if (WaitIdle(std::chrono::duration_cast<std::chrono::microseconds>(step).count())) break;
    if (hurry && hurry()) {
      log_->info("worker {}: told to hurry, releasing {} running job(s)", options_.worker_id,
                 running_.load());
      Abort();
      break;
    }
  }
  Join();
  log_->info("worker {} stopped", options_.worker_id);
}

void Worker::IdleWait(uint64_t seen) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, std::chrono::microseconds(options_.poll_micros),
                 [&] { return stop_claiming_.load() || wake_seq_ != seen; });
}

void Worker::MaybeReap() {
  int64_t now = clock_.MonotonicMicros();
  int64_t last = last_reap_.load();
  if (last != 0 && now - last < options_.reap_micros) return;
  // One slot reaps per interval; the others skip.
  if (!last_reap_.compare_exchange_strong(last, now)) return;
  auto reaped = catalog_.ReapExpiredLeases();
  if (!reaped) {
    log_->warn("worker {}: cannot reap expired leases: {}", options_.worker_id,
               reaped.error().ToString());
  } else if (*reaped > 0) {
    log_->info("worker {}: requeued {} job(s) whose lease expired", options_.worker_id, *reaped);
  }
}

void Worker::SlotLoop(int slot) {
  const std::string owner = fmt::format("{}/{}", options_.worker_id, slot);
  const bool reserved = slot < reserved_slots_;
  std::unique_ptr<Executor> executor;
  try {
    executor = make_executor_();
  } catch (const std::exception& e) {
    log_->error("worker {}: slot {} cannot start: {}", options_.worker_id, slot, e.what());
    return;
  }
  catalog::ClaimRequest request;
  request.worker_id = owner;
  request.max_jobs = 1;
  request.lease_micros = options_.lease_micros;
  request.min_priority = reserved ? catalog::kLivePriority : std::numeric_limits<int>::min();
  request.stages = options_.stages;
  request.limits = options_.limits;
  std::vector<catalog::Job> next;  // claimed with the last finish
  while (!stop_claiming_ || !next.empty()) {
    uint64_t seen = 0;
    {
      std::lock_guard lock(mutex_);
      seen = wake_seq_;
    }
    try {
      MaybeReap();
      // A busy slot gets its next job from the transaction that finished the last one.
      std::vector<catalog::Job> claimed = std::move(next);
      next.clear();
      if (claimed.empty()) {
        auto fresh = catalog_.ClaimJobs(request);
        if (!fresh) {
          log_->warn("worker {}: cannot claim jobs: {}", owner, fresh.error().ToString());
          IdleWait(seen);
          continue;
        }
        claimed = std::move(*fresh);
      }
      if (claimed.empty()) {
        IdleWait(seen);
        continue;
      }
      for (size_t i = 0; i < claimed.size(); ++i) {
        const catalog::Job& job = claimed[i];
        if (stop_claiming_) {
          // Told to stop while the claim was on its way: give it straight back.
          if (auto released = catalog_.ReleaseJob(job.id, owner); !released) {
            log_->warn("job={} cannot release: {}", job.id, released.error().ToString());
          }
          continue;
        }
        // Counted until the job is over, however it ends (an observer may throw).
        struct Running {
          Worker& worker;
          explicit Running(Worker& w) : worker(w) { ++worker.running_; }
          ~Running() {
            {
              std::lock_guard lock(worker.mutex_);
              --worker.running_;
            }
            worker.idle_.notify_all();
          }
          Running(const Running&) = delete;
          Running& operator=(const Running&) = delete;
        } running(*this);
        // Only the last job of a batch claims on: the others' slots are still taken.
        bool last = i + 1 == claimed.size();
        next = RunClaimed(*executor, owner, job, last ? &request : nullptr);
      }
    } catch (const std::exception& e) {
      log_->error("worker {}: slot {} recovered from: {}", options_.worker_id, slot, e.what());
      IdleWait(seen);
    }
  }
}

std::vector<catalog::Job> Worker::RunClaimed(Executor& executor, const std::string& owner,
                                             const catalog::Job& job,
                                             const catalog::ClaimRequest* next_claim) {
  const int64_t started = clock_.MonotonicMicros();
  JobRun run;
  run.next_claim = next_claim;
  run.job = job;
  run.owner = owner;
  run.report.job = job;
  run.report.lease_owner = owner;
  run.max_attempts = std::max(1, std::min(job.max_attempts, options_.max_attempts));
  log_->info("job={} event=start asset={} stages={} attempt={}/{} priority={} worker={}", job.id,
             job.asset_id, CommaList(job.stages), job.attempts, run.max_attempts, job.priority,
             owner);
  try {
    Execute(executor, run);
  } catch (const std::exception& e) {
    Error error{ErrorCode::kInternal, std::string("job threw: ") + e.what(), ""};
    run.report.error = error;
    if (!run.ended) Finish(run, {catalog::JobState::kFailed, {}, 0, error});
  } catch (...) {
    Error error{ErrorCode::kInternal, "job threw a non-standard exception", ""};
    run.report.error = error;
    if (!run.ended) Finish(run, {catalog::JobState::kFailed, {}, 0, error});
  }
  run.report.seconds = static_cast<double>(clock_.MonotonicMicros() - started) / 1e6;

  std::string_view outcome = OutcomeName(run.report);
  std::string error = run.report.error ? " error=\"" + run.report.error->ToString() + "\"" : "";
  auto level = run.report.outcome == catalog::JobState::kSucceeded || run.report.released
                   ? spdlog::level::info
                   : spdlog::level::warn;
  log_->log(level, "job={} event=finish asset={} stages={} ran={} outcome={} duration={:.3f}s{}",
            job.id, job.asset_id, CommaList(job.stages), CommaList(run.report.ran), outcome,
            run.report.seconds, error);
  auto notify = [&](const Observer& observer) {
    try {
      observer(run.report);
    } catch (const std::exception& e) {
      log_->error("job={} observer threw: {}", job.id, e.what());
    }
  };
  if (observer_) notify(observer_);
  for (const auto& observer : more_observers_) notify(observer);
  return std::move(run.next_jobs);
}

// A forced stage is rebuilt once per job. A retried job whose earlier attempt built the
// stage and then lost its lease or could not record its end (the database went away)
// finds that result current, started after the job was first claimed: no other job can
// have held the stage since, so it is this job's rebuild and is not done again.
bool Worker::RebuiltByEarlierAttempt(const catalog::Job& job, const std::string& stage,
                                     catalog::StageStatus status) {
  if (job.attempts < 2 || status != catalog::StageStatus::kCurrent) return false;
  auto current = catalog_.GetCurrentDerivative(job.asset_id, stage);
  if (!current) return false;  // unreadable: rebuilding is the safe side
  return current->started_at >= job.started_at;
}

void Worker::Execute(Executor& executor, JobRun& run) {
  const catalog::Job& job = run.job;
  auto fail_all = [&](const Error& error) {
    std::vector<std::pair<std::string, Error>> failures;
    for (const auto& stage : job.stages) failures.emplace_back(stage, error);
    FinishWithFailures(run, std::move(failures), false);
  };

  auto asset = catalog_.GetAsset(job.asset_id, {});
  if (!asset) return fail_all(asset.error().Wrap("cannot load asset " + job.asset_id));

  std::vector<const stages::Stage*> stages;
  for (const auto& name : job.stages) {
    const auto* stage = registry_.Find(name);
    if (stage == nullptr) {
      // A newer build enqueued a stage this worker does not have: it cannot run here.
      return fail_all(Error{ErrorCode::kInvalidArgument,
                            "stage " + name + " is not registered in this worker", ""});
    }
    stages.push_back(stage);
  }
  auto statuses = catalog_.GetStageStatuses(asset->id, RecipesOf(registry_, stages));
  if (!statuses) return fail_all(statuses.error().Wrap("cannot read stage statuses"));

  // What is current, skipped or quarantined by now (built by another job, say) is
  // finished without running, unless the stage was forced (a rebuild was asked for) and
  // not yet rebuilt by an earlier attempt of this job; a failed stage was queued to be
  // retried, so it runs.
  std::vector<const stages::Stage*> due;
  for (size_t i = 0; i < stages.size(); ++i) {
    auto status = (*statuses)[i];
    bool forced = std::binary_search(job.forced.begin(), job.forced.end(), job.stages[i]) &&
                  !RebuiltByEarlierAttempt(job, job.stages[i], status);
    if (forced || status == catalog::StageStatus::kMissing ||
        status == catalog::StageStatus::kOutdated || status == catalog::StageStatus::kFailed) {
      due.push_back(stages[i]);
    }
  }
  for (const auto* stage : due) run.report.ran.emplace_back(stage->Name());
  if (due.empty()) return Finish(run, {catalog::JobState::kSucceeded, {}, 0, std::nullopt});
  if (job.attempts > 1) {
    // Claimed again: an earlier attempt may have died mid-way (SIGKILL, lost lease) and
    // left its rows running and its files behind. This lease makes them ours to close.
    if (auto closed = executor.CloseAbandonedAttempts(*asset, due); !closed) {
      log_->warn("job={} cannot close abandoned attempts: {}", job.id, closed.error().ToString());
    }
  }

  stages::RunOptions options;
  options.on_progress = [this, &run](const media::PassProgress&) { return OnProgress(run); };
  run.last_renew = run.last_renew_ok = clock_.MonotonicMicros();
  auto ran = executor.RunAsset(
      *asset, due, options,
      job.keep_status ? StatusWhileRunning::kKeep : StatusWhileRunning::kProcessing);
  if (run.report.lease_lost) {
    // Another worker owns the job now; whatever this run recorded stays as history.
    log_->warn("job={} lease lost while running: leaving it to its new owner", job.id);
    return;
  }
  if (!ran) {
    std::vector<std::pair<std::string, Error>> failures;
    for (const auto* stage : due) failures.emplace_back(std::string(stage->Name()), ran.error());
    return FinishWithFailures(run, std::move(failures), false);
  }
  run.report.report = *ran;
  if (run.cancel_requested) {
    Error error{ErrorCode::kCancelled, "cancelled on request", ""};
    run.report.error = error;
    return Finish(run, {catalog::JobState::kCancelled, {}, 0, error});
  }
  if (run.aborted) {
    run.ended = true;
    if (auto released = catalog_.ReleaseJob(job.id, run.owner); !released) {
      if (released.error().code == ErrorCode::kConflict) run.report.lease_lost = true;
      log_->warn("job={} cannot release: {}", job.id, released.error().ToString());
      return;
    }
    run.report.released = true;
    run.report.outcome = catalog::JobState::kQueued;
    return;
  }
  std::vector<std::pair<std::string, Error>> failures;
  for (const auto& stage : ran->stages) {
    if (stage.state != catalog::DerivativeState::kFailed) continue;
    failures.emplace_back(stage.stage,
                          stage.error.value_or(Error{ErrorCode::kInternal, "failed", ""}));
  }
  FinishWithFailures(run, std::move(failures), true);
}

Result<void> Worker::OnProgress(JobRun& run) {
  if (abort_) {
    run.aborted = true;
    return Fail(ErrorCode::kCancelled, "worker shutting down; the job goes back to the queue");
  }
  const int64_t now = clock_.MonotonicMicros();
  if (now - run.last_renew < options_.heartbeat_micros) return {};
  run.last_renew = now;
  auto renewed = catalog_.RenewLease(run.job.id, run.owner, options_.lease_micros);
  if (!renewed) {
    if (renewed.error().code == ErrorCode::kConflict ||
        now - run.last_renew_ok >= options_.lease_micros) {
      // Reaped and maybe taken over, or unrenewable for a whole lease: either way another
      // worker may run it now, so this run must stop and must not finish the job.
      run.report.lease_lost = true;
      run.ended = true;
      return Fail(ErrorCode::kCancelled, "lease on job " + std::to_string(run.job.id) +
                                             " lost: " + renewed.error().ToString());
    }
    // A busy catalog: the lease still holds for a while, try again next heartbeat.
    log_->warn("job={} cannot renew its lease yet: {}", run.job.id, renewed.error().ToString());
    return {};
  }
  run.last_renew_ok = now;
  if (*renewed) {
    run.cancel_requested = true;
    return Fail(ErrorCode::kCancelled, "job " + std::to_string(run.job.id) + " cancelled");
  }
  return {};
}

void Worker::FinishWithFailures(JobRun& run, std::vector<std::pair<std::string, Error>> failures,
                                bool check_quarantine) {
  if (failures.empty()) return Finish(run, {catalog::JobState::kSucceeded, {}, 0, std::nullopt});
  std::vector<std::string> retry;
  std::optional<Error> transient;
  std::optional<Error> permanent;
  for (const auto& [stage, error] : failures) {
    bool quarantined = false;
    if (check_quarantine) {
      auto entered = catalog_.QuarantineIfRepeated(run.job.asset_id, stage, registry_.Recipe(stage),
                                                   options_.quarantine_threshold);
      if (!entered) {
        log_->warn("job={} cannot check quarantine of {}: {}", run.job.id, stage,
                   entered.error().ToString());
      } else if (*entered) {
        quarantined = true;
        log_->warn("asset={} stage={} quarantined: its content failed {} time(s) or more",
                   run.job.asset_id, stage, options_.quarantine_threshold);
      }
    }
    Error named = error.Wrap("stage " + stage);
    if (IsRetryable(error) && !quarantined) {
      retry.push_back(stage);
      if (!transient) transient = named;
    } else if (!permanent) {
      permanent = named;
    }
  }
  catalog::JobOutcome outcome;
  if (!retry.empty() && run.job.attempts < run.max_attempts) {
    outcome.state = catalog::JobState::kQueued;
    outcome.retry_stages = retry;
    outcome.run_after =
        clock_.NowMicros() + BackoffDelay(retry_, std::max(1, run.job.attempts), random_);
    outcome.error = transient;
    run.report.retried = retry;
    run.report.run_after = outcome.run_after;
  } else {
    outcome.state = catalog::JobState::kFailed;
    if (permanent) {
      outcome.error = permanent;
    } else {
      outcome.error = transient->Wrap(fmt::format("gave up after {} attempt(s)", run.job.attempts));
    }
  }
  run.report.error = outcome.error;
  Finish(run, std::move(outcome));
}

void Worker::Finish(JobRun& run, catalog::JobOutcome outcome) {
  run.ended = true;
  auto state = outcome.state;
  Result<void> finished;
  if (run.next_claim != nullptr && !stop_claiming_) {
    auto claimed = catalog_.FinishJobAndClaim(run.job.id, run.owner, outcome, *run.next_claim);
    if (claimed) {
      run.next_jobs = std::move(*claimed);
    } else {
      finished = Fail(std::move(claimed.error()));
    }
  } else {
    finished = catalog_.FinishJob(run.job.id, run.owner, outcome);
  }
  if (!finished) {
    if (finished.error().code == ErrorCode::kConflict) {
      run.report.lease_lost = true;
      log_->warn("job={} lease lost before it finished; its new owner will see the results",
                 run.job.id);
    } else {
      // The lease expires and the reaper requeues the job; its results are recorded.
      log_->error("job={} cannot be finished: {}", run.job.id, finished.error().ToString());
    }
    return;
  }
  run.report.outcome = state;
}

}  // namespace reprise::queue
