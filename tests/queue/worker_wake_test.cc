// Idle worker slots wake when the catalog tells of queued jobs (catalog.h, "Change
// notifications"), not at their next poll: every worker here polls once in 10 minutes,
// and each test waits (with a deadline of seconds) for a job queued while the worker is
// idle to succeed. On every backend for the worker's own catalog; on PostgreSQL also for
// a job queued through another connection (what another process does), heard through
// LISTEN/NOTIFY.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "catalog/catalog_wrapper.h"
#include "queue/worker.h"
#include "tests/support/backends/postgres_test_env.h"
#include "tests/support/library.h"
#include "tests/support/media_suite.h"
#include "tests/support/stage_registry.h"
#include "tests/support/wait_until.h"

namespace reprise::queue {
namespace {

using catalog::JobState;
using testing::WaitUntil;

constexpr int64_t kTenMinutes = 600'000'000;

// Counts the claims that began after the last StartOver() and have returned (an idle
// slot's claim finds nothing, then the slot waits for a wake or its poll).
class ClaimCounter final : public catalog::CatalogWrapper {
 public:
  using CatalogWrapper::CatalogWrapper;
  Result<std::vector<catalog::Job>> ClaimJobs(const catalog::ClaimRequest& request) override {
    const int64_t epoch = Epoch();
    auto claimed = CatalogWrapper::ClaimJobs(request);
    std::lock_guard lock(mu_);
    if (epoch == epoch_) ++claims_;
    return claimed;
  }
  void StartOver() {
    std::lock_guard lock(mu_);
    ++epoch_;
    claims_ = 0;
  }
  int claims() {
    std::lock_guard lock(mu_);
    return claims_;
  }

 private:
  int64_t Epoch() {
    std::lock_guard lock(mu_);
    return epoch_;
  }

  std::mutex mu_;
  int64_t epoch_ = 0;  // guarded by mu_
  int claims_ = 0;     // guarded by mu_
};

class WakeFixture : public testing::MediaSuite {
 protected:
  void Open(const catalog::CatalogBackend& backend) {
    ASSERT_TRUE(library_.Open(clock_, backend));
    ASSERT_TRUE(testing::SealBuiltinStages(registry_));
    counter_ = std::make_unique<ClaimCounter>(library_.catalog());
  }

  std::unique_ptr<Worker> MakeWorker() {
    WorkerOptions options;
    options.worker_id = "w";
    options.poll_micros = kTenMinutes;
    options.lease_micros = 60'000'000;
    return std::make_unique<Worker>(
        *counter_,
        [this] {
          return std::make_unique<Executor>(*counter_, library_.blobs(), registry_, clock_,
                                            MakeNullLogger());
        },
        registry_, clock_, random_, MakeNullLogger(), std::move(options));
  }

  int64_t Enqueue(catalog::Catalog& through, const std::string& asset_id) {
    catalog::NewJob job;
    job.asset_id = asset_id;
    job.stages = {"probe"};
    auto enqueued = through.Enqueue(job);
    EXPECT_TRUE(enqueued) << enqueued.error().ToString();
    return enqueued ? enqueued->job_id : 0;
  }

  bool Succeeds(int64_t job_id) {
    return WaitUntil(
        [&] {
          auto job = library_.catalog().GetJob(job_id, {});
          return job && job->state == JobState::kSucceeded;
        },
        std::chrono::seconds(30));
  }

  FakeClock clock_;
  SeededRandom random_{7};
  testing::LocalLibrary library_;
  stages::Registry registry_;
  std::unique_ptr<ClaimCounter> counter_;
};

class WorkerWakeTest : public WakeFixture,
                       public ::testing::WithParamInterface<catalog::CatalogBackend> {
 protected:
  void SetUp() override { Open(GetParam()); }
};

INSTANTIATE_TEST_SUITE_P(Backends, WorkerWakeTest, ::testing::ValuesIn(catalog::CatalogBackends()),
                         catalog::BackendName);

TEST_P(WorkerWakeTest, AnIdleWorkerRunsAJobQueuedThroughItsCatalogLongBeforeItsNextPoll) {
  auto asset = library_.Ingest(samples_->H264AacMp4());
  auto worker = MakeWorker();
  ASSERT_TRUE(worker->Start());
  ASSERT_TRUE(WaitUntil([&] { return counter_->claims() >= 1; }));
  const int64_t id = Enqueue(library_.catalog(), asset.id);
  EXPECT_TRUE(Succeeds(id)) << "the idle worker was not woken";
  worker->Shutdown();
}

// On PostgreSQL only: the job comes through a second catalog object with connections of
// its own, which tells the worker's catalog nothing but by NOTIFY.
class PostgresWorkerWake : public WakeFixture {
 protected:
  void SetUp() override {
    Open({"postgres", [] { return std::make_unique<catalog::PgTestEnv>(); }});
  }
};

TEST_F(PostgresWorkerWake, AnIdleWorkerRunsAJobQueuedThroughAnotherConnectionLongBeforeItsPoll) {
  auto other = library_.catalog_env()->Connect(clock_);
  ASSERT_TRUE(other) << other.error().ToString();
  auto asset = library_.Ingest(samples_->H264AacMp4());
  // Once the catalog listens it tells every topic, which wakes the worker's slot: a claim
  // begins after that (counted from here: this listener runs before the worker's, which
  // was added later), and once it returned empty the slot idles until a notification.
  std::atomic<bool> listening{false};
  const int64_t listener = library_.catalog().AddChangeListener([&](const catalog::Change& change) {
    if (change.topics != catalog::kAllChangeTopics) return;
    counter_->StartOver();
    listening = true;
  });
  auto worker = MakeWorker();
  ASSERT_TRUE(worker->Start());
  ASSERT_TRUE(WaitUntil([&] { return listening.load(); }));
  ASSERT_TRUE(WaitUntil([&] { return counter_->claims() >= 1; }));

  const int64_t id = Enqueue(**other, asset.id);
  EXPECT_TRUE(Succeeds(id)) << "the idle worker did not hear the other connection's job";
  worker->Shutdown();
  library_.catalog().RemoveChangeListener(listener);
}

}  // namespace
}  // namespace reprise::queue
