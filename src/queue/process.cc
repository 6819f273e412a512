#include "queue/process.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>

namespace reprise::queue {
namespace {

constexpr int64_t kWaitMicros = 250'000;     // between looks at the interrupt flag
constexpr int64_t kSweepMicros = 1'000'000;  // between looks at jobs other workers run

bool IsFinal(catalog::JobState state) {
  return state == catalog::JobState::kSucceeded || state == catalog::JobState::kFailed ||
         state == catalog::JobState::kCancelled;
}

// The error a derivative row recorded, back as an Error.
Error RowError(const catalog::Derivative& row) {
  ErrorCode code = ErrorCode::kInternal;
  for (auto candidate : {ErrorCode::kNotFound, ErrorCode::kInvalidArgument,
                         ErrorCode::kUnsupportedMedia, ErrorCode::kIo, ErrorCode::kUnavailable,
                         ErrorCode::kConflict, ErrorCode::kCancelled, ErrorCode::kInternal}) {
    if (ErrorCodeName(candidate) == row.error_code) code = candidate;
  }
  return Error{code, row.error_message.empty() ? "failed" : row.error_message, ""};
}

struct TrackedAsset {
  std::vector<std::string> stages;  // due stages
  std::set<int64_t> jobs;           // the jobs holding them
};

}  // namespace

Result<ProcessSummary> Processor::Run(const ProcessOptions& options,
                                      const std::function<void(const ProcessProgress&)>& progress) {
  const int64_t started = clock_.MonotonicMicros();
  const int64_t started_at = clock_.NowMicros();
  ProcessSummary summary;

  // 1. Enqueue what is due and remember which jobs hold it.
  std::map<std::string, TrackedAsset> assets;
  std::set<int64_t> remaining;
  Result<void> tracking;
  EnqueueDueOptions enqueue;
  enqueue.filter = options.filter;
  enqueue.stages = options.stages;
  enqueue.include_failed = options.retry_failed;
  enqueue.priority = catalog::kLivePriority;
  enqueue.max_attempts = options.max_attempts;
  auto counts = EnqueueDue(catalog_, registry_, enqueue, [&](const DueAsset& due) {
    auto& tracked = assets[due.asset.id];
    tracked.stages = due.due;
    if (due.result.job_id != 0) tracked.jobs.insert(due.result.job_id);
    if (due.result.already_active.empty() || !tracking) return;
    // Stages queued or running before this run (by ingest, another process): wait for
    // the jobs that hold them too.
    for (auto state : {catalog::JobState::kQueued, catalog::JobState::kRunning}) {
      catalog::JobFilter filter;
      filter.asset_id = due.asset.id;
      filter.state = state;
      catalog::PageRequest page;
      page.limit = 100;
      auto jobs = catalog_.ListJobs(filter, page);
      if (!jobs) {
        tracking = Fail(jobs.error());
        return;
      }
      for (const auto& job : jobs->items) {
        for (const auto& stage : due.result.already_active) {
          if (std::find(job.stages.begin(), job.stages.end(), stage) != job.stages.end()) {
            tracked.jobs.insert(job.id);
          }
        }
      }
    }
  });
  if (!counts) return Fail(counts.error());
  if (!tracking) return Fail(tracking.error());
  summary.assets_seen = counts->assets_seen;
  summary.assets_run = counts->assets_due;
  summary.quarantined = counts->quarantined;
  for (const auto& [id, tracked] : assets)
    remaining.insert(tracked.jobs.begin(), tracked.jobs.end());
  summary.jobs = static_cast<int64_t>(remaining.size());

  // 2. Run a pool until every one of those jobs is final.
  ProcessProgress state;
  state.jobs_total = summary.jobs;
  if (progress) progress(state);
  if (!remaining.empty()) {
    std::mutex mutex;
    std::condition_variable changed;
    // Jobs this process's own pool ended, with their final state.
    std::vector<std::pair<int64_t, catalog::JobState>> reported;
    auto worker = make_worker_(options.concurrency);
    if (!worker) return Fail(ErrorCode::kInternal, "no worker pool");
    worker->SetObserver([&](const JobReport& report) {
      if (!report.outcome || !IsFinal(*report.outcome)) return;
      {
        std::lock_guard lock(mutex);
        reported.emplace_back(report.job.id, *report.outcome);
      }
      changed.notify_all();
    });
    REPRISE_TRY(worker->Start());
    worker->Wake();

    auto settle = [&](int64_t id, catalog::JobState final_state) {
      if (remaining.erase(id) == 0) return;
      ++state.jobs_done;
      if (final_state != catalog::JobState::kSucceeded) ++state.failures;
    };
    // Jobs this pool finished are known at once; jobs other workers run are looked up
    // once a second (real time: the injected clock may stand still in tests).
    auto last_sweep = std::chrono::steady_clock::now();
    std::optional<Error> sweep_error;
    while (!remaining.empty() && !sweep_error) {
      std::vector<std::pair<int64_t, catalog::JobState>> ours;
      {
        std::unique_lock lock(mutex);
        changed.wait_for(lock, std::chrono::microseconds(kWaitMicros),
                         [&] { return !reported.empty(); });
        ours.swap(reported);
      }
      for (const auto& [id, final_state] : ours) settle(id, final_state);
      if (std::chrono::steady_clock::now() - last_sweep >=
          std::chrono::microseconds(kSweepMicros)) {
        last_sweep = std::chrono::steady_clock::now();
        for (auto it = remaining.begin(); it != remaining.end() && !sweep_error;) {
          int64_t id = *it++;
          auto job = catalog_.GetJob(id, {});
          if (!job) {
            sweep_error = job.error();
          } else if (IsFinal(job->state)) {
            settle(id, job->state);
          }
        }
      }
      if (progress) progress(state);
      if (options.interrupted && options.interrupted()) {
        summary.interrupted = true;
        break;
      }
    }
    worker->Shutdown(summary.interrupted ? options.interrupted : nullptr);
    if (sweep_error) return Fail(*sweep_error);
    summary.jobs_left = static_cast<int64_t>(remaining.size());
    summary.jobs_failed = state.failures;
  }

  // 3. What became of each due (asset, stage): the newest attempt this run wrote.
  for (const auto& [asset_id, tracked] : assets) {
    auto rows = catalog_.ListDerivatives(asset_id);
    if (!rows) return Fail(rows.error());
    for (const auto& stage : tracked.stages) {
      const catalog::Derivative* latest = nullptr;
      for (const auto& row : *rows) {  // newest first
        if (row.stage == stage && row.created_at >= started_at &&
            row.state != catalog::DerivativeState::kRunning &&
            row.state != catalog::DerivativeState::kPending) {
          latest = &row;
          break;
        }
      }
      if (latest == nullptr) continue;  // not run (cancelled, interrupted, built elsewhere)
      auto& tally = summary.stages[stage];
      switch (latest->state) {
        case catalog::DerivativeState::kDone:
          ++tally.done;
          break;
        case catalog::DerivativeState::kSkipped:
          ++tally.skipped[latest->skip_reason];
          break;
        default:
          ++tally.failed;
          summary.failures.push_back({asset_id, stage, RowError(*latest)});
          break;
      }
    }
  }
  summary.elapsed_seconds = static_cast<double>(clock_.MonotonicMicros() - started) / 1e6;
  return summary;
}

}  // namespace reprise::queue
