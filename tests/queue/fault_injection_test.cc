// Faults injected in front of real backends with the forwarding wrappers
// (catalog/catalog_wrapper.h, blob/blob_store_wrapper.h), as leveldb's fault-injection
// tests do with EnvWrapper: a derivative's completion lost with the connection, a slow
// commit of a job's end, and a blob write failing once, under a real worker or ingest.
// What the callers saw is checked in their reports; what was stored, through the real
// backend, never through the wrapper. Runs on every backend of CatalogBackends().
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "blob/blob_store_wrapper.h"
#include "blob/keys.h"
#include "catalog/catalog_wrapper.h"
#include "queue/worker.h"
#include "tests/support/library.h"
#include "tests/support/media_suite.h"
#include "tests/support/stage_registry.h"
#include "tests/support/wait_until.h"

namespace reprise::queue {
namespace {

using catalog::JobState;
using testing::WaitUntil;
constexpr int64_t kSecond = 1'000'000;

// Fails the next `count` CompleteDerivative calls without forwarding them, as a
// connection lost before COMMIT: the backend rolls the transaction back.
class LosingCompletions final : public catalog::CatalogWrapper {
 public:
  using CatalogWrapper::CatalogWrapper;
  void Arm(int count) { left_ = count; }
  int lost() const { return lost_; }

  Result<catalog::Derivative> CompleteDerivative(
      int64_t derivative_id, const catalog::DerivativeOutcome& outcome) override {
    if (left_.fetch_sub(1) > 0) {
      ++lost_;
      return Fail(ErrorCode::kUnavailable,
                  "server closed the connection unexpectedly (completing derivative " +
                      std::to_string(derivative_id) + ")");
    }
    return CatalogWrapper::CompleteDerivative(derivative_id, outcome);
  }

 private:
  std::atomic<int> left_{0};
  std::atomic<int> lost_{0};
};

// Holds every end of a job (FinishJob, FinishJobAndClaim) before it reaches the backend
// until Release(): a commit that takes as long as the test wants.
class SlowFinish final : public catalog::CatalogWrapper {
 public:
  using CatalogWrapper::CatalogWrapper;

  Result<void> FinishJob(int64_t job_id, std::string_view worker_id,
                         const catalog::JobOutcome& outcome) override {
    Hold();
    return CatalogWrapper::FinishJob(job_id, worker_id, outcome);
  }
  Result<std::vector<catalog::Job>> FinishJobAndClaim(int64_t job_id, std::string_view worker_id,
                                                      const catalog::JobOutcome& outcome,
                                                      const catalog::ClaimRequest& next) override {
    Hold();
    return CatalogWrapper::FinishJobAndClaim(job_id, worker_id, outcome, next);
  }

  bool WaitHeld() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(60), [&] { return held_ > 0; });
  }
  void Release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }

 private:
  void Hold() {
    std::unique_lock lock(mutex_);
    ++held_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return released_; });
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  int held_ = 0;
  bool released_ = false;
};

// Fails the next `count` ends of a job (FinishJob, FinishJobAndClaim) without forwarding
// them, as the database going away after the job's results were stored but before its
// end was: the job stays running under its lease until the lease runs out.
class LosingJobEnds final : public catalog::CatalogWrapper {
 public:
  using CatalogWrapper::CatalogWrapper;
  void Arm(int count) { left_ = count; }
  int lost() const { return lost_; }

  Result<void> FinishJob(int64_t job_id, std::string_view worker_id,
                         const catalog::JobOutcome& outcome) override {
    if (Lose()) return tl::unexpected(Lost(job_id));
    return CatalogWrapper::FinishJob(job_id, worker_id, outcome);
  }
  Result<std::vector<catalog::Job>> FinishJobAndClaim(int64_t job_id, std::string_view worker_id,
                                                      const catalog::JobOutcome& outcome,
                                                      const catalog::ClaimRequest& next) override {
    if (Lose()) return tl::unexpected(Lost(job_id));
    return CatalogWrapper::FinishJobAndClaim(job_id, worker_id, outcome, next);
  }

 private:
  bool Lose() {
    if (left_.fetch_sub(1) <= 0) return false;
    ++lost_;
    return true;
  }
  static Error Lost(int64_t job_id) {
    return Error{ErrorCode::kUnavailable,
                 "cannot connect to the database (finishing job " + std::to_string(job_id) + ")",
                 ""};
  }

  std::atomic<int> left_{0};
  std::atomic<int> lost_{0};
};

// A writer whose Commit fails (the bytes are dropped) when its store says so.
class FailingCommitWriter final : public blob::BlobWriter {
 public:
  FailingCommitWriter(std::unique_ptr<blob::BlobWriter> inner, bool fail)
      : inner_(std::move(inner)), fail_(fail) {}
  Result<void> Write(std::span<const std::byte> data) override { return inner_->Write(data); }
  int64_t BytesWritten() const override { return inner_->BytesWritten(); }
  Result<blob::BlobInfo> Commit(std::string_view key) override {
    if (fail_) {
      return Fail(ErrorCode::kIo, "connection reset by peer while storing " + std::string(key));
    }
    return inner_->Commit(key);
  }

 private:
  std::unique_ptr<blob::BlobWriter> inner_;
  bool fail_;
};

// Makes the next `count` writers fail at Commit.
class FailingWrites final : public blob::BlobStoreWrapper {
 public:
  using BlobStoreWrapper::BlobStoreWrapper;
  void Arm(int count) { left_ = count; }

  Result<std::unique_ptr<blob::BlobWriter>> NewWriter() override {
    auto writer = BlobStoreWrapper::NewWriter();
    if (!writer) return writer;
    return std::unique_ptr<blob::BlobWriter>(
        std::make_unique<FailingCommitWriter>(std::move(*writer), left_.fetch_sub(1) > 0));
  }

 private:
  std::atomic<int> left_{0};
};

class FaultInjectionTest : public testing::MediaSuite,
                           public ::testing::WithParamInterface<catalog::CatalogBackend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(library_.Open(clock_, GetParam()));
    ASSERT_TRUE(testing::SealBuiltinStages(registry_));
  }

  // A worker over `catalog` and `blobs` (wrappers of the library's), reporting each job.
  std::unique_ptr<Worker> MakeWorker(catalog::Catalog& catalog, blob::BlobStore& blobs) {
    WorkerOptions options;
    options.worker_id = "w";
    options.lease_micros = 10 * kSecond;
    options.poll_micros = 2'000;
    options.backoff_base_micros = 1 * kSecond;
    options.backoff_max_micros = 2 * kSecond;
    options.quarantine_threshold = 100;
    auto worker = std::make_unique<Worker>(
        catalog,
        [this, &catalog, &blobs] {
          return std::make_unique<Executor>(catalog, blobs, registry_, clock_, MakeNullLogger());
        },
        registry_, clock_, random_, MakeNullLogger(), options);
    worker->SetObserver([this](const JobReport& report) {
      std::lock_guard lock(mutex_);
      reports_.push_back(report);
    });
    return worker;
  }

  int64_t Enqueue(const std::string& asset_id, std::vector<std::string> stages) {
    catalog::NewJob job;
    job.asset_id = asset_id;
    job.stages = std::move(stages);
    auto enqueued = library_.catalog().Enqueue(job);
    EXPECT_TRUE(enqueued) << enqueued.error().ToString();
    return enqueued ? enqueued->job_id : 0;
  }

  // Waits for the job to reach `state` after `attempts` claims, moving the clock past
  // any backoff so a retry is due at once.
  bool WaitJob(int64_t id, JobState state, int attempts) {
    return WaitUntil([&] {
      auto job = library_.catalog().GetJob(id, {});
      if (job && job->state == JobState::kQueued && job->run_after > clock_.NowMicros()) {
        clock_.Advance(job->run_after - clock_.NowMicros());
      }
      return job && job->state == state && job->attempts == attempts;
    });
  }

  std::vector<catalog::Derivative> Rows(const std::string& asset_id, const std::string& stage) {
    std::vector<catalog::Derivative> rows;
    for (const auto& row : library_.catalog().ListDerivatives(asset_id).value_or(
             std::vector<catalog::Derivative>{})) {
      if (row.stage == stage) rows.push_back(row);
    }
    return rows;
  }

  int CountBlobs(const std::string& prefix) { return library_.CountBlobs(prefix); }

  std::vector<JobReport> Reports() {
    std::lock_guard lock(mutex_);
    return reports_;
  }

  FakeClock clock_;
  SeededRandom random_{7};
  testing::LocalLibrary library_;
  stages::Registry registry_;
  std::mutex mutex_;
  std::vector<JobReport> reports_;
};

INSTANTIATE_TEST_SUITE_P(Backends, FaultInjectionTest,
                         ::testing::ValuesIn(catalog::CatalogBackends()), catalog::BackendName);

TEST_P(FaultInjectionTest, ACompletionLostWithTheConnectionIsRetriedAndNeverHalfServed) {
  auto asset = library_.Ingest(samples_->H264AacMp4());
  LosingCompletions catalog(library_.catalog());
  catalog.Arm(1);
  int64_t id = Enqueue(asset.id, {"thumbnail"});
  auto worker = MakeWorker(catalog, library_.blobs());
  ASSERT_TRUE(worker->Start());
  ASSERT_TRUE(WaitJob(id, JobState::kSucceeded, 2));
  worker->Shutdown();
  EXPECT_EQ(catalog.lost(), 1);

  // The worker saw the error and queued the job again; nothing was marked done for it.
  auto reports = Reports();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].outcome, JobState::kQueued);
  ASSERT_TRUE(reports[0].error);
  EXPECT_EQ(reports[0].error->code, ErrorCode::kUnavailable);
  EXPECT_NE(reports[0].error->message.find("server closed the connection"), std::string::npos)
      << reports[0].error->ToString();
  EXPECT_EQ(reports[1].outcome, JobState::kSucceeded);

  // Through the real backend: the lost attempt never became current, and the retry
  // closed it and removed its files; one result is served, complete.
  auto rows = Rows(asset.id, "thumbnail");
  ASSERT_EQ(rows.size(), 2u);
  const catalog::Derivative& retried = rows[0];  // newest first
  const catalog::Derivative& lost = rows[1];
  EXPECT_EQ(lost.state, catalog::DerivativeState::kFailed);
  EXPECT_FALSE(lost.current);
  EXPECT_EQ(CountBlobs(blob::DerivativeKey(asset.id, "thumbnail", std::to_string(lost.id), "")), 0);
  EXPECT_EQ(retried.state, catalog::DerivativeState::kDone);
  EXPECT_TRUE(retried.current);
  ASSERT_FALSE(retried.blobs.empty());
  for (const auto& blob : retried.blobs) {
    EXPECT_EQ(library_.blobs().Size(blob.key).value_or(-1), blob.size) << blob.key;
  }
}

TEST_P(FaultInjectionTest, ASlowCommitHoldsNoReaderBackAndKeepsItsLease) {
  auto asset = library_.Ingest(samples_->Wav());
  SlowFinish catalog(library_.catalog());
  int64_t id = Enqueue(asset.id, {"probe"});
  auto worker = MakeWorker(catalog, library_.blobs());
  ASSERT_TRUE(worker->Start());
  ASSERT_TRUE(catalog.WaitHeld()) << "the worker never finished the job";

  // While the worker's commit hangs: readers are served, and the job, still running in
  // the store, is not claimed by anyone else.
  catalog::Catalog& store = library_.catalog();
  auto job = store.GetJob(id, {});
  ASSERT_TRUE(job) << job.error().ToString();
  EXPECT_EQ(job->state, JobState::kRunning);
  EXPECT_EQ(job->lease_owner.rfind("w/", 0), 0u) << job->lease_owner;
  EXPECT_EQ(store.CountAssets({}).value_or(-1), 1);
  EXPECT_EQ(store.GetCurrentDerivative(asset.id, "probe").value_or(catalog::Derivative{}).state,
            catalog::DerivativeState::kDone)
      << "the stage's result was committed before the job's end";
  catalog::ClaimRequest other;
  other.worker_id = "other";
  auto claimed = store.ClaimJobs(other);
  ASSERT_TRUE(claimed) << claimed.error().ToString();
  EXPECT_TRUE(claimed->empty());
  EXPECT_EQ(worker->running_jobs(), 1) << "the worker waits for its commit";

  catalog.Release();
  ASSERT_TRUE(WaitJob(id, JobState::kSucceeded, 1));
  worker->Shutdown();
  ASSERT_EQ(Reports().size(), 1u);
  EXPECT_EQ(Reports()[0].outcome, JobState::kSucceeded);
}

TEST_P(FaultInjectionTest, ADerivativeWriteFailingOnceIsRetriedAndLosesNothing) {
  auto asset = library_.Ingest(samples_->H264AacMp4());
  FailingWrites blobs(library_.blobs());
  blobs.Arm(1);
  int64_t id = Enqueue(asset.id, {"thumbnail"});
  auto worker = MakeWorker(library_.catalog(), blobs);
  ASSERT_TRUE(worker->Start());
  ASSERT_TRUE(WaitJob(id, JobState::kSucceeded, 2));
  worker->Shutdown();

  auto reports = Reports();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].outcome, JobState::kQueued) << "an I/O error is retried";
  ASSERT_TRUE(reports[0].error);
  EXPECT_EQ(reports[0].error->code, ErrorCode::kIo);
  EXPECT_NE(reports[0].error->message.find("connection reset by peer"), std::string::npos)
      << reports[0].error->ToString();

  auto rows = Rows(asset.id, "thumbnail");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].state, catalog::DerivativeState::kFailed);
  EXPECT_EQ(rows[1].error_code, "io");
  EXPECT_EQ(CountBlobs(blob::DerivativeKey(asset.id, "thumbnail", std::to_string(rows[1].id), "")),
            0);
  EXPECT_TRUE(rows[0].current);
  ASSERT_FALSE(rows[0].blobs.empty());
  for (const auto& blob : rows[0].blobs) {
    EXPECT_EQ(library_.blobs().Size(blob.key).value_or(-1), blob.size) << blob.key;
  }
}

TEST_P(FaultInjectionTest, AnOriginalWriteFailingOnceIsReportedAndLeavesNoAsset) {
  FailingWrites blobs(library_.blobs());
  blobs.Arm(1);
  ingest::Ingestor ingestor(library_.catalog(), blobs, clock_, MakeNullLogger());
  ingest::Options options;
  options.owner = "o";
  options.job.stages = {"probe"};
  auto failed = ingestor.IngestFile(samples_->Wav(), options);
  EXPECT_EQ(failed.outcome, ingest::Outcome::kError);
  ASSERT_TRUE(failed.error);
  EXPECT_EQ(failed.error->code, ErrorCode::kIo);
  EXPECT_NE(failed.error->message.find("connection reset by peer while storing originals/"),
            std::string::npos)
      << failed.error->ToString();
  EXPECT_EQ(library_.catalog().CountAssets({}).value_or(-1), 0) << "no asset without its file";
  EXPECT_TRUE(library_.catalog().ListJobs({}, {}).value_or(catalog::JobPage{}).items.empty());
  EXPECT_EQ(CountBlobs(""), 0);

  auto added = ingestor.IngestFile(samples_->Wav(), options);
  ASSERT_EQ(added.outcome, ingest::Outcome::kAdded) << (added.error ? added.error->ToString() : "");
  EXPECT_EQ(library_.blobs().Size(added.asset->original_key).value_or(-1), added.asset->size_bytes);
  EXPECT_EQ(library_.catalog().ListJobs({}, {}).value_or(catalog::JobPage{}).items.size(), 1u);
}

}  // namespace
}  // namespace reprise::queue

namespace reprise::queue {
namespace {

// A forced rebuild (a backfill in mode "all") whose results were stored but whose end
// was lost with the database: the job runs again after its lease and must not rebuild
// what its first attempt built, or the user sees the stage built twice in its history.
TEST_P(FaultInjectionTest, AForcedRebuildWhoseEndWasLostIsNotBuiltAgainByItsRetry) {
  auto asset = library_.Ingest(samples_->H264AacMp4());
  int64_t first = Enqueue(asset.id, {"thumbnail"});
  LosingJobEnds catalog(library_.catalog());
  auto worker = MakeWorker(catalog, library_.blobs());
  ASSERT_TRUE(worker->Start());
  ASSERT_TRUE(WaitJob(first, JobState::kSucceeded, 1));
  ASSERT_EQ(Rows(asset.id, "thumbnail").size(), 1u);

  catalog.Arm(1);
  catalog::NewJob rebuild;
  rebuild.asset_id = asset.id;
  rebuild.stages = {"thumbnail"};
  rebuild.force = true;
  auto enqueued = library_.catalog().Enqueue(rebuild);
  ASSERT_TRUE(enqueued) << enqueued.error().ToString();
  const int64_t id = enqueued->job_id;
  ASSERT_TRUE(WaitUntil([&] { return catalog.lost() == 1; }));
  // Nobody can end the job now but the reaper, once its lease has run out.
  clock_.Advance(11 * kSecond);
  ASSERT_TRUE(WaitJob(id, JobState::kSucceeded, 2));
  worker->Shutdown();

  auto rows = Rows(asset.id, "thumbnail");
  ASSERT_EQ(rows.size(), 2u) << "the first build and one rebuild, not a second rebuild";
  EXPECT_EQ(rows[0].state, catalog::DerivativeState::kDone);
  EXPECT_TRUE(rows[0].current);
  EXPECT_EQ(rows[1].state, catalog::DerivativeState::kDone);
  EXPECT_FALSE(rows[1].current);
}

}  // namespace
}  // namespace reprise::queue
