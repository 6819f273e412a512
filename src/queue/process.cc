#include "queue/process.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace reprise::queue {
namespace {

constexpr int64_t kWaitMicros = 250'000;     // between looks at the interrupt flag
constexpr int64_t kSweepMicros = 1'000'000;  // between looks at jobs other workers run
constexpr size_t kSweepBatch = 10'000;       // job ids per look

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
  std::set<std::string> stages;  // due, and any other stage of the jobs below
  std::set<int64_t> jobs;        // the jobs holding its due stages
};

}  // namespace

struct ProcessSession::State {
  State(catalog::Catalog& the_catalog, const stages::Registry& the_registry, const Clock& the_clock,
        Processor::WorkerFactory factory, ProcessOptions given)
      : catalog(the_catalog),
        registry(the_registry),
        clock(the_clock),
        make_worker(std::move(factory)),
        options(std::move(given)),
        started(the_clock.MonotonicMicros()),
        started_at(the_clock.NowMicros()) {}

  catalog::Catalog& catalog;
  const stages::Registry& registry;
  const Clock& clock;
  Processor::WorkerFactory make_worker;
  ProcessOptions options;
  const int64_t started;
  const int64_t started_at;

  ProcessSummary summary;
  std::map<std::string, TrackedAsset> assets;
  std::set<int64_t> remaining;  // tracked jobs not yet final
  ProcessProgress progress;
  std::unique_ptr<Worker> worker;  // started at the first job to wait for
  bool waited = false;

  std::mutex mutex;
  std::condition_variable changed;
  // Jobs this session's own pool ended, with their final state; read by Wait().
  std::vector<std::pair<int64_t, catalog::JobState>> reported;

  Result<void> StartPool() {
    if (worker) return {};
    worker = make_worker(options.concurrency, options.stages);
    if (!worker) return Fail(ErrorCode::kInternal, "no worker pool");
    worker->SetObserver([this](const JobReport& report) {
      if (!report.outcome || !IsFinal(*report.outcome)) return;
      {
        std::lock_guard lock(mutex);
        reported.emplace_back(report.job.id, *report.outcome);
      }
      changed.notify_all();
    });
    auto started_pool = worker->Start();
    if (!started_pool) {
      worker.reset();
      return Fail(started_pool.error());
    }
    return {};
  }

  void Settle(int64_t id, catalog::JobState final_state) {
    if (remaining.erase(id) == 0) return;
    ++progress.jobs_done;
    if (final_state != catalog::JobState::kSucceeded) ++progress.failures;
  }
};

ProcessSession::ProcessSession(std::unique_ptr<State> state) : state_(std::move(state)) {}

ProcessSession::~ProcessSession() {
  if (state_->worker) state_->worker->Shutdown(nullptr);
}

Result<std::unique_ptr<ProcessSession>> Processor::Begin(const ProcessOptions& options) {
  auto selected = registry_.Select(options.stages);  // names checked before any work
  if (!selected) return Fail(selected.error());
  return std::unique_ptr<ProcessSession>(new ProcessSession(
      std::make_unique<ProcessSession::State>(catalog_, registry_, clock_, make_worker_, options)));
}

Result<void> ProcessSession::Add(const catalog::AssetFilter& filter) {
  State& s = *state_;
  if (s.waited) return Fail(ErrorCode::kInternal, "ProcessSession::Add after Wait");
  // Enqueue what is due and remember which jobs hold it.
  Result<void> tracking;
  EnqueueDueOptions enqueue;
  enqueue.filter = filter;
  enqueue.stages = s.options.stages;
  enqueue.include_failed = s.options.retry_failed;
  enqueue.priority = catalog::kLivePriority;
  enqueue.max_attempts = s.options.max_attempts;
  enqueue.separate = !s.options.stages.empty();
  const size_t jobs_before = s.remaining.size();
  auto counts = EnqueueDue(s.catalog, s.registry, enqueue, [&](const DueAsset& due) {
    auto& tracked = s.assets[due.asset.id];
    // The summary looks at every stage these jobs hold: whatever they run is reported.
    tracked.stages.insert(due.due.begin(), due.due.end());
    std::set<int64_t> jobs;
    if (due.result.job_id != 0) {
      jobs.insert(due.result.job_id);
      if (!due.result.created && tracking) {
        auto merged = s.catalog.GetJob(due.result.job_id, {});
        if (!merged) {
          tracking = Fail(merged.error());
          return;
        }
        tracked.stages.insert(merged->stages.begin(), merged->stages.end());
      }
    }
    if (!due.result.already_active.empty() && tracking) {
      // Stages queued or running before this run (by ingest, another process): wait for
      // the jobs that hold them too.
      for (auto state : {catalog::JobState::kQueued, catalog::JobState::kRunning}) {
        catalog::JobFilter job_filter;
        job_filter.asset_id = due.asset.id;
        job_filter.state = state;
        catalog::PageRequest page;
        page.limit = 100;
        auto listed = s.catalog.ListJobs(job_filter, page);
        if (!listed) {
          tracking = Fail(listed.error());
          return;
        }
        for (const auto& job : listed->items) {
          for (const auto& stage : due.result.already_active) {
            if (std::find(job.stages.begin(), job.stages.end(), stage) != job.stages.end()) {
              jobs.insert(job.id);
              tracked.stages.insert(job.stages.begin(), job.stages.end());
            }
          }
        }
      }
    }
    for (int64_t id : jobs) {
      if (tracked.jobs.insert(id).second) s.remaining.insert(id);
    }
  });
  if (!counts) return Fail(counts.error());
  if (!tracking) return Fail(tracking.error());
  s.summary.assets_seen += counts->assets_seen;
  s.summary.assets_run += counts->assets_due;
  for (const auto& [stage, count] : counts->quarantined) s.summary.quarantined[stage] += count;
  s.progress.jobs_total += static_cast<int64_t>(s.remaining.size() - jobs_before);
  if (s.remaining.size() > jobs_before) {
    REPRISE_TRY(s.StartPool());
    s.worker->Wake();
  }
  return {};
}

Result<void> ProcessSession::Sweep(State& s) {
  std::vector<int64_t> ids(s.remaining.begin(), s.remaining.end());
  for (size_t at = 0; at < ids.size(); at += kSweepBatch) {
    const size_t end = std::min(ids.size(), at + kSweepBatch);
    std::vector<int64_t> batch(ids.begin() + static_cast<std::ptrdiff_t>(at),
                               ids.begin() + static_cast<std::ptrdiff_t>(end));
    auto states = s.catalog.GetJobStates(batch);
    if (!states) return Fail(std::move(states.error()));
    for (int64_t id : batch) {
      auto found = states->find(id);
      if (found == states->end()) {
        return Fail(ErrorCode::kNotFound, "job " + std::to_string(id) + " not found");
      }
      if (IsFinal(found->second)) s.Settle(id, found->second);
    }
  }
  return {};
}

Result<ProcessSummary> ProcessSession::Wait(
    const std::function<void(const ProcessProgress&)>& progress) {
  State& s = *state_;
  if (s.waited) return Fail(ErrorCode::kInternal, "ProcessSession::Wait called twice");
  s.waited = true;
  ProcessSummary& summary = s.summary;
  summary.jobs = s.progress.jobs_total;

  // Run the pool until every tracked job is final.
  if (progress) progress(s.progress);
  if (s.worker) {
    // Jobs other workers run are looked up once a second (real time: the injected clock
    // may stand still in tests), a batch of ids a query, and less often when a sweep
    // itself takes long (a very large session): at most a tenth of the time goes to it.
    auto last_sweep = std::chrono::steady_clock::now();
    auto sweep_every = std::chrono::microseconds(kSweepMicros);
    std::optional<Error> sweep_error;
    while (!sweep_error) {
      std::vector<std::pair<int64_t, catalog::JobState>> ours;
      {
        std::unique_lock lock(s.mutex);
        if (!s.remaining.empty()) {
          s.changed.wait_for(lock, std::chrono::microseconds(kWaitMicros),
                             [&] { return !s.reported.empty(); });
        }
        ours.swap(s.reported);
      }
      for (const auto& [id, final_state] : ours) s.Settle(id, final_state);
      if (s.remaining.empty()) break;
      if (std::chrono::steady_clock::now() - last_sweep >= sweep_every) {
        const auto began = std::chrono::steady_clock::now();
        if (auto swept = Sweep(s); !swept) sweep_error = std::move(swept.error());
        last_sweep = std::chrono::steady_clock::now();
        sweep_every = std::max(
            std::chrono::microseconds(kSweepMicros),
            std::chrono::duration_cast<std::chrono::microseconds>((last_sweep - began) * 10));
      }
      if (progress) progress(s.progress);
      if (s.options.interrupted && s.options.interrupted()) {
        summary.interrupted = true;
        break;
      }
    }
    if (progress) progress(s.progress);
    s.worker->Shutdown(summary.interrupted ? s.options.interrupted : nullptr);
    s.worker.reset();
    // Jobs that ended during a graceful shutdown are not left.
    for (const auto& [id, final_state] : s.reported) s.Settle(id, final_state);
    s.reported.clear();
    if (sweep_error) return Fail(*sweep_error);
    summary.jobs_left = static_cast<int64_t>(s.remaining.size());
    summary.jobs_failed = s.progress.failures;
  }

  // What became of each stage the waited-for jobs held (the due ones, and any other such a
  // job ran too): the newest attempt this run wrote.
  for (const auto& [asset_id, tracked] : s.assets) {
    auto rows = s.catalog.ListDerivatives(asset_id);
    if (!rows) return Fail(rows.error());
    for (const auto& stage : tracked.stages) {
      const catalog::Derivative* latest = nullptr;
      for (const auto& row : *rows) {  // newest first
        if (row.stage == stage && row.created_at >= s.started_at &&
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
  summary.elapsed_seconds = static_cast<double>(s.clock.MonotonicMicros() - s.started) / 1e6;
  return summary;
}

Result<ProcessSummary> Processor::Run(const ProcessOptions& options,
                                      const std::function<void(const ProcessProgress&)>& progress) {
  auto session = Begin(options);
  if (!session) return Fail(session.error());
  REPRISE_TRY((*session)->Add(options.filter));
  return (*session)->Wait(progress);
}

}  // namespace reprise::queue
