// `reprise process` as a service: enqueue what is due (waiting also for work already
// queued), run an in-process pool until those jobs are final, summarise per stage.
#include "queue/process.h"

#include <atomic>
#include <chrono>
#include <map>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "catalog/catalog_wrapper.h"
#include "tests/queue/scripted_stage.h"
#include "tests/support/library.h"
#include "tests/support/media_suite.h"
#include "tests/support/stage_registry.h"

namespace reprise::queue {
namespace {

// On every catalog backend (CatalogBackends()).
class ProcessTest : public testing::MediaSuite,
                    public ::testing::WithParamInterface<catalog::CatalogBackend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(library_.Open(clock_, GetParam()));
    ASSERT_TRUE(testing::SealBuiltinStages(registry_, nlohmann::json::object(),
                                           std::make_unique<ScriptedStage>("gate", 1, script_)));
    processor_ = std::make_unique<Processor>(
        library_.catalog(), registry_, clock_,
        [this](int slots, const std::vector<std::string>& stages) {
          WorkerOptions options;
          options.worker_id = "process";
          options.concurrency = slots > 0 ? slots : 2;
          options.stages = stages;
          options.poll_micros = 5'000;
          return std::make_unique<Worker>(
              library_.catalog(),
              [this] {
                return std::make_unique<Executor>(library_.catalog(), library_.blobs(), registry_,
                                                  clock_, MakeNullLogger());
              },
              registry_, clock_, random_, MakeNullLogger(), options);
        });
  }

  // Ingests, and queues `queued_stages` the way a live upload would.
  std::string Ingest(const std::string& path, const std::vector<std::string>& queued_stages) {
    catalog::Asset asset = library_.Ingest(path);
    if (asset.id.empty()) return "";
    if (!queued_stages.empty()) {
      catalog::NewJob job;
      job.asset_id = asset.id;
      job.stages = queued_stages;
      EXPECT_TRUE(library_.catalog().Enqueue(job));
    }
    return asset.id;
  }

  FakeClock clock_;
  SeededRandom random_{1};
  StageScript script_;
  testing::LocalLibrary library_;
  stages::Registry registry_;
  std::unique_ptr<Processor> processor_;
};

INSTANTIATE_TEST_SUITE_P(Backends, ProcessTest, ::testing::ValuesIn(catalog::CatalogBackends()),
                         catalog::BackendName);

TEST_P(ProcessTest, BuildsWhatIsDueIncludingWorkIngestQueuedAndNothingTwice) {
  Ingest(samples_->H264AacMp4(), {"probe", "thumbnail"});  // queued before the run
  Ingest(samples_->Mp3(), {});
  Ingest(samples_->Wav(), {});

  ProcessOptions options;
  options.stages = {"probe", "thumbnail"};
  std::vector<ProcessProgress> seen;
  auto summary = processor_->Run(options, [&](const ProcessProgress& p) { seen.push_back(p); });
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(summary->assets_seen, 3);
  EXPECT_EQ(summary->assets_run, 3);
  EXPECT_EQ(summary->jobs, 3) << "the queued job is waited for, not duplicated";
  EXPECT_EQ(summary->stages["probe"].done, 3);
  EXPECT_EQ(summary->stages["thumbnail"].done, 1);
  EXPECT_EQ(summary->stages["thumbnail"].skipped["no_video_stream"], 2);
  EXPECT_TRUE(summary->failures.empty());
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().jobs_done, 3);
  EXPECT_EQ(seen.back().jobs_total, 3);

  auto again = processor_->Run(options);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->assets_run, 0);
  EXPECT_EQ(again->jobs, 0);
}

// Counts the catalog reads a waiting session makes.
class CountingCatalog final : public catalog::CatalogWrapper {
 public:
  using CatalogWrapper::CatalogWrapper;
  Result<catalog::Job> GetJob(int64_t job_id, const catalog::AssetFilter& scope) override {
    ++get_job;
    return CatalogWrapper::GetJob(job_id, scope);
  }
  Result<std::map<int64_t, catalog::JobState>> GetJobStates(
      const std::vector<int64_t>& job_ids) override {
    ++get_job_states;
    return CatalogWrapper::GetJobStates(job_ids);
  }
  std::atomic<int> get_job = 0;
  std::atomic<int> get_job_states = 0;
};

// Jobs another worker runs are found by the session's sweep, with one read for all of
// them (before, one transaction per job every second: a large session spent its time
// asking).
TEST_P(ProcessTest, JobsEndedByAnotherWorkerAreFoundWithOneReadPerSweep) {
  for (int i = 0; i < 3; ++i) Ingest(samples_->Wav(), {});
  Ingest(samples_->Mp3(), {});
  Ingest(samples_->H264AacMp4(), {});
  CountingCatalog counting(library_.catalog());
  // This session's own pool takes no job: it runs only a stage no job holds.
  Processor elsewhere_only(
      counting, registry_, clock_, [this, &counting](int, const std::vector<std::string>&) {
        WorkerOptions options;
        options.worker_id = "process";
        options.stages = {"gate"};
        options.poll_micros = 5'000;
        return std::make_unique<Worker>(
            counting,
            [this] {
              return std::make_unique<Executor>(library_.catalog(), library_.blobs(), registry_,
                                                clock_, MakeNullLogger());
            },
            registry_, clock_, random_, MakeNullLogger(), options);
      });
  ProcessOptions options;
  options.stages = {"probe"};
  auto session = elsewhere_only.Begin(options);
  ASSERT_TRUE(session) << session.error().ToString();
  ASSERT_TRUE((*session)->Add({}));

  // Another worker runs every queued job.
  catalog::ClaimRequest claim;
  claim.worker_id = "elsewhere";
  claim.max_jobs = 10;
  claim.lease_micros = 60'000'000;
  auto jobs = library_.catalog().ClaimJobs(claim);
  ASSERT_TRUE(jobs);
  ASSERT_EQ(jobs->size(), 3u) << "the three files without a queued job";
  for (const auto& job : *jobs) {
    catalog::JobOutcome outcome;
    outcome.state = catalog::JobState::kSucceeded;
    ASSERT_TRUE(library_.catalog().FinishJob(job.id, "elsewhere", outcome));
  }

  auto summary = (*session)->Wait();
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(summary->jobs, 3);
  EXPECT_EQ(summary->jobs_left, 0);
  EXPECT_EQ(counting.get_job, 0) << "no read per job";
  EXPECT_GE(counting.get_job_states, 1);
}

// `process --stage probe,thumbnail` while ingest's job for the asset is still queued with
// gate too: only the named stages run, gate stays queued for any worker, and the summary
// lists what ran. Before, the queued job ran whole: gate ran and was left out of the
// summary.
TEST_P(ProcessTest, OnlyTheNamedStagesRunEvenWhenAQueuedJobHoldsOthers) {
  std::string id = Ingest(samples_->H264AacMp4(), {"probe", "thumbnail", "gate"});
  ProcessOptions options;
  options.stages = {"probe", "thumbnail"};
  auto summary = processor_->Run(options);
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(script_.runs(), 0) << "gate was not asked for";
  EXPECT_EQ(summary->jobs, 1);
  EXPECT_EQ(summary->jobs_failed, 0);
  EXPECT_EQ(summary->stages.size(), 2u);
  EXPECT_EQ(summary->stages["probe"].done, 1);
  EXPECT_EQ(summary->stages["thumbnail"].done, 1);

  // gate waits in the job ingest queued, for whoever runs it.
  catalog::JobFilter queued;
  queued.state = catalog::JobState::kQueued;
  auto jobs = library_.catalog().ListJobs(queued, {"", 10});
  ASSERT_TRUE(jobs) << jobs.error().ToString();
  ASSERT_EQ(jobs->items.size(), 1u);
  EXPECT_EQ(jobs->items[0].stages, std::vector<std::string>{"gate"});
  EXPECT_EQ(jobs->items[0].asset_id, id);

  // Asked for next, gate runs from that job and is listed.
  options.stages = {"gate"};
  auto rest = processor_->Run(options);
  ASSERT_TRUE(rest) << rest.error().ToString();
  EXPECT_EQ(script_.runs(), 1);
  EXPECT_EQ(rest->jobs, 1);
  EXPECT_EQ(rest->stages["gate"].done, 1);
}

// A job a process run waits for may hold stages it did not select (a worker elsewhere is
// already running it whole): whatever such a job ran is listed in the summary too.
TEST_P(ProcessTest, TheSummaryListsEveryStageAWaitedForJobRan) {
  Ingest(samples_->H264AacMp4(), {"probe", "gate"});
  script_.BlockRuns({1});
  catalog::ClaimRequest claim;
  claim.worker_id = "elsewhere";
  auto held = library_.catalog().ClaimJobs(claim);
  ASSERT_TRUE(held && held->size() == 1u);
  std::thread elsewhere([&] {
    Executor executor(library_.catalog(), library_.blobs(), registry_, clock_, MakeNullLogger());
    catalog::Asset asset = *library_.catalog().GetAsset((*held)[0].asset_id, {});
    ASSERT_TRUE(executor.RunAsset(asset, *registry_.Select({"probe", "gate"})));
    ASSERT_TRUE(library_.catalog().FinishJob((*held)[0].id, "elsewhere", {}));
  });
  ASSERT_TRUE(script_.WaitBlocked(1));
  ProcessOptions options;
  options.stages = {"probe"};
  auto session = processor_->Begin(options);
  ASSERT_TRUE(session) << session.error().ToString();
  ASSERT_TRUE((*session)->Add({}));
  script_.Open();
  auto summary = (*session)->Wait();
  elsewhere.join();
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(summary->jobs, 1) << "the running job holding probe is waited for";
  EXPECT_EQ(summary->stages["probe"].done, 1);
  EXPECT_EQ(summary->stages["gate"].done, 1) << "it ran in that job: listed although not asked";
}

TEST_P(ProcessTest, FailuresAreSummarisedAndRetriedOnlyWhenAsked) {
  std::string id = Ingest(samples_->Wav(), {});
  script_.FailWith(ErrorCode::kUnsupportedMedia);
  ProcessOptions options;
  options.stages = {"gate"};
  auto summary = processor_->Run(options);
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(summary->stages["gate"].failed, 1);
  EXPECT_EQ(summary->jobs_failed, 1);
  ASSERT_EQ(summary->failures.size(), 1u);
  EXPECT_EQ(summary->failures[0].asset_id, id);
  EXPECT_EQ(summary->failures[0].error.code, ErrorCode::kUnsupportedMedia);

  EXPECT_EQ(processor_->Run(options)->assets_run, 0) << "failed is not due by default";
  script_.FailWith(std::nullopt);
  options.retry_failed = true;
  auto retried = processor_->Run(options);
  ASSERT_TRUE(retried);
  EXPECT_EQ(retried->stages["gate"].done, 1);
  EXPECT_TRUE(retried->failures.empty());
}

// A session's pool works from the first Add(): an asset added early is built while more
// are still to come (ingest --process adds each file as it is stored). Added twice, an
// asset is tracked once; the summary covers every asset added.
TEST_P(ProcessTest, ASessionBuildsEachAssetAsItIsAddedAndSummarisesThemAll) {
  ProcessOptions options;
  options.stages = {"probe"};
  auto session = processor_->Begin(options);
  ASSERT_TRUE(session) << session.error().ToString();
  std::string first = Ingest(samples_->Wav(), {});
  catalog::AssetFilter only_first;
  only_first.ids = {first};
  ASSERT_TRUE((*session)->Add(only_first));
  // Before Wait(): the pool builds the first asset (bounded wait on a condition).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool built = false;
  while (!built && std::chrono::steady_clock::now() < deadline) {
    auto rows = library_.catalog().ListDerivatives(first);
    ASSERT_TRUE(rows);
    for (const auto& row : *rows) {
      built = built || (row.stage == "probe" && row.state == catalog::DerivativeState::kDone);
    }
    if (!built) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(built) << "the pool did not start before Wait()";

  std::string second = Ingest(samples_->Mp3(), {});
  catalog::AssetFilter both;
  both.ids = {first, second};
  ASSERT_TRUE((*session)->Add(both));
  auto summary = (*session)->Wait();
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(summary->assets_seen, 3) << "first counted as seen twice, due once";
  EXPECT_EQ(summary->assets_run, 2);
  EXPECT_EQ(summary->jobs, 2);
  EXPECT_EQ(summary->stages["probe"].done, 2);
  EXPECT_FALSE((*session)->Wait()) << "Wait() is once";
}

TEST_P(ProcessTest, AnUnknownStageIsAUsageError) {
  ProcessOptions options;
  options.stages = {"nonesuch"};
  auto summary = processor_->Run(options);
  ASSERT_FALSE(summary);
  EXPECT_EQ(summary.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace reprise::queue
