// Process: `reprise process` as a service. It enqueues what is due on the selected assets
// (EnqueueDue, live priority), runs an in-process worker pool and waits until every job
// holding that work has finished (whichever worker ran it: other `reprise worker`
// processes on the same catalog help), then summarises what happened to each due
// (asset, stage) from the derivative rows the run wrote.
//
// A stage is due when its status is missing or outdated (and failed, with retry_failed);
// work that was already queued or running (by ingest, say) is waited for too, not
// enqueued twice. Transient failures are retried by the queue's policy before they
// count as failures here.
//
// With a stage list only those stages run here. Jobs run whole (a job's stages share one
// decode pass, one lease and one attempt count), so the selected stages get jobs of their
// own: a due stage waiting in a queued job beside stages not selected moves out of it
// (catalog::NewJob::separate), the rest stays queued for any worker, and this run's pool
// claims only jobs made of selected stages. A job another worker is already running is
// waited for and runs whole there. The summary lists every stage that has a result
// written on the assets of this run since it began, selected or not, so nothing that
// ran is left out.
//
// Begin() starts the pool first and Add() brings assets in as they arrive, so work can
// start while more is still being found (`reprise ingest --process` adds each file as
// soon as it is stored); Run() is Begin, Add(options.filter), Wait.
//
// Errors: kInvalidArgument for an unknown stage; catalog errors stop the run (work
// already queued stays queued for any worker). Interruption (options.interrupted) stops
// the pool gracefully and reports the jobs left. Thread-safety: one Run or session at a
// time; a session is used from one thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "queue/enqueue.h"
#include "queue/worker.h"

namespace reprise::queue {

struct ProcessOptions {
  catalog::AssetFilter filter;
  std::vector<std::string> stages;  // empty: every registered stage
  bool retry_failed = false;
  int concurrency = 0;  // worker slots; 0: the factory's default
  int max_attempts = 5;
  // Polled while waiting (about four times a second); true when a stop was asked for
  // since the last call (SIGINT). The first stops the run gracefully (running jobs get
  // the grace period), a second one releases them at once.
  std::function<bool()> interrupted;
};

struct StageTally {
  int64_t done = 0;
  int64_t failed = 0;
  std::map<std::string, int64_t> skipped;  // by reason
};

struct Failure {
  std::string asset_id;
  std::string stage;
  Error error;
};

struct ProcessSummary {
  int64_t assets_seen = 0;
  int64_t assets_run = 0;  // assets that had at least one due stage
  int64_t jobs = 0;        // jobs waited for
  int64_t jobs_failed = 0;
  int64_t jobs_left = 0;  // still queued or running when interrupted
  bool interrupted = false;
  std::map<std::string, StageTally> stages;
  std::map<std::string, int64_t> quarantined;  // by stage: not run
  std::vector<Failure> failures;
  double elapsed_seconds = 0;
};

struct ProcessProgress {
  int64_t jobs_done = 0;
  int64_t jobs_total = 0;
  int64_t failures = 0;  // failed or cancelled jobs so far
};

class Processor;

// One run of the processor, with its pool working from Begin() on.
class ProcessSession {
 public:
  ~ProcessSession();
  ProcessSession(const ProcessSession&) = delete;
  ProcessSession& operator=(const ProcessSession&) = delete;

  // Enqueues what is due on the assets `filter` selects and tracks the jobs holding it
  // (also jobs already queued or running). The same asset twice is tracked once.
  [[nodiscard]] Result<void> Add(const catalog::AssetFilter& filter);
  // Waits until every tracked job is final (or an interrupt), stops the pool and
  // summarises. Once.
  [[nodiscard]] Result<ProcessSummary> Wait(
      const std::function<void(const ProcessProgress&)>& progress = nullptr);

 private:
  friend class Processor;
  struct State;
  explicit ProcessSession(std::unique_ptr<State> state);
  // Settles the remaining jobs that ended elsewhere: one catalog read per batch of ids.
  [[nodiscard]] static Result<void> Sweep(State& s);
  std::unique_ptr<State> state_;
};

class Processor {
 public:
  // Makes the in-process pool: `concurrency` slots (0: the configured default), claiming
  // only jobs whose every stage is in `stages` (empty: any job; WorkerOptions::stages),
  // every other setting from the configuration.
  using WorkerFactory = std::function<std::unique_ptr<Worker>(
      int concurrency, const std::vector<std::string>& stages)>;

  Processor(catalog::Catalog& catalog, const stages::Registry& registry, const Clock& clock,
            WorkerFactory make_worker)
      : catalog_(catalog),
        registry_(registry),
        clock_(clock),
        make_worker_(std::move(make_worker)) {}

  [[nodiscard]] Result<ProcessSummary> Run(
      const ProcessOptions& options,
      const std::function<void(const ProcessProgress&)>& progress = nullptr);

  // Starts a session: its pool runs from now (options.filter is not used; Add() says
  // which assets).
  [[nodiscard]] Result<std::unique_ptr<ProcessSession>> Begin(const ProcessOptions& options);

 private:
  catalog::Catalog& catalog_;
  const stages::Registry& registry_;
  const Clock& clock_;
  WorkerFactory make_worker_;
};

}  // namespace reprise::queue
