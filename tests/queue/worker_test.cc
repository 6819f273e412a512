// Workers against the real parts (SQLite file, blob directory, FFmpeg-generated media)
// with an injected clock and randomness: leases, heartbeats, retries with backoff,
// quarantine, cancellation, graceful shutdown and the live-work reservation. A scripted
// stage (scripted_stage.h) holds a job at a known point, so nothing here waits on time
// passing: tests move the FakeClock and wait, with deadlines, for states to be reached.
#include "queue/worker.h"

#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "queue/enqueue.h"
#include "tests/queue/scripted_stage.h"
#include "tests/support/library.h"
#include "tests/support/media_suite.h"
#include "tests/support/stage_registry.h"
#include "tests/support/wait_until.h"

namespace reprise::queue {
namespace {

using catalog::JobState;
constexpr int64_t kSecond = 1'000'000;

// Always the same draw, so backoffs are predictable: 0.999 of each ceiling.
class FixedRandom final : public Random {
 public:
  double Uniform() override { return 0.999; }
};

using testing::WaitUntil;

// On every catalog backend (CatalogBackends()).
class WorkerTest : public testing::MediaSuite,
                   public ::testing::WithParamInterface<catalog::CatalogBackend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(library_.Open(clock_, GetParam()));
    ASSERT_TRUE(testing::SealBuiltinStages(registry_, nlohmann::json::object(),
                                           std::make_unique<ScriptedStage>("gate", 1, script_)));
  }

  void TearDown() override {
    script_.Open();  // let any stage still held go, so workers can be joined
  }

  WorkerOptions Options(const std::string& id, int concurrency = 1) {
    WorkerOptions options;
    options.worker_id = id;
    options.concurrency = concurrency;
    options.lease_micros = 10 * kSecond;
    options.heartbeat_micros = 1 * kSecond;
    options.poll_micros = 2'000;
    options.reap_micros = 1 * kSecond;
    options.max_attempts = 5;
    options.backoff_base_micros = 1 * kSecond;
    options.backoff_max_micros = 8 * kSecond;
    options.quarantine_threshold = 100;
    options.grace_micros = 10 * kSecond;
    return options;
  }

  std::unique_ptr<Worker> MakeWorker(WorkerOptions options, Random& random,
                                     const stages::Registry* registry = nullptr) {
    const stages::Registry& stages = registry != nullptr ? *registry : registry_;
    auto worker = std::make_unique<Worker>(
        library_.catalog(),
        [this, &stages] {
          return std::make_unique<Executor>(library_.catalog(), library_.blobs(), stages, clock_,
                                            MakeNullLogger());
        },
        stages, clock_, random, MakeNullLogger(), std::move(options));
    worker->SetObserver([this](const JobReport& report) {
      std::lock_guard lock(reports_mutex_);
      reports_.push_back(report);
    });
    return worker;
  }

  int64_t Enqueue(const std::string& asset_id, std::vector<std::string> stages,
                  int priority = catalog::kLivePriority, int max_attempts = 5) {
    catalog::NewJob job;
    job.asset_id = asset_id;
    job.stages = std::move(stages);
    job.priority = priority;
    job.max_attempts = max_attempts;
    auto enqueued = library_.catalog().Enqueue(job);
    EXPECT_TRUE(enqueued) << enqueued.error().ToString();
    return enqueued ? enqueued->job_id : 0;
  }

  catalog::Job GetJob(int64_t id) {
    auto job = library_.catalog().GetJob(id, {});
    EXPECT_TRUE(job) << job.error().ToString();
    return job.value_or(catalog::Job{});
  }

  bool WaitJob(int64_t id, JobState state, int attempts = -1) {
    bool reached = WaitUntil([&] {
      auto job = library_.catalog().GetJob(id, {});
      return job && job->state == state && (attempts < 0 || job->attempts == attempts);
    });
    if (!reached) {
      auto job = GetJob(id);
      ADD_FAILURE() << "job " << id << " is " << catalog::Name(job.state) << " after "
                    << job.attempts << " attempt(s), not " << catalog::Name(state);
    }
    return reached;
  }

  std::vector<catalog::Derivative> Rows(const std::string& asset_id, const std::string& stage) {
    std::vector<catalog::Derivative> rows;
    auto all = library_.catalog().ListDerivatives(asset_id);
    EXPECT_TRUE(all);
    for (const auto& row : all.value_or(std::vector<catalog::Derivative>{})) {
      if (row.stage == stage) rows.push_back(row);
    }
    return rows;
  }

  catalog::StageStatus Status(const std::string& asset_id, const std::string& stage,
                              const stages::Registry& registry) {
    auto statuses =
        library_.catalog().GetStageStatuses(asset_id, {{stage, registry.Recipe(stage)}});
    EXPECT_TRUE(statuses);
    return statuses ? (*statuses)[0] : catalog::StageStatus::kMissing;
  }

  std::vector<JobReport> Reports() {
    std::lock_guard lock(reports_mutex_);
    return reports_;
  }

  // A gate job on LongMp4, claimed by a worker named `worker_id` and held at the gate
  // (running, making no progress) until script_.Open().
  struct HeldJob {
    catalog::Asset asset;
    int64_t id = 0;
    std::unique_ptr<Worker> worker;
  };
  void HoldAGateJob(HeldJob& held, const std::string& worker_id = "w") {
    held.asset = library_.Ingest(samples_->LongMp4());
    script_.BlockRuns({1});
    held.id = Enqueue(held.asset.id, {"gate"});
    held.worker = MakeWorker(Options(worker_id), random_);
    ASSERT_TRUE(held.worker->Start());
    ASSERT_TRUE(script_.WaitBlocked(1));
  }

  FakeClock clock_;
  SeededRandom random_{42};
  StageScript script_;
  testing::LocalLibrary library_;
  stages::Registry registry_;
  std::mutex reports_mutex_;
  std::vector<JobReport> reports_;
};

INSTANTIATE_TEST_SUITE_P(Backends, WorkerTest, ::testing::ValuesIn(catalog::CatalogBackends()),
                         catalog::BackendName);

TEST_P(WorkerTest, RunsTheDueStagesOfAJobAndSucceeds) {
  auto asset = library_.Ingest(samples_->H264AacMp4());
  int64_t id = Enqueue(asset.id, {"probe", "thumbnail"});
  auto worker = MakeWorker(Options("w"), random_);
  ASSERT_TRUE(worker->Start());
  ASSERT_TRUE(WaitJob(id, JobState::kSucceeded, 1));

  auto job = GetJob(id);
  EXPECT_TRUE(job.lease_owner.empty() || job.lease_owner.rfind("w/", 0) == 0) << job.lease_owner;
  EXPECT_GT(job.finished_at, 0);
  for (const char* stage : {"probe", "thumbnail"}) {
    auto rows = Rows(asset.id, stage);
    ASSERT_EQ(rows.size(), 1u) << stage;
    EXPECT_EQ(rows[0].state, catalog::DerivativeState::kDone);
    EXPECT_TRUE(rows[0].current);
  }
  worker->Shutdown();
  auto reports = Reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].outcome, JobState::kSucceeded);
  EXPECT_EQ(reports[0].ran, (std::vector<std::string>{"probe", "thumbnail"}));
}

TEST_P(WorkerTest, AThumbnailOnlyJobStopsReadingEarlyAndOnePassFeedsEveryStage) {
  auto asset = library_.Ingest(samples_->LongMp4());
  int64_t thumb_job = Enqueue(asset.id, {"thumbnail"});
  auto worker = MakeWorker(Options("w"), random_);
  ASSERT_TRUE(worker->Start());
  ASSERT_TRUE(WaitJob(thumb_job, JobState::kSucceeded));
  // A second job on the same file: probe (container only) and gate (every packet) share
  // one pass over it.
  int64_t full_job = Enqueue(asset.id, {"probe", "gate"});
  ASSERT_TRUE(WaitJob(full_job, JobState::kSucceeded));
  worker->Shutdown();

  auto reports = Reports();
  ASSERT_EQ(reports.size(), 2u);
  ASSERT_TRUE(reports[0].report);
  const auto& early = reports[0].report->stats;
  EXPECT_FALSE(early.input_ended) << "a thumbnail must not read the whole 10 s file";
  EXPECT_LT(early.packets_read, 40) << "about one frame's worth of packets";
  EXPECT_LE(early.video_frames_decoded, 2);

  ASSERT_TRUE(reports[1].report);
  const auto& full = reports[1].report->stats;
  EXPECT_TRUE(full.input_ended);
  auto gate = library_.catalog().GetCurrentDerivative(asset.id, "gate");
  ASSERT_TRUE(gate);
  EXPECT_EQ(gate->metadata["packets"].get<int64_t>(), full.packets_read)
      << "the file was read once, and the stage saw every packet of that one pass";
  EXPECT_EQ(full.video_frames_decoded, 0) << "nobody asked for decoded video";
}

TEST_P(WorkerTest, AStageThatIsAlreadyCurrentIsFinishedWithoutRunning) {
  auto asset = library_.Ingest(samples_->Wav());
  Executor executor(library_.catalog(), library_.blobs(), registry_, clock_, MakeNullLogger());
  ASSERT_TRUE(executor.RunAsset(asset, *registry_.Select({"probe"})));
  int64_t id = Enqueue(asset.id, {"probe"});
  auto worker = MakeWorker(Options("w"), random_);
  ASSERT_TRUE(worker->Start());
  ASSERT_TRUE(WaitJob(id, JobState::kSucceeded));
  worker->Shutdown();
  EXPECT_EQ(Rows(asset.id, "probe").size(), 1u) << "probe was current: not built again";
  ASSERT_EQ(Reports().size(), 1u);
  EXPECT_TRUE(Reports()[0].ran.empty());
}

TEST_P(WorkerTest, AForcedStageIsRebuiltEvenThoughItIsCurrent) {
  auto asset = library_.Ingest(samples_->Wav());
  Executor executor(library_.catalog(), library_.blobs(), registry_, clock_, MakeNullLogger());
  ASSERT_TRUE(executor.RunAsset(asset, *registry_.Select({"probe"})));
  catalog::NewJob rebuild;
  rebuild.asset_id = asset.id;
  rebuild.stages = {"probe"};
  rebuild.force = true;
  auto enqueued = library_.catalog().Enqueue(rebuild);
  ASSERT_TRUE(enqueued) << enqueued.error().ToString();
  auto worker = MakeWorker(Options("w"), random_);
  ASSERT_TRUE(worker->Start());
  ASSERT_TRUE(WaitJob(enqueued->job_id, JobState::kSucceeded));
  worker->Shutdown();
  auto rows = Rows(asset.id, "probe");
  ASSERT_EQ(rows.size(), 2u) << "built again although current";
  EXPECT_TRUE(rows[0].current) << "the newest attempt is the result served";
  EXPECT_FALSE(rows[1].current);
  ASSERT_EQ(Reports().size(), 1u);
  EXPECT_EQ(Reports()[0].ran, std::vector<std::string>{"probe"});
}

TEST_P(WorkerTest, TransientFailuresAreRetriedWithGrowingBackoffUntilMaxAttempts) {
  auto asset = library_.Ingest(samples_->Wav());
  script_.FailWith(ErrorCode::kIo);
  int64_t id = Enqueue(asset.id, {"gate"}, catalog::kLivePriority, 4);
  FixedRandom fixed;
  auto worker = MakeWorker(Options("w"), fixed);
  ASSERT_TRUE(worker->Start());

  int64_t previous_delay = 0;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    ASSERT_TRUE(WaitJob(id, JobState::kQueued, attempt));
    auto job = GetJob(id);
    int64_t delay = job.run_after - clock_.NowMicros();
    RetryPolicy policy{4, 1 * kSecond, 8 * kSecond};
    EXPECT_GT(delay, previous_delay) << "attempt " << attempt;
    EXPECT_LE(delay, BackoffCeiling(policy, attempt)) << "attempt " << attempt;
    EXPECT_GE(delay, BackoffCeiling(policy, attempt) * 99 / 100) << "0.999 of the ceiling";
    EXPECT_EQ(job.last_error_code, "io");
    previous_delay = delay;
    // Not due before its time: still queued with the same attempts.
    EXPECT_EQ(GetJob(id).state, JobState::kQueued);
    clock_.Advance(delay);
    worker->Wake();
  }
  ASSERT_TRUE(WaitJob(id, JobState::kFailed, 4));
  auto job = GetJob(id);
  EXPECT_EQ(job.last_error_code, "io");
  EXPECT_NE(job.last_error_message.find("gave up after 4"), std::string::npos)
      << job.last_error_message;
  EXPECT_EQ(script_.runs(), 4);
  auto rows = Rows(asset.id, "gate");
  ASSERT_EQ(rows.size(), 4u);
  for (const auto& row : rows) EXPECT_EQ(row.state, catalog::DerivativeState::kFailed);
  worker->Shutdown();
}

TEST_P(WorkerTest, APermanentErrorFailsTheJobAtOnce) {
  auto asset = library_.Ingest(samples_->Wav());
  script_.FailWith(ErrorCode::kUnsupportedMedia);
  int64_t id = Enqueue(asset.id, {"probe", "gate"});
  auto worker = MakeWorker(Options("w"), random_);
  ASSERT_TRUE(worker->Start());
  ASSERT_TRUE(WaitJob(id, JobState::kFailed, 1));
  worker->Shutdown();
  auto job = GetJob(id);
  EXPECT_EQ(job.last_error_code, "unsupported_media");
  EXPECT_NE(job.last_error_message.find("stage gate"), std::string::npos) << job.last_error_message;
  EXPECT_EQ(script_.runs(), 1);
  EXPECT_EQ(Rows(asset.id, "probe")[0].state, catalog::DerivativeState::kDone)
      << "the other stage of the job still completed";
}

TEST_P(WorkerTest, RepeatedFailuresQuarantineTheContentUntilTheRecipeChanges) {
  auto asset = library_.Ingest(samples_->Wav());
  script_.FailWith(ErrorCode::kIo);  // transient: only quarantine stops the retries
  auto options = Options("w");
  options.quarantine_threshold = 3;
  options.max_attempts = 10;
  FixedRandom fixed;
  int64_t id = Enqueue(asset.id, {"gate"}, catalog::kLivePriority, 10);
  auto worker = MakeWorker(options, fixed);
  ASSERT_TRUE(worker->Start());
  for (int attempt = 1; attempt <= 2; ++attempt) {
    ASSERT_TRUE(WaitJob(id, JobState::kQueued, attempt));
    clock_.Advance(GetJob(id).run_after - clock_.NowMicros());
    worker->Wake();
  }
  ASSERT_TRUE(WaitJob(id, JobState::kFailed, 3)) << "quarantined after 3, not retried to 10";
  worker->Shutdown();
  EXPECT_EQ(script_.runs(), 3);
  EXPECT_EQ(Status(asset.id, "gate", registry_), catalog::StageStatus::kQuarantined);
  auto entries = library_.catalog().ListQuarantine({});
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].stage, "gate");
  EXPECT_EQ((*entries)[0].sha256_hex, asset.sha256_hex);
  EXPECT_GE((*entries)[0].failures, 3);

  // Later runs leave it alone, for this asset and for the same content elsewhere.
  auto twin = library_.Ingest(samples_->Wav(), "someone-else");
  EXPECT_EQ(Status(twin.id, "gate", registry_), catalog::StageStatus::kQuarantined);
  EnqueueDueOptions due;
  due.stages = {"gate"};
  due.include_failed = true;
  auto counts = EnqueueDue(library_.catalog(), registry_, due);
  ASSERT_TRUE(counts) << counts.error().ToString();
  EXPECT_EQ(counts->stages_enqueued, 0);
  EXPECT_EQ(counts->quarantined["gate"], 2);

  // A new version of the stage is a new recipe: the content gets another chance.
  stages::Registry bumped;
  ASSERT_TRUE(testing::SealBuiltinStages(bumped, nlohmann::json::object(),
                                         std::make_unique<ScriptedStage>("gate", 2, script_)));
  EXPECT_NE(Status(asset.id, "gate", bumped), catalog::StageStatus::kQuarantined);
  auto again = EnqueueDue(library_.catalog(), bumped, due);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->stages_enqueued, 2);
  EXPECT_TRUE(again->quarantined.empty());
}

TEST_P(WorkerTest, AnExpiredLeaseIsReapedAndTheStalledWorkerDoesNotFinishTheJob) {
  HeldJob held;
  ASSERT_NO_FATAL_FAILURE(HoldAGateJob(held, "stalled"));
  EXPECT_EQ(GetJob(held.id).lease_owner, "stalled/0");

  // No heartbeat came (no decode progress): past the lease, another worker reaps it.
  clock_.Advance(11 * kSecond);
  auto rescuer = MakeWorker(Options("rescuer"), random_);
  ASSERT_TRUE(rescuer->Start());
  ASSERT_TRUE(WaitJob(held.id, JobState::kSucceeded, 2));
  EXPECT_EQ(script_.runs(), 2);

  // The stalled run wakes up, learns at its heartbeat that the lease is gone and stops
  // without finishing the job.
  script_.Open();
  ASSERT_TRUE(WaitUntil([&] {
    for (const auto& report : Reports()) {
      if (report.lease_owner == "stalled/0") return true;
    }
    return false;
  }));
  held.worker->Shutdown();
  rescuer->Shutdown();
  for (const auto& report : Reports()) {
    if (report.lease_owner != "stalled/0") continue;
    EXPECT_TRUE(report.lease_lost);
    EXPECT_FALSE(report.outcome.has_value());
  }
  auto job = GetJob(held.id);
  EXPECT_EQ(job.state, JobState::kSucceeded);
  EXPECT_EQ(job.attempts, 2);

  // One current result, written by the rescuer; the stalled attempt left no files.
  auto rows = Rows(held.asset.id, "gate");
  int current = 0;
  std::set<std::string> kept;
  for (const auto& row : rows) {
    if (row.current) {
      ++current;
      EXPECT_EQ(row.state, catalog::DerivativeState::kDone);
      EXPECT_EQ(row.metadata["run"], 2);
      for (const auto& blob : row.blobs) {
        kept.insert(blob.key);
        EXPECT_TRUE(library_.blobs().Exists(blob.key).value_or(false)) << blob.key;
      }
    }
  }
  EXPECT_EQ(current, 1);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].state, catalog::DerivativeState::kFailed) << "the stalled attempt";
  EXPECT_NE(rows[1].error_message.find("abandoned"), std::string::npos)
      << "closed by the rescuer: " << rows[1].error_message;
  std::set<std::string> listed;
  ASSERT_TRUE(
      library_.blobs().List("assets/" + held.asset.id + "/gate/", [&](const blob::BlobInfo& info) {
        listed.insert(info.key);
        return true;
      }));
  EXPECT_EQ(listed, kept);
}

TEST_P(WorkerTest, ACancelRequestStopsARunningJobAtItsNextHeartbeat) {
  HeldJob held;
  ASSERT_NO_FATAL_FAILURE(HoldAGateJob(held));
  auto state = library_.catalog().CancelJob(held.id, {});
  ASSERT_TRUE(state) << state.error().ToString();
  EXPECT_EQ(*state, JobState::kRunning);
  EXPECT_TRUE(GetJob(held.id).cancel_requested);
  clock_.Advance(2 * kSecond);  // the next packet is due a heartbeat
  script_.Open();
  ASSERT_TRUE(WaitJob(held.id, JobState::kCancelled));
  held.worker->Shutdown();
  EXPECT_EQ(Rows(held.asset.id, "gate")[0].state, catalog::DerivativeState::kFailed);
  EXPECT_EQ(Rows(held.asset.id, "gate")[0].error_code, "cancelled");
}

TEST_P(WorkerTest, ShutdownLetsARunningJobFinishWithinTheGracePeriod) {
  HeldJob held;
  ASSERT_NO_FATAL_FAILURE(HoldAGateJob(held));
  held.worker->StopClaiming();
  int64_t other = Enqueue(library_.Ingest(samples_->Wav()).id, {"probe"});
  script_.Open();
  EXPECT_TRUE(held.worker->WaitIdle(30 * kSecond));
  held.worker->Join();
  EXPECT_EQ(GetJob(held.id).state, JobState::kSucceeded);
  EXPECT_EQ(GetJob(other).state, JobState::kQueued) << "no new claims after StopClaiming";
}

TEST_P(WorkerTest, AfterTheGracePeriodARunningJobIsReleasedWithItsAttemptUncounted) {
  HeldJob held;
  ASSERT_NO_FATAL_FAILURE(HoldAGateJob(held));
  EXPECT_EQ(GetJob(held.id).attempts, 1);
  // What Shutdown() does when the grace period runs out: the job stops at its next
  // packet and goes back to the queue.
  held.worker->StopClaiming();
  EXPECT_FALSE(held.worker->WaitIdle(20'000)) << "the job is held at the gate";
  held.worker->Abort();
  script_.Open();
  held.worker->Join();

  auto job = GetJob(held.id);
  EXPECT_EQ(job.state, JobState::kQueued);
  EXPECT_EQ(job.attempts, 0) << "a released attempt does not count";
  EXPECT_TRUE(job.lease_owner.empty()) << job.lease_owner;
  auto reports = Reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].released);

  // Any worker picks it up again and completes it.
  auto next = MakeWorker(Options("next"), random_);
  ASSERT_TRUE(next->Start());
  ASSERT_TRUE(WaitJob(held.id, JobState::kSucceeded, 1));
  next->Shutdown();
}

TEST_P(WorkerTest, ALiveJobTakesTheReservedSlotWhileBackfillHoldsTheOthers) {
  script_.BlockAll();
  std::vector<int64_t> backfill;
  for (const std::string& path : {samples_->LongMp4(), samples_->H264AacMp4(), samples_->Mp3()}) {
    backfill.push_back(Enqueue(library_.Ingest(path).id, {"gate"}, catalog::kBackfillPriority));
  }
  auto worker = MakeWorker(Options("w", 2), random_);
  ASSERT_TRUE(worker->Start());
  ASSERT_EQ(worker->reserved_slots(), 1);
  ASSERT_TRUE(script_.WaitBlocked(1));  // the general slot holds one backfill job

  int64_t live = Enqueue(library_.Ingest(samples_->Wav()).id, {"probe"});
  worker->Wake();
  ASSERT_TRUE(WaitJob(live, JobState::kSucceeded)) << "the reserved slot took the live job";
  EXPECT_EQ(script_.blocked(), 1) << "the reserved slot never took backfill work";
  int running = 0;
  int queued = 0;
  for (int64_t id : backfill) {
    auto state = GetJob(id).state;
    running += state == JobState::kRunning;
    queued += state == JobState::kQueued;
  }
  EXPECT_EQ(running, 1);
  EXPECT_EQ(queued, 2);
  script_.Open();
  for (int64_t id : backfill) EXPECT_TRUE(WaitJob(id, JobState::kSucceeded));
  worker->Shutdown();
}

TEST_P(WorkerTest, ReservationLeavesAtLeastOneGeneralSlot) {
  for (auto [slots, reserved] : std::vector<std::pair<int, int>>{{1, 0}, {2, 1}, {4, 1}, {5, 2}}) {
    auto options = Options("w", slots);
    auto worker = MakeWorker(options, random_);
    ASSERT_TRUE(worker->Start());
    EXPECT_EQ(worker->reserved_slots(), reserved) << slots << " slots";
    worker->Shutdown();
  }
}

TEST_P(WorkerTest, AnUnknownStageInTheFilterIsRefused) {
  auto options = Options("w");
  options.stages = {"probe", "nonesuch"};
  auto worker = MakeWorker(options, random_);
  auto started = worker->Start();
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace reprise::queue
