// Queue throughput on the SQLite or PostgreSQL catalog: no-op jobs through enqueue ->
// claim -> finish, driven through the real Catalog API (no stage runs, no media), in a
// temporary directory (SQLite) or the database --catalog names (postgres://..., which
// should be empty: bench/queue_throughput.sh makes one per run). Two phases:
//
//   drain   N jobs are enqueued first (the enqueue rate is reported too), then the
//           workers claim and finish them; reports jobs/s.
//   steady  one enqueuer and the workers run at once (the enqueuer paced at --rate jobs/s,
//           or as fast as it can with --rate 0); reports jobs/s and the dispatch latency,
//           the time from enqueue to claim as the catalog stamps it (a job's created_at
//           and its claim's updated_at: on SQLite both read under the write lock, on
//           PostgreSQL when each transaction begins, so there it also holds the enqueue's
//           own commit).
//
// Workers are threads sharing one Catalog (what `reprise worker --concurrency N` does) or
// forked processes with a connection each (what several `reprise worker` processes do).
// An idle worker polls again after --idle-us; with --wake it waits instead for the
// catalog's change notification (Catalog::AddChangeListener: in-process on SQLite,
// LISTEN/NOTIFY across processes on PostgreSQL), --idle-us being only the fallback, as
// the real worker waits (poll_seconds, 1 s, unless notified).
// The real worker claims one job at a time (ClaimRequest::max_jobs = 1); --batch asks
// for more per claim. Like the worker, a busy worker finishes a job and claims its next
// one in one transaction (Catalog::FinishJobAndClaim); --separate-finish measures the
// older way, a transaction for each.
//
// Output: one `key=value ...` line per phase, for bench/queue_throughput.sh to tabulate.
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "catalog/catalog.h"
#include "catalog/postgres/pg_catalog.h"
#include "catalog/sqlite/sqlite_catalog.h"
#include "core/clock.h"

namespace reprise::bench {
namespace {

using catalog::Catalog;
using SteadyClock = std::chrono::steady_clock;

struct Options {
  int64_t jobs = 20'000;
  int workers = 2;
  bool processes = false;
  int batch = 1;
  bool separate_finish = false;
  double rate = 0;  // steady phase: enqueued jobs per second, 0 = unpaced
  int idle_us = 100;
  bool wake = false;  // idle workers wait for the catalog's notification (--idle-us: fallback)
  std::string phases = "drain,steady";
  std::string dir;          // empty: a fresh temporary directory, removed afterwards
  std::string catalog_url;  // postgres://...: that database instead of SQLite in `dir`
};

// State the workers share, in anonymous shared memory so forked workers see it too
// (lock-free atomics work across processes).
struct Shared {
  std::atomic<int> go{0};
  std::atomic<int64_t> finished{0};
  std::atomic<int64_t> errors{0};
  std::atomic<int64_t> recorded{0};
  int64_t* latency_us = nullptr;  // `capacity` entries, right after this struct
};

class SharedRegion {
 public:
  explicit SharedRegion(int64_t capacity)
      : bytes_(sizeof(Shared) + sizeof(int64_t) * static_cast<size_t>(capacity)) {
    void* memory = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) throw std::bad_alloc();
    shared_ = new (memory) Shared;
    shared_->latency_us = reinterpret_cast<int64_t*>(shared_ + 1);
  }
  ~SharedRegion() {
    shared_->~Shared();
    munmap(shared_, bytes_);
  }
  SharedRegion(const SharedRegion&) = delete;
  SharedRegion& operator=(const SharedRegion&) = delete;
  Shared& operator*() const { return *shared_; }
  Shared* operator->() const { return shared_; }

 private:
  size_t bytes_;
  Shared* shared_;
};

bool IsPostgres(const std::string& target) {
  return target.rfind("postgres://", 0) == 0 || target.rfind("postgresql://", 0) == 0;
}

// `target`: a PostgreSQL URL or a SQLite file.
std::unique_ptr<Catalog> OpenOrDie(const std::string& target, const Clock& clock) {
  auto opened = IsPostgres(target) ? catalog::PostgresCatalog::Open(target, clock)
                                   : catalog::SqliteCatalog::Open(target, clock);
  if (!opened) {
    fmt::print(stderr, "cannot open catalog {}: {}\n", target, opened.error().ToString());
    std::exit(3);
  }
  return std::move(*opened);
}

// What idle workers of one process wait on with --wake: the catalog's word that jobs
// were queued.
class Bell {
 public:
  explicit Bell(Catalog& catalog) : catalog_(catalog) {
    id_ = catalog.AddChangeListener([this](const catalog::Change& change) {
      if (!change.Has(catalog::ChangeTopic::kJobs)) return;
      {
        std::lock_guard lock(mu_);
        ++rung_;
      }
      rang_.notify_all();
    });
  }
  ~Bell() { catalog_.RemoveChangeListener(id_); }
  Bell(const Bell&) = delete;
  Bell& operator=(const Bell&) = delete;

  uint64_t rung() {
    std::lock_guard lock(mu_);
    return rung_;
  }
  // Until rung after `seen`, or `timeout`.
  void Wait(uint64_t seen, std::chrono::microseconds timeout) {
    std::unique_lock lock(mu_);
    rang_.wait_for(lock, timeout, [&] { return rung_ != seen; });
  }

 private:
  Catalog& catalog_;
  int64_t id_ = 0;
  std::mutex mu_;
  std::condition_variable rang_;
  uint64_t rung_ = 0;  // guarded by mu_
};

std::string AssetId(int64_t i) { return fmt::format("bench{:07d}", i); }

catalog::NewJob NoOpJob(int64_t i) {
  catalog::NewJob job;
  job.asset_id = AssetId(i);
  job.stages = {"noop"};
  return job;
}

void InsertAssets(Catalog& catalog, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    catalog::NewAsset asset;
    asset.id = AssetId(i);
    asset.owner = "bench";
    asset.sha256_hex = fmt::format("{:064x}", i);
    asset.original_key = "originals/" + asset.id;
    asset.original_name = asset.id + ".mp4";
    asset.media.kind = catalog::AssetKind::kVideo;
    if (auto inserted = catalog.InsertAsset(asset); !inserted) {
      fmt::print(stderr, "insert asset: {}\n", inserted.error().ToString());
      std::exit(1);
    }
  }
}

void Enqueue(Catalog& catalog, int64_t i, Shared& shared) {
  if (auto enqueued = catalog.Enqueue(NoOpJob(i)); !enqueued || enqueued->job_id == 0) {
    shared.errors.fetch_add(1);
    if (!enqueued) fmt::print(stderr, "enqueue: {}\n", enqueued.error().ToString());
  }
}

// Claims and finishes jobs until `total` have finished; idle, waits on `bell` (with
// --wake) or sleeps --idle-us.
void WorkerLoop(Catalog& catalog, Bell* bell, const std::string& worker_id, const Options& options,
                int64_t total, Shared& shared) {
  while (shared.go.load() == 0) std::this_thread::yield();
  catalog::ClaimRequest request;
  request.worker_id = worker_id;
  request.max_jobs = options.batch;
  const catalog::JobOutcome done;  // kSucceeded
  std::vector<catalog::Job> next;  // claimed together with the last finish
  while (shared.finished.load() < total) {
    std::vector<catalog::Job> claimed = std::move(next);
    next.clear();
    if (claimed.empty()) {
      const uint64_t seen = bell != nullptr ? bell->rung() : 0;
      auto fresh = catalog.ClaimJobs(request);
      if (!fresh) shared.errors.fetch_add(1);
      if (!fresh || fresh->empty()) {
        if (bell != nullptr) {
          bell->Wait(seen, std::chrono::microseconds(options.idle_us));
        } else {
          std::this_thread::sleep_for(std::chrono::microseconds(options.idle_us));
        }
        continue;
      }
      claimed = std::move(*fresh);
    }
    for (size_t i = 0; i < claimed.size(); ++i) {
      const catalog::Job& job = claimed[i];
      int64_t slot = shared.recorded.fetch_add(1);
      if (slot < total) shared.latency_us[slot] = job.updated_at - job.created_at;
      Result<void> finished;
      if (i + 1 == claimed.size() && !options.separate_finish) {
        auto chained = catalog.FinishJobAndClaim(job.id, worker_id, done, request);
        if (chained) {
          next = std::move(*chained);
        } else {
          finished = Fail(std::move(chained.error()));
        }
      } else {
        finished = catalog.FinishJob(job.id, worker_id, done);
      }
      if (!finished) {
        shared.errors.fetch_add(1);
        fmt::print(stderr, "finish: {}\n", finished.error().ToString());
      }
      shared.finished.fetch_add(1);
    }
  }
}

// Starts the workers (threads on one shared Catalog, or processes with their own),
// runs `drive` once they wait for the go signal, and returns when every worker is done.
template <class Drive>
void RunWorkers(const std::string& path, const Options& options, int64_t total, Shared& shared,
                Drive drive) {
  SystemClock clock;
  if (!options.processes) {
    auto catalog = OpenOrDie(path, clock);
    auto bell = options.wake ? std::make_unique<Bell>(*catalog) : nullptr;
    std::vector<std::thread> threads;
    for (int w = 0; w < options.workers; ++w) {
      threads.emplace_back([&, w] {
        WorkerLoop(*catalog, bell.get(), fmt::format("bench-{}/{}", getpid(), w), options, total,
                   shared);
      });
    }
    drive();
    for (auto& thread : threads) thread.join();
    return;
  }
  // Each child opens its own connection after the fork; no connection crosses it.
  std::vector<pid_t> children;
  for (int w = 0; w < options.workers; ++w) {
    pid_t pid = fork();
    if (pid < 0) {
      std::perror("fork");
      std::exit(1);
    }
    if (pid == 0) {
      {
        auto catalog = OpenOrDie(path, clock);
        auto bell = options.wake ? std::make_unique<Bell>(*catalog) : nullptr;
        WorkerLoop(*catalog, bell.get(), fmt::format("bench-{}/0", getpid()), options, total,
                   shared);
      }
      std::fflush(stderr);
      _exit(0);
    }
    children.push_back(pid);
  }
  drive();
  for (pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) shared.errors.fetch_add(1);
  }
}

int64_t Percentile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

void Report(const char* phase, const Options& options, double seconds, const Shared& shared,
            bool latency) {
  fmt::print(
      "phase={} backend={} mode={} workers={} batch={} rate={} wake={} jobs={} seconds={:.3f}"
      " jobs_per_s={:.0f}",
      phase, options.catalog_url.empty() ? "sqlite" : "postgres",
      options.processes ? "processes" : "threads", options.workers, options.batch, options.rate,
      options.wake ? 1 : 0, options.jobs, seconds, static_cast<double>(options.jobs) / seconds);
  if (latency) {
    int64_t count = std::min(shared.recorded.load(), options.jobs);
    std::vector<int64_t> sorted(shared.latency_us, shared.latency_us + count);
    std::sort(sorted.begin(), sorted.end());
    fmt::print(" p50_us={} p99_us={} max_us={}", Percentile(sorted, 0.50), Percentile(sorted, 0.99),
               sorted.empty() ? 0 : sorted.back());
  }
  fmt::print(" errors={}\n", shared.errors.load());
  std::fflush(stdout);
}

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

void Drain(const std::string& path, const Options& options) {
  SystemClock clock;
  SharedRegion shared(options.jobs);
  {
    auto catalog = OpenOrDie(path, clock);
    auto start = SteadyClock::now();
    for (int64_t i = 0; i < options.jobs; ++i) Enqueue(*catalog, i, *shared);
    double seconds = SecondsSince(start);
    fmt::print("phase=enqueue jobs={} seconds={:.3f} jobs_per_s={:.0f} errors={}\n", options.jobs,
               seconds, static_cast<double>(options.jobs) / seconds, shared->errors.load());
  }
  auto start = SteadyClock::now();
  RunWorkers(path, options, options.jobs, *shared, [&] {
    start = SteadyClock::now();
    shared->go.store(1);
  });
  Report("drain", options, SecondsSince(start), *shared, false);
}

void Steady(const std::string& path, const Options& options) {
  SystemClock clock;
  SharedRegion shared(options.jobs);
  auto start = SteadyClock::now();
  RunWorkers(path, options, options.jobs, *shared, [&] {
    auto catalog = OpenOrDie(path, clock);
    start = SteadyClock::now();
    shared->go.store(1);
    for (int64_t i = 0; i < options.jobs; ++i) {
      if (options.rate > 0) {
        std::this_thread::sleep_until(
            start + std::chrono::duration_cast<SteadyClock::duration>(
                        std::chrono::duration<double>(static_cast<double>(i) / options.rate)));
      }
      Enqueue(*catalog, i, *shared);
    }
  });
  Report("steady", options, SecondsSince(start), *shared, true);
}

int Run(const Options& options) {
  std::filesystem::path dir = options.dir;
  bool temporary = dir.empty() && options.catalog_url.empty();
  if (temporary) {
    std::string pattern = (std::filesystem::temp_directory_path() / "reprise-queue-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      return 1;
    }
    dir = pattern;
  }
  const std::string path =
      options.catalog_url.empty() ? std::string(dir / "catalog.db") : options.catalog_url;
  if (!options.catalog_url.empty() && !IsPostgres(options.catalog_url)) {
    fmt::print(stderr, "--catalog takes a postgres:// URL (SQLite: --dir)\n");
    return 2;
  }
  {
    SystemClock clock;
    auto catalog = OpenOrDie(path, clock);
    InsertAssets(*catalog, options.jobs);
  }
  // Each phase enqueues one job per asset; the previous phase's jobs have finished, so
  // the assets can be enqueued again (finished rows stay in the table, as in real use).
  if (options.phases.find("drain") != std::string::npos) Drain(path, options);
  if (options.phases.find("steady") != std::string::npos) Steady(path, options);
  if (temporary) std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace reprise::bench

int main(int argc, char** argv) {
  reprise::bench::Options options;
  CLI::App app{
      "No-op jobs through enqueue -> claim -> finish on the SQLite or PostgreSQL catalog."};
  app.add_option("--jobs", options.jobs, "jobs per phase")->check(CLI::PositiveNumber);
  app.add_option("--workers", options.workers, "worker threads or processes")
      ->check(CLI::PositiveNumber);
  app.add_flag("--processes", options.processes, "fork worker processes instead of threads");
  app.add_option("--batch", options.batch, "ClaimRequest::max_jobs")->check(CLI::Range(1, 1000));
  app.add_flag("--separate-finish", options.separate_finish,
               "finish and claim in two transactions (the worker chains them)");
  app.add_option("--rate", options.rate, "steady phase: jobs enqueued per second, 0 = unpaced")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--idle-us", options.idle_us, "an idle worker claims again after this long")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--wake", options.wake,
               "idle workers wait for the catalog's change notification (--idle-us: fallback)");
  app.add_option("--catalog", options.catalog_url,
                 "postgres://... (an empty database) instead of SQLite in --dir");
  app.add_option("--phases", options.phases, "drain,steady");
  app.add_option("--dir", options.dir, "directory for catalog.db (default: a temporary one)");
  CLI11_PARSE(app, argc, argv);
  return reprise::bench::Run(options);
}
