// The backfill engine on a real catalog of every backend (CatalogBackends()) and a blob
// store: plans frozen and
// dry-run, dispatch under limit, concurrency, rate and delay (FakeClock), pause, resume,
// cancel, items settled by their jobs, idempotence, a stage's version bump, driver
// leases and the pump. Jobs are run here by a stand-in for a worker (claim, write the
// stage's result, finish) so every step is deterministic; the real worker and CLI are
// covered by tests/cli and tests/queue/workers.
#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "backfill/driver.h"
#include "backfill/pump.h"
#include "backfill/service.h"
#include "blob/blob_store_wrapper.h"
#include "core/random.h"
#include "queue/worker.h"
#include "tests/queue/scripted_stage.h"
#include "tests/stages/fake_stage.h"
#include "tests/support/library.h"
#include "tests/support/media_suite.h"
#include "tests/support/openai_test_server.h"
#include "tests/support/stage_registry.h"

namespace reprise::backfill {
namespace {

using catalog::BackfillMode;
using catalog::BackfillState;
using catalog::ItemOutcome;
using catalog::JobState;
constexpr int64_t kSecond = 1'000'000;

class BackfillTest : public ::testing::TestWithParam<catalog::CatalogBackend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(library_.Open(clock_, GetParam()));
    ASSERT_TRUE(testing::SealBuiltinStages(registry_));
    service_ = MakeService(registry_);
  }

  std::unique_ptr<Service> MakeService(const stages::Registry& registry) {
    return MakeService(registry, library_.blobs());
  }
  std::unique_ptr<Service> MakeService(const stages::Registry& registry, blob::BlobStore& blobs) {
    return std::make_unique<Service>(library_.catalog(), blobs, registry, clock_, MakeNullLogger(),
                                     std::map<std::string, CostModel>{}, 2);
  }

  // `count` assets of `owner`, one clock tick apart (so plan order is creation order).
  std::vector<std::string> AddAssets(int count, const std::string& owner = "alice") {
    std::vector<std::string> ids;
    for (int i = 0; i < count; ++i) {
      catalog::NewAsset asset;
      asset.id = owner.substr(0, 1) + std::to_string(next_asset_++);
      asset.owner = owner;
      asset.sha256_hex = "sha-" + asset.id;
      asset.cid = "cid-" + asset.id;
      asset.size_bytes = 100;
      asset.original_key = "originals/" + asset.id;
      asset.media.kind = catalog::AssetKind::kVideo;
      asset.media.duration_seconds = 30;
      EXPECT_TRUE(library_.catalog().InsertAsset(asset));
      ids.push_back(asset.id);
      clock_.Advance(1000);
    }
    return ids;
  }

  // Writes a finished attempt of `stage` built by `recipe`.
  void Record(const std::string& asset, const std::string& stage, const std::string& recipe,
              catalog::DerivativeState state = catalog::DerivativeState::kDone) {
    auto id = library_.catalog().StartDerivative(asset, stage, 1, recipe, nlohmann::json::object());
    ASSERT_TRUE(id) << id.error().ToString();
    catalog::DerivativeOutcome outcome;
    outcome.state = state;
    if (state == catalog::DerivativeState::kFailed) {
      outcome.error = Error{ErrorCode::kIo, "disk on fire", ""};
    }
    if (state == catalog::DerivativeState::kSkipped) outcome.skip_reason = "no_video_stream";
    ASSERT_TRUE(library_.catalog().CompleteDerivative(*id, outcome));
  }

  void MakeCurrent(const std::string& asset, const std::string& stage) {
    Record(asset, stage, registry_.Recipe(stage));
  }

  // Claims every due job and runs it as a worker would: each stage that is not current
  // gets a result of today's recipe (or fails, for stages in `failing`), then the job
  // succeeds (or fails). Returns the jobs run.
  int RunQueuedJobs(const std::set<std::string>& failing = {}) {
    auto jobs = ClaimAll();
    for (const auto& job : jobs) FinishJob(job, failing);
    return static_cast<int>(jobs.size());
  }

  // Every due job, claimed by worker "w".
  std::vector<catalog::Job> ClaimAll() {
    catalog::ClaimRequest claim;
    claim.worker_id = "w";
    claim.max_jobs = 1000;
    auto jobs = library_.catalog().ClaimJobs(claim);
    EXPECT_TRUE(jobs) << jobs.error().ToString();
    return jobs.value_or(std::vector<catalog::Job>{});
  }

  void FinishJob(const catalog::Job& job, const std::set<std::string>& failing = {}) {
    bool failed = false;
    for (const auto& stage : job.stages) {
      auto statuses =
          library_.catalog().GetStageStatuses(job.asset_id, {{stage, registry_.Recipe(stage)}});
      ASSERT_TRUE(statuses);
      bool forced = std::count(job.forced.begin(), job.forced.end(), stage) != 0;
      if ((*statuses)[0] == catalog::StageStatus::kCurrent && !forced) continue;
      if (failing.count(stage) != 0) {
        Record(job.asset_id, stage, registry_.Recipe(stage), catalog::DerivativeState::kFailed);
        failed = true;
      } else {
        MakeCurrent(job.asset_id, stage);
      }
    }
    catalog::JobOutcome outcome;
    outcome.state = failed ? JobState::kFailed : JobState::kSucceeded;
    if (failed) outcome.error = Error{ErrorCode::kIo, "disk on fire", ""};
    ASSERT_TRUE(library_.catalog().FinishJob(job.id, job.lease_owner, outcome));
  }

  Request Thumbnails(BackfillMode mode = BackfillMode::kOutdated) {
    Request request;
    request.stages = {"thumbnail"};
    request.mode = mode;
    request.concurrency = 100;
    return request;
  }

  catalog::Backfill Start(const Request& request) {
    auto plan = service_->DryRun(request, "", 10);
    EXPECT_TRUE(plan) << plan.error().ToString();
    auto backfill = service_->Start(request, "", plan.value_or(PlanReport{}));
    EXPECT_TRUE(backfill) << backfill.error().ToString();
    return backfill.value_or(catalog::Backfill{});
  }

  // Steps `driver` and runs what it queued until the backfill needs no driver.
  BackfillState RunToEnd(Driver& driver) {
    for (int round = 0; round < 1000; ++round) {
      auto step = driver.Step();
      EXPECT_TRUE(step) << step.error().ToString();
      if (!step || !step->driving) return step ? step->state : BackfillState::kFailed;
      RunQueuedJobs();
    }
    ADD_FAILURE() << "the backfill never ended";
    return BackfillState::kFailed;
  }

  catalog::BackfillCounts Counts(int64_t id) {
    auto counts = library_.catalog().CountBackfillItems(id);
    EXPECT_TRUE(counts) << counts.error().ToString();
    return counts.value_or(catalog::BackfillCounts{});
  }

  // One driver step, then one of the jobs it queued claimed by worker "w".
  std::vector<catalog::Job> DispatchAndClaimOne(Driver& driver) {
    auto step = driver.Step();
    EXPECT_TRUE(step) << step.error().ToString();
    catalog::ClaimRequest claim;
    claim.worker_id = "w";
    auto running = library_.catalog().ClaimJobs(claim);
    EXPECT_TRUE(running) << running.error().ToString();
    return running.value_or(std::vector<catalog::Job>{});
  }

  Driver MakeDriver(int64_t id, const std::string& name = "driver") {
    return Driver(library_.catalog(), clock_, MakeNullLogger(), name, id);
  }

  FakeClock clock_;
  testing::LocalLibrary library_;
  stages::Registry registry_;
  std::unique_ptr<Service> service_;
  int next_asset_ = 0;
};

INSTANTIATE_TEST_SUITE_P(Backends, BackfillTest, ::testing::ValuesIn(catalog::CatalogBackends()),
                         catalog::BackendName);

// What a dry run could have changed, read back through the catalog.
struct CatalogState {
  int64_t latest_event = 0;
  size_t backfills = 0;
  size_t jobs = 0;
  std::vector<catalog::StageStatus> statuses;
};

TEST_P(BackfillTest, DryRunReportsWhatARunWouldDoAndChangesNothing) {
  auto ids = AddAssets(10);
  for (int i = 0; i < 3; ++i) MakeCurrent(ids[i], "thumbnail");
  for (int i = 3; i < 5; ++i) Record(ids[i], "thumbnail", "an-older-recipe");
  Record(ids[5], "thumbnail", registry_.Recipe("thumbnail"), catalog::DerivativeState::kFailed);
  Record(ids[6], "thumbnail", registry_.Recipe("thumbnail"), catalog::DerivativeState::kSkipped);
  catalog::NewJob live;
  live.asset_id = ids[7];
  live.stages = {"thumbnail"};
  ASSERT_TRUE(library_.catalog().Enqueue(live));

  auto state = [&] {
    catalog::Catalog& c = library_.catalog();
    CatalogState now;
    now.latest_event = c.LatestEventId().value_or(-1);
    now.backfills = c.ListBackfills({}, 100).value_or(std::vector<catalog::Backfill>{}).size();
    now.jobs = c.ListJobs({}, {"", 1000}).value_or(catalog::JobPage{}).items.size();
    for (const auto& id : ids) {
      now.statuses.push_back(c.GetStageStatuses(id, {{"thumbnail", registry_.Recipe("thumbnail")}})
                                 .value_or(std::vector<catalog::StageStatus>{})
                                 .at(0));
    }
    return now;
  };
  const CatalogState before = state();
  auto plan = service_->DryRun(Thumbnails(), "", 3);
  ASSERT_TRUE(plan) << plan.error().ToString();
  const CatalogState after = state();
  EXPECT_EQ(after.latest_event, before.latest_event) << "a change would have logged an event";
  EXPECT_EQ(after.backfills, 0u);
  EXPECT_EQ(after.jobs, before.jobs);
  EXPECT_EQ(after.statuses, before.statuses);

  ASSERT_EQ(plan->stages.size(), 1u);
  const StagePlan& stage = plan->stages[0];
  EXPECT_EQ(plan->assets_seen, 10);
  EXPECT_EQ(stage.selected, 4);
  EXPECT_EQ(stage.selected_by_reason,
            (std::map<std::string, int64_t>{{"missing", 2}, {"outdated", 2}}));
  EXPECT_EQ(stage.outdated_from, (std::map<std::string, int64_t>{{"an-older-recipe", 2}}));
  EXPECT_EQ(stage.left_by_reason,
            (std::map<std::string, int64_t>{
                {"already_active", 1}, {"current", 3}, {"failed", 1}, {"no_video_stream", 1}}));
  ASSERT_EQ(plan->first_items.size(), 3u);
  EXPECT_EQ(plan->first_items[0].asset_id, ids[3]);  // plan order: oldest asset first
  EXPECT_DOUBLE_EQ(stage.media_seconds, 4 * 30);

  // The frozen plan holds exactly the pairs the dry run counted.
  catalog::Backfill backfill = Start(Thumbnails());
  auto items = library_.catalog().ListBackfillItems(backfill.id, std::nullopt, 0, 100);
  ASSERT_TRUE(items);
  std::vector<std::string> planned;
  for (const auto& item : *items) planned.push_back(item.asset_id);
  EXPECT_EQ(planned, (std::vector<std::string>{ids[3], ids[4], ids[8], ids[9]}));
  EXPECT_EQ((*items)[0].reason, "outdated");
  EXPECT_EQ((*items)[0].from_recipe, "an-older-recipe");
}

TEST_P(BackfillTest, ABackfillOfAConsumerPlansItsDueInputsAndSaysSo) {
  // contact_sheet consumes thumbnail; a backfill of contact_sheet alone.
  stages::Registry registry;
  ASSERT_TRUE(testing::SealBuiltinStages(
      registry, nlohmann::json::object(),
      std::make_unique<stages::FakeStage>("contact_sheet", 1, nlohmann::json::object(),
                                          stages::FakeBehaviour{},
                                          std::vector<std::string>{"thumbnail"})));
  auto service = MakeService(registry);
  auto ids = AddAssets(4);
  Record(ids[0], "thumbnail", registry.Recipe("thumbnail"));  // current
  Record(ids[1], "thumbnail", "an-older-recipe");             // outdated
  Record(ids[2], "thumbnail", registry.Recipe("thumbnail"), catalog::DerivativeState::kFailed);
  // ids[3]: never built. Its sheet is current on ids[0] only after it is recorded:
  Record(ids[0], "contact_sheet", registry.Recipe("contact_sheet"));

  Request request;
  request.stages = {"contact_sheet"};
  auto plan = service->DryRun(request, "", 10);
  ASSERT_TRUE(plan) << plan.error().ToString();
  ASSERT_EQ(plan->stages.size(), 2u);
  EXPECT_EQ(plan->stages[0].stage, "contact_sheet");
  EXPECT_FALSE(plan->stages[0].input_only);
  EXPECT_EQ(plan->stages[0].selected, 3);
  const auto& thumbnail = plan->stages[1];
  EXPECT_EQ(thumbnail.stage, "thumbnail");
  EXPECT_TRUE(thumbnail.input_only);
  // Outdated and missing thumbnails come as inputs; the failed one is for mode failed;
  // ids[0]'s sheet is current, so its thumbnail is not asked about.
  EXPECT_EQ(thumbnail.selected_by_reason, (std::map<std::string, int64_t>{{"input", 2}}));
  EXPECT_EQ(thumbnail.left_by_reason,
            (std::map<std::string, int64_t>{{"current", 1}, {"failed", 1}}));
  EXPECT_EQ(PlanJson(*plan)["stages"][1]["input_only"], true);

  auto started = service->Start(request, "", *plan);
  ASSERT_TRUE(started) << started.error().ToString();
  ASSERT_EQ(started->stages.size(), 2u);
  auto items = library_.catalog().ListBackfillItems(started->id, std::nullopt, 0, 100);
  ASSERT_TRUE(items);
  std::set<std::pair<std::string, std::string>> planned;
  for (const auto& item : *items) planned.emplace(item.asset_id, item.stage);
  EXPECT_EQ(planned, (std::set<std::pair<std::string, std::string>>{{ids[1], "contact_sheet"},
                                                                    {ids[1], "thumbnail"},
                                                                    {ids[2], "contact_sheet"},
                                                                    {ids[3], "contact_sheet"},
                                                                    {ids[3], "thumbnail"}}));
  // The diff against today plans the same way: nothing new, nothing gone.
  auto diff = service->GetDiff(started->id, {});
  ASSERT_TRUE(diff) << diff.error().ToString();
  EXPECT_EQ(diff->frozen, 5);
  EXPECT_EQ(diff->live, 5);
  EXPECT_EQ(diff->only_live, 0);
  EXPECT_EQ(diff->only_frozen, 0);
}

// Seed 000's first step: before work is queued, each service a planned stage calls
// answers its models list and lists the model the stage asks for.
TEST_P(BackfillTest, TheHealthCheckAsksEachServiceAPlannedStageCallsForItsModel) {
  AddAssets(2);
  SystemClock wall;
  testing::OpenAiTestServer server;
  auto service_at = [](const std::string& base_url) {
    ServiceSettings settings;
    settings.base_url = base_url;
    settings.api_key = "test-key";
    settings.max_attempts = 1;
    settings.timeout_seconds = 10;
    return settings;
  };
  // The transcript stage on the service, asking for `model`; thumbnails call nothing.
  auto check = [&](const std::string& base_url, const std::string& model,
                   const std::vector<std::string>& stages) -> Result<catalog::Backfill> {
    auto directory = ai::ServiceDirectory::Create({{"openai", service_at(base_url)}}, wall);
    EXPECT_TRUE(directory) << directory.error().ToString();
    stages::Registry registry;
    EXPECT_TRUE(stages::AddBuiltinStages(
        registry, {{"transcript", {{"backend", "openai"}, {"model", model}}}}, {},
        stages::StageServices(wall, directory->get())));
    EXPECT_TRUE(registry.Seal());
    Service service(library_.catalog(), library_.blobs(), registry, clock_, MakeNullLogger(),
                    std::map<std::string, CostModel>{}, 2, directory->get());
    Request request = Thumbnails();
    request.stages = stages;
    auto plan = service.DryRun(request, "", 10);
    if (!plan) return Fail(plan.error());
    return service.Start(request, "", *plan);
  };

  auto missing_model = check(server.base_url(), "large-v9", {"transcript"});
  ASSERT_FALSE(missing_model);
  EXPECT_EQ(missing_model.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing_model.error().message.find("health check: service openai (stage transcript)"),
            std::string::npos)
      << missing_model.error().message;
  EXPECT_NE(missing_model.error().message.find("does not serve model large-v9"), std::string::npos)
      << missing_model.error().message;
  auto unreachable = check("http://127.0.0.1:1/v1", "test-whisper", {"transcript"});
  ASSERT_FALSE(unreachable);
  EXPECT_EQ(unreachable.error().code, ErrorCode::kUnavailable) << unreachable.error().ToString();
  auto listed = library_.catalog().ListBackfills({}, 10);
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty()) << "a refused start creates nothing";

  // A stage that calls no service does not need it; the served model passes.
  EXPECT_TRUE(check("http://127.0.0.1:1/v1", "test-whisper", {"thumbnail"}));
  size_t before = server.calls().size();
  auto served = check(server.base_url(), "test-whisper", {"transcript"});
  ASSERT_TRUE(served) << served.error().ToString();
  std::vector<testing::OpenAiCall> calls = server.calls();
  ASSERT_EQ(calls.size(), before + 1);
  EXPECT_EQ(calls.back().path, "/v1/models");
}

TEST_P(BackfillTest, AFailedHealthCheckStopsTheStartAndCreatesNothing) {
  AddAssets(2);
  // A blob store that cannot write: the health check's probe blob fails.
  class Unwritable final : public blob::BlobStoreWrapper {
   public:
    using BlobStoreWrapper::BlobStoreWrapper;
    Result<std::unique_ptr<blob::BlobWriter>> NewWriter() override {
      return Fail(ErrorCode::kIo, "no space left on device");
    }
  };
  Unwritable unwritable(library_.blobs());
  auto service = MakeService(registry_, unwritable);
  auto plan = service->DryRun(Thumbnails(), "", 10);
  ASSERT_TRUE(plan) << "a dry run needs no health check";
  auto started = service->Start(Thumbnails(), "", *plan);
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().ToString().find("health check: blob store"), std::string::npos)
      << started.error().ToString();
  auto backfills = library_.catalog().ListBackfills({}, 10);
  ASSERT_TRUE(backfills);
  EXPECT_TRUE(backfills->empty());
}

TEST_P(BackfillTest, ARunProcessesEveryItemOnceAndASecondRunPlansNothing) {
  auto ids = AddAssets(7);
  Request request;
  request.stages = {"probe", "thumbnail"};
  request.concurrency = 3;
  catalog::Backfill backfill = Start(request);
  EXPECT_EQ(backfill.state, BackfillState::kRunning);
  Driver driver = MakeDriver(backfill.id);
  EXPECT_EQ(RunToEnd(driver), BackfillState::kSucceeded);

  auto counts = Counts(backfill.id);
  EXPECT_EQ(counts.total, 14);
  EXPECT_EQ(counts.Count(ItemOutcome::kProcessed), 14);
  for (const auto& id : ids) {
    auto rows = library_.catalog().ListDerivatives(id);
    ASSERT_TRUE(rows);
    EXPECT_EQ(rows->size(), 2u) << "one attempt per stage, no more";
    auto asset = library_.catalog().GetAsset(id, {});
    ASSERT_TRUE(asset);
    EXPECT_EQ(asset->status, catalog::AssetStatus::kProcessing)
        << "marked when dispatched; the real executor sets the final status";
  }
  auto again = service_->DryRun(request, "", 10);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->items, 0);
  EXPECT_EQ(again->stages[0].left_by_reason.at("current"), 7);
}

TEST_P(BackfillTest, AVersionBumpOfOneStageMakesExactlyItsDerivativesOutdated) {
  auto ids = AddAssets(5);
  for (const auto& id : ids) {
    for (const stages::Stage* stage : registry_.All()) MakeCurrent(id, std::string(stage->Name()));
  }
  stages::Registry bumped;
  ASSERT_TRUE(testing::SealBuiltinStages(bumped, {{"thumbnail", {{"width", 480}}}}));
  ASSERT_NE(bumped.Recipe("thumbnail"), registry_.Recipe("thumbnail"));
  ASSERT_EQ(bumped.Recipe("probe"), registry_.Recipe("probe"));

  Request request;  // every stage, mode outdated
  auto plan = MakeService(bumped)->DryRun(request, "", 0);
  ASSERT_TRUE(plan) << plan.error().ToString();
  ASSERT_EQ(plan->stages.size(), registry_.All().size());
  for (const auto& stage : plan->stages) {
    if (stage.stage != "thumbnail") {
      EXPECT_EQ(stage.selected, 0) << stage.stage;
      EXPECT_EQ(stage.left_by_reason.at("current"), 5);
    } else {
      EXPECT_EQ(stage.selected, 5);
      EXPECT_EQ(stage.outdated_from,
                (std::map<std::string, int64_t>{{registry_.Recipe("thumbnail"), 5}}));
    }
  }
}

TEST_P(BackfillTest, LimitCapsAssetsAndConcurrencyCapsJobsInFlight) {
  AddAssets(10);
  Request request;
  request.stages = {"probe", "thumbnail"};
  request.limit = 4;
  request.concurrency = 2;
  catalog::Backfill backfill = Start(request);
  EXPECT_EQ(Counts(backfill.id).total, 8) << "4 assets x 2 stages";

  Driver driver = MakeDriver(backfill.id);
  auto first = driver.Step();
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(first->dispatched_jobs, 2);
  EXPECT_EQ(first->active_jobs, 2);
  auto second = driver.Step();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->dispatched_jobs, 0) << "the cap holds while both jobs wait";
  EXPECT_EQ(RunQueuedJobs(), 2);
  auto third = driver.Step();
  ASSERT_TRUE(third);
  EXPECT_EQ(third->dispatched_jobs, 2);
  EXPECT_EQ(RunToEnd(driver), BackfillState::kSucceeded);
  EXPECT_EQ(Counts(backfill.id).Count(ItemOutcome::kProcessed), 8);
}

TEST_P(BackfillTest, RateAndDelayFollowTheClock) {
  AddAssets(20);
  Request rated = Thumbnails();
  rated.rate_per_second = 2;
  catalog::Backfill first = Start(rated);
  Driver by_rate = MakeDriver(first.id);
  auto dispatched = [](Driver& driver) {
    auto step = driver.Step();
    EXPECT_TRUE(step) << step.error().ToString();
    return step ? step->dispatched_jobs : -1;
  };
  EXPECT_EQ(dispatched(by_rate), 2) << "a full bucket of one second's starts";
  EXPECT_EQ(by_rate.MicrosUntilNextStart(), kSecond / 2) << "when to step next";
  EXPECT_EQ(dispatched(by_rate), 0);
  clock_.Advance(kSecond / 2);
  EXPECT_EQ(by_rate.MicrosUntilNextStart(), 0);
  EXPECT_EQ(dispatched(by_rate), 1);
  clock_.Advance(kSecond / 4);
  EXPECT_EQ(by_rate.MicrosUntilNextStart(), kSecond / 4);
  EXPECT_EQ(dispatched(by_rate), 0);
  clock_.Advance(10 * kSecond);
  EXPECT_EQ(dispatched(by_rate), 2) << "the bucket holds one second's worth at most";
  ASSERT_TRUE(service_->Cancel(first.id, {}));

  Request delayed = Thumbnails();
  delayed.delay_seconds = 5;
  catalog::Backfill second = Start(delayed);
  Driver by_delay = MakeDriver(second.id, "other");
  EXPECT_EQ(dispatched(by_delay), 1);
  EXPECT_EQ(dispatched(by_delay), 0);
  clock_.Advance(4 * kSecond);
  EXPECT_EQ(by_delay.MicrosUntilNextStart(), kSecond);
  EXPECT_EQ(dispatched(by_delay), 0);
  clock_.Advance(kSecond);
  EXPECT_EQ(dispatched(by_delay), 1);
}

TEST_P(BackfillTest, ADriverTakingOverInheritsTheRateBucketFromTheCatalog) {
  AddAssets(20);
  Request rated = Thumbnails();
  rated.rate_per_second = 2;
  catalog::Backfill backfill = Start(rated);
  auto dispatched = [](Driver& driver) {
    auto step = driver.Step();
    EXPECT_TRUE(step) << step.error().ToString();
    return step ? step->dispatched_jobs : -1;
  };
  {
    Driver first = MakeDriver(backfill.id, "first");
    EXPECT_EQ(dispatched(first), 2) << "a full bucket";
  }  // gives its lease back, as a foreground run stopped with Ctrl-C does
  // A new driver's own bucket starts full; the catalog's is empty, and it decides.
  Driver second = MakeDriver(backfill.id, "second");
  EXPECT_EQ(dispatched(second), 0) << "the takeover cannot start a second burst";
  clock_.Advance(kSecond / 2);
  EXPECT_EQ(dispatched(second), 1);
  EXPECT_EQ(dispatched(second), 0);
}

TEST_P(BackfillTest, PauseTakesBackJobsThatHaveNotStartedAndResumeCarriesOn) {
  AddAssets(6);
  Request request = Thumbnails();
  request.concurrency = 3;
  catalog::Backfill backfill = Start(request);
  Driver driver = MakeDriver(backfill.id);
  auto running = DispatchAndClaimOne(driver);
  ASSERT_EQ(running.size(), 1u);

  auto paused = service_->Pause(backfill.id, {});
  ASSERT_TRUE(paused) << paused.error().ToString();
  EXPECT_EQ(paused->state, BackfillState::kPaused);
  auto counts = Counts(backfill.id);
  EXPECT_EQ(counts.Count(ItemOutcome::kQueued), 1) << "only the running job keeps its item";
  EXPECT_EQ(counts.Count(ItemOutcome::kPending), 5);
  catalog::JobFilter queued;
  queued.state = JobState::kQueued;
  EXPECT_TRUE(library_.catalog().ListJobs(queued, {})->items.empty());

  auto step = driver.Step();
  ASSERT_TRUE(step);
  EXPECT_EQ(step->dispatched_jobs, 0);
  EXPECT_TRUE(step->driving);
  FinishJob(running[0]);  // the running job finishes while paused
  EXPECT_EQ(Counts(backfill.id).Count(ItemOutcome::kProcessed), 1);

  EXPECT_FALSE(service_->Pause(backfill.id, {})) << "already paused";
  auto resumed = service_->Resume(backfill.id, {});
  ASSERT_TRUE(resumed);
  EXPECT_EQ(resumed->state, BackfillState::kRunning);
  EXPECT_EQ(RunToEnd(driver), BackfillState::kSucceeded);
  EXPECT_EQ(Counts(backfill.id).Count(ItemOutcome::kProcessed), 6);
}

TEST_P(BackfillTest, CancelCancelsWaitingWorkAndStopsRunningJobsAtTheirNextHeartbeat) {
  AddAssets(5);
  Request request = Thumbnails();
  request.concurrency = 2;
  catalog::Backfill backfill = Start(request);
  Driver driver = MakeDriver(backfill.id);
  auto running = DispatchAndClaimOne(driver);
  ASSERT_EQ(running.size(), 1u);

  auto cancelling = service_->Cancel(backfill.id, {});
  ASSERT_TRUE(cancelling) << cancelling.error().ToString();
  EXPECT_EQ(cancelling->state, BackfillState::kCancelling) << "a job is still running";
  auto renewed = library_.catalog().RenewLease(running[0].id, "w", 10 * kSecond);
  ASSERT_TRUE(renewed);
  EXPECT_TRUE(*renewed) << "the running job is asked to stop";
  catalog::JobOutcome stopped;
  stopped.state = JobState::kCancelled;
  ASSERT_TRUE(library_.catalog().FinishJob(running[0].id, "w", stopped));

  auto step = driver.Step();
  ASSERT_TRUE(step);
  EXPECT_EQ(step->state, BackfillState::kCancelled);
  EXPECT_FALSE(step->driving);
  auto counts = Counts(backfill.id);
  EXPECT_EQ(counts.Count(ItemOutcome::kCancelled), 5);
  EXPECT_EQ(counts.active_jobs, 0);
  EXPECT_FALSE(service_->Resume(backfill.id, {})) << "a cancelled backfill stays cancelled";

  // With nothing running, cancel is immediate.
  catalog::Backfill idle = Start(Thumbnails());
  auto cancelled = service_->Cancel(idle.id, {});
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->state, BackfillState::kCancelled);
}

TEST_P(BackfillTest, ItemsEndWithWhatTheirJobsDid) {
  auto ids = AddAssets(3);
  Request request;
  request.stages = {"probe", "thumbnail"};
  request.concurrency = 10;
  catalog::Backfill backfill = Start(request);
  // Built meanwhile by someone else: nothing to run when the job comes.
  MakeCurrent(ids[0], "probe");
  Driver driver = MakeDriver(backfill.id);
  ASSERT_TRUE(driver.Step());
  EXPECT_EQ(RunQueuedJobs({"thumbnail"}), 3);
  auto step = driver.Step();
  ASSERT_TRUE(step);
  EXPECT_EQ(step->state, BackfillState::kCompletedWithFailures)
      << "every item ended, and three failed: not a success";
  auto counts = Counts(backfill.id);
  EXPECT_EQ(counts.Count(ItemOutcome::kProcessed), 2);
  EXPECT_EQ(counts.skipped_by_reason, (std::map<std::string, int64_t>{{"current", 1}}));
  EXPECT_EQ(counts.failed_by_code, (std::map<std::string, int64_t>{{"io", 3}}));
  EXPECT_EQ(counts.failed_examples.at("io"), ids);

  auto status = service_->GetStatus(backfill.id, {});
  ASSERT_TRUE(status);
  nlohmann::json doc = StatusJson(*status);
  EXPECT_EQ(doc["progress"]["failed_by_code"]["io"]["count"], 3);
  EXPECT_EQ(doc["state"], "completed_with_failures");
  EXPECT_EQ(doc["progress"]["done"], 3) << "processed and skipped only";
  EXPECT_EQ(doc["progress"]["ended"], 6);
}

TEST_P(BackfillTest, OnlyABackfillWhoseEveryItemWasProcessedOrSkippedSucceeds) {
  AddAssets(2);
  catalog::Backfill clean = Start(Thumbnails());
  Driver first = MakeDriver(clean.id);
  EXPECT_EQ(RunToEnd(first), BackfillState::kSucceeded);

  // An item whose job was cancelled on its own (`reprise jobs cancel`) did not succeed.
  AddAssets(2);
  catalog::Backfill interrupted = Start(Thumbnails());
  Driver second = MakeDriver(interrupted.id, "second");
  ASSERT_TRUE(second.Step());
  catalog::JobFilter queued;
  queued.state = JobState::kQueued;
  auto jobs = library_.catalog().ListJobs(queued, {});
  ASSERT_TRUE(jobs);
  ASSERT_EQ(jobs->items.size(), 2u);
  ASSERT_TRUE(library_.catalog().CancelJob(jobs->items[0].id, {}));
  EXPECT_EQ(RunToEnd(second), BackfillState::kCompletedWithFailures);
  auto counts = Counts(interrupted.id);
  EXPECT_EQ(counts.Count(ItemOutcome::kCancelled), 1);
  EXPECT_EQ(counts.Count(ItemOutcome::kProcessed), 1);
  EXPECT_TRUE(catalog::IsFinal(BackfillState::kCompletedWithFailures));
  EXPECT_EQ(
      catalog::ParseBackfillState("completed_with_failures").value_or(BackfillState::kPlanned),
      BackfillState::kCompletedWithFailures);
}

TEST_P(BackfillTest, FinishedBackfillsRefuseToBeSteeredInPlainWords) {
  AddAssets(2);
  catalog::Backfill with_failures = Start(Thumbnails());
  Driver driver = MakeDriver(with_failures.id);
  ASSERT_TRUE(driver.Step());
  EXPECT_EQ(RunQueuedJobs({"thumbnail"}), 2);
  auto ended = driver.Step();
  ASSERT_TRUE(ended);
  ASSERT_EQ(ended->state, BackfillState::kCompletedWithFailures);

  const std::string id = std::to_string(with_failures.id);
  auto message = [](const Result<catalog::Backfill>& refused) {
    EXPECT_FALSE(refused);
    if (refused) return std::string();
    EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
    return refused.error().message;
  };
  EXPECT_EQ(message(service_->Resume(with_failures.id, {})),
            "backfill " + id + " has already completed with failures; it cannot be resumed");
  EXPECT_EQ(message(service_->Cancel(with_failures.id, {})),
            "backfill " + id + " has already completed with failures; it cannot be cancelled");
  EXPECT_EQ(message(service_->Pause(with_failures.id, {})),
            "backfill " + id + " has already completed with failures; it cannot be paused");

  Request probes = Thumbnails(BackfillMode::kAll);
  probes.stages = {"probe"};
  catalog::Backfill succeeded = Start(probes);
  Driver other = MakeDriver(succeeded.id, "other");
  ASSERT_EQ(RunToEnd(other), BackfillState::kSucceeded);
  EXPECT_EQ(message(service_->Cancel(succeeded.id, {})),
            "backfill " + std::to_string(succeeded.id) +
                " has already succeeded; it cannot be cancelled");

  catalog::Backfill paused = Start(probes);
  ASSERT_TRUE(service_->Pause(paused.id, {}));
  EXPECT_EQ(message(service_->Pause(paused.id, {})),
            "backfill " + std::to_string(paused.id) + " is already paused");
  ASSERT_TRUE(service_->Cancel(paused.id, {}));
  EXPECT_EQ(message(service_->Resume(paused.id, {})),
            "backfill " + std::to_string(paused.id) + " was cancelled; it cannot be resumed");
}

TEST_P(BackfillTest, ItemsOfRunningAndPausedBackfillsNotDispatchedYetAreReported) {
  AddAssets(3, "alice");
  AddAssets(1, "bob");
  Request request;
  request.stages = {"probe", "thumbnail"};
  request.concurrency = 1;
  catalog::Backfill running = Start(request);
  Driver driver = MakeDriver(running.id);
  ASSERT_TRUE(driver.Step());  // one asset's job; the cap holds back the others
  catalog::Backfill paused = Start(request);
  ASSERT_TRUE(service_->Pause(paused.id, {}));
  catalog::Backfill cancelled = Start(request);
  ASSERT_TRUE(service_->Cancel(cancelled.id, {}));

  auto waiting = service_->Undispatched({});
  ASSERT_TRUE(waiting) << waiting.error().ToString();
  ASSERT_EQ(waiting->size(), 2u);
  EXPECT_EQ((*waiting)[0].backfill_id, running.id);
  EXPECT_EQ((*waiting)[0].state, BackfillState::kRunning);
  EXPECT_EQ((*waiting)[0].items, 6);
  EXPECT_EQ((*waiting)[0].assets, 3);
  EXPECT_EQ((*waiting)[1].backfill_id, paused.id);
  EXPECT_EQ((*waiting)[1].state, BackfillState::kPaused);
  EXPECT_EQ((*waiting)[1].items, 6) << "the first asset's pairs were already queued";
  catalog::AssetFilter bob;
  bob.owner = "bob";
  auto bobs = service_->Undispatched(bob);
  ASSERT_TRUE(bobs);
  ASSERT_EQ(bobs->size(), 2u);
  EXPECT_EQ((*bobs)[0].items, 2);
}

TEST_P(BackfillTest, RollbackSaysWhenTodaysRecipeWillRebuildWhatItRestored) {
  auto ids = AddAssets(3);
  const std::string today = registry_.Recipe("thumbnail");
  for (const auto& id : ids) Record(id, "thumbnail", "r-old");
  for (const auto& id : ids) MakeCurrent(id, "thumbnail");

  Selection all;
  auto back = service_->Rollback("thumbnail", all, "", "", /*dry_run=*/false, 10);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->rolled_back, 3);
  EXPECT_EQ(back->todays_recipe, today);
  EXPECT_EQ(back->outdated_by_today, 3) << "built by r-old; today's config builds " << today;
  EXPECT_EQ(back->outdated_recipes, std::vector<std::string>{"r-old"});
  nlohmann::json doc = RollbackJson(*back, false);
  EXPECT_EQ(doc["todays_recipe"], today);
  EXPECT_EQ(doc["outdated_by_todays_recipe"], 3);
  EXPECT_NE(doc["warning"].get<std::string>().find("r-old"), std::string::npos) << doc.dump();

  // Forward again to today's recipe: nothing it restored will be rebuilt.
  auto forward = service_->Rollback("thumbnail", all, today, "", false, 10);
  ASSERT_TRUE(forward);
  EXPECT_EQ(forward->rolled_back, 3);
  EXPECT_EQ(forward->outdated_by_today, 0);
  EXPECT_TRUE(RollbackJson(*forward, false)["warning"].is_null());
}

TEST_P(BackfillTest, ModeAllForcesCurrentResultsToBeRebuilt) {
  auto ids = AddAssets(2);
  for (const auto& id : ids) MakeCurrent(id, "thumbnail");
  catalog::Backfill backfill = Start(Thumbnails(BackfillMode::kAll));
  Driver driver = MakeDriver(backfill.id);
  ASSERT_TRUE(driver.Step());
  auto jobs = ClaimAll();
  ASSERT_EQ(jobs.size(), 2u);
  for (const auto& job : jobs) {
    EXPECT_EQ(job.forced, std::vector<std::string>{"thumbnail"});
    EXPECT_EQ(job.priority, catalog::kBackfillPriority);
    EXPECT_EQ(job.backfill_id, backfill.id);
    FinishJob(job);
  }
  EXPECT_EQ(RunToEnd(driver), BackfillState::kSucceeded);
  EXPECT_EQ(Counts(backfill.id).Count(ItemOutcome::kProcessed), 2);
}

// Issue 11 item 4 and 5: after a recipe change, results of the old recipe are outdated
// whatever their outcome (an old skip or failure is not "missing"), and a pair today's
// recipe skipped is not applicable in every mode, mode all included.
TEST_P(BackfillTest, OldSkipsAndFailuresAreOutdatedAndTodaysSkipsAreNotApplicableInEveryMode) {
  auto ids = AddAssets(7);
  const std::string today = registry_.Recipe("thumbnail");
  Record(ids[0], "thumbnail", "older");                                      // outdated
  Record(ids[1], "thumbnail", "older", catalog::DerivativeState::kSkipped);  // outdated
  Record(ids[2], "thumbnail", "older", catalog::DerivativeState::kFailed);   // outdated
  Record(ids[3], "thumbnail", today, catalog::DerivativeState::kSkipped);    // not applicable
  Record(ids[4], "thumbnail", today, catalog::DerivativeState::kFailed);     // failed
  MakeCurrent(ids[5], "thumbnail");                                          // current
  // ids[6]: never attempted                                                   // missing

  auto counts = library_.catalog().CountStageStatuses({"thumbnail", today}, {});
  ASSERT_TRUE(counts) << counts.error().ToString();
  EXPECT_EQ(counts->outdated, 3);
  EXPECT_EQ(counts->missing, 1);
  EXPECT_EQ(counts->skipped, 1);
  EXPECT_EQ(counts->failed, 1);
  EXPECT_EQ(counts->current, 1);

  using Counts = std::map<std::string, int64_t>;
  auto plan = [&](BackfillMode mode) {
    auto report = service_->DryRun(Thumbnails(mode), "", 10);
    EXPECT_TRUE(report) << report.error().ToString();
    return report.value_or(PlanReport{}).stages.at(0);
  };
  StagePlan outdated = plan(BackfillMode::kOutdated);
  EXPECT_EQ(outdated.selected_by_reason, (Counts{{"missing", 1}, {"outdated", 3}}));
  EXPECT_EQ(outdated.outdated_from, (Counts{{"older", 3}}));
  EXPECT_EQ(outdated.left_by_reason,
            (Counts{{"current", 1}, {"failed", 1}, {"no_video_stream", 1}}));

  StagePlan missing = plan(BackfillMode::kMissing);
  EXPECT_EQ(missing.selected_by_reason, (Counts{{"missing", 1}}));
  EXPECT_EQ(missing.left_by_reason,
            (Counts{{"current", 1}, {"failed", 1}, {"no_video_stream", 1}, {"outdated", 3}}));

  StagePlan failed = plan(BackfillMode::kFailed);
  EXPECT_EQ(failed.selected_by_reason, (Counts{{"failed", 1}}));
  EXPECT_EQ(failed.left_by_reason,
            (Counts{{"current", 1}, {"missing", 1}, {"no_video_stream", 1}, {"outdated", 3}}));

  StagePlan all = plan(BackfillMode::kAll);
  EXPECT_EQ(all.selected_by_reason,
            (Counts{{"failed", 1}, {"missing", 1}, {"outdated", 3}, {"rebuild", 1}}));
  EXPECT_EQ(all.left_by_reason, (Counts{{"no_video_stream", 1}}));

  // The frozen plan of mode all holds the same pairs: the not applicable one is not in it.
  catalog::Backfill backfill = Start(Thumbnails(BackfillMode::kAll));
  auto items = library_.catalog().ListBackfillItems(backfill.id, std::nullopt, 0, 100);
  ASSERT_TRUE(items);
  std::map<std::string, std::pair<std::string, std::string>> planned;  // asset -> reason, from
  for (const auto& item : *items) planned[item.asset_id] = {item.reason, item.from_recipe};
  EXPECT_EQ(planned.size(), 6u);
  EXPECT_EQ(planned.count(ids[3]), 0u);
  EXPECT_EQ(planned[ids[1]], (std::pair<std::string, std::string>{"outdated", "older"}));
  EXPECT_EQ(planned[ids[2]], (std::pair<std::string, std::string>{"outdated", "older"}));
  EXPECT_EQ(planned[ids[5]], (std::pair<std::string, std::string>{"rebuild", today}));
}

// Issue 11 item 6: quarantined pairs selected explicitly (--failed --include-quarantined)
// are dispatched forced, so the worker runs them instead of finishing them as not due;
// the failed pairs beside them are not forced.
TEST_P(BackfillTest, QuarantinedPairsSelectedExplicitlyAreDispatchedForced) {
  auto ids = AddAssets(2);
  const std::string today = registry_.Recipe("thumbnail");
  Record(ids[0], "thumbnail", today, catalog::DerivativeState::kFailed);
  auto entered = library_.catalog().QuarantineIfRepeated(ids[0], "thumbnail", today, 1);
  ASSERT_TRUE(entered && *entered);
  Record(ids[1], "thumbnail", today, catalog::DerivativeState::kFailed);
  ASSERT_TRUE(library_.catalog().QuarantineIfRepeated(ids[1], "thumbnail", today, 2));

  Request request = Thumbnails(BackfillMode::kFailed);
  auto plain = service_->DryRun(request, "", 10);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->stages[0].left_by_reason.at("quarantined"), 1) << "not without asking";
  request.include_quarantined = true;
  catalog::Backfill backfill = Start(request);
  Driver driver = MakeDriver(backfill.id);
  ASSERT_TRUE(driver.Step());
  auto jobs = ClaimAll();
  ASSERT_EQ(jobs.size(), 2u);
  for (const auto& job : jobs) {
    std::vector<std::string> expected;
    if (job.asset_id == ids[0]) expected = {"thumbnail"};
    EXPECT_EQ(job.forced, expected) << job.asset_id;
    FinishJob(job);
  }
  EXPECT_EQ(RunToEnd(driver), BackfillState::kSucceeded);
  EXPECT_EQ(Counts(backfill.id).Count(ItemOutcome::kProcessed), 2);
}

TEST_P(BackfillTest, OneDriverAtATimeAndThePumpAdoptsWhatNobodyDrives) {
  AddAssets(4);
  catalog::Backfill backfill = Start(Thumbnails());
  Driver first = MakeDriver(backfill.id, "first");
  ASSERT_TRUE(first.Step());
  Driver second = MakeDriver(backfill.id, "second");
  auto refused = second.Step();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);

  // The first driver dies without a word: its lease runs out, then the pump adopts it.
  Pump pump(library_.catalog(), clock_, MakeNullLogger(), "pump", 1000, 30 * kSecond);
  EXPECT_EQ(pump.Round(), 0u) << "still driven";
  clock_.Advance(31 * kSecond);
  EXPECT_EQ(pump.Round(), 1u);
  auto held = library_.catalog().GetBackfill(backfill.id, {});
  ASSERT_TRUE(held);
  EXPECT_EQ(held->driver, "pump");
  for (int round = 0; round < 100 && pump.Round() > 0; ++round) RunQueuedJobs();
  held = library_.catalog().GetBackfill(backfill.id, {});
  ASSERT_TRUE(held);
  EXPECT_EQ(held->state, BackfillState::kSucceeded);
  EXPECT_TRUE(held->driver.empty()) << "the lease is given back";
}

TEST_P(BackfillTest, AnOwnersBackfillSeesOnlyTheirAssetsAndIsTheirs) {
  AddAssets(3, "alice");
  AddAssets(2, "bob");
  Request request = Thumbnails();
  auto plan = service_->DryRun(request, "bob", 10);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->items, 2);
  request.selection.owner = "alice";
  auto refused = service_->DryRun(request, "bob", 10);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kNotFound);

  request.selection.owner.reset();
  auto backfill = service_->Start(request, "bob", *plan);
  ASSERT_TRUE(backfill) << backfill.error().ToString();
  EXPECT_EQ(Counts(backfill->id).total, 2);
  catalog::AssetFilter alice;
  alice.owner = "alice";
  EXPECT_EQ(service_->GetStatus(backfill->id, alice).error().code, ErrorCode::kNotFound);
  catalog::AssetFilter bob;
  bob.owner = "bob";
  EXPECT_TRUE(service_->GetStatus(backfill->id, bob));
}

TEST_P(BackfillTest, FiltersAndWhereSelectTheSameAssetsInPlanAndRun) {
  auto ids = AddAssets(6);
  int64_t middle = 0;
  {
    auto asset = library_.catalog().GetAsset(ids[3], {});
    ASSERT_TRUE(asset);
    middle = asset->created_at;
  }
  Request request = Thumbnails();
  request.selection.created_after = FormatRfc3339(middle);
  request.selection.ids = {ids[0], ids[3], ids[5]};
  request.selection.where = "duration >= 30 and kind = \"video\"";
  auto plan = service_->DryRun(request, "", 10);
  ASSERT_TRUE(plan) << plan.error().ToString();
  EXPECT_EQ(plan->items, 2);
  catalog::Backfill backfill = Start(request);
  auto items = library_.catalog().ListBackfillItems(backfill.id, std::nullopt, 0, 10);
  ASSERT_TRUE(items);
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[0].asset_id, ids[3]);
  EXPECT_EQ((*items)[1].asset_id, ids[5]);
  EXPECT_EQ(BackfillJson(backfill)["selection"]["where"], "duration >= 30 and kind = \"video\"");

  request.selection.where = "not has(thumbnail) and not has(thumbnial)";
  auto typo = service_->DryRun(request, "", 10);
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message.find("has(thumbnial)"), std::string::npos);
  request.selection.where = "not has(thumbnail)";
  auto missing = service_->DryRun(request, "", 10);
  ASSERT_TRUE(missing) << missing.error().ToString();
  EXPECT_EQ(missing->items, 2);

  request.selection.where = "duration >";
  auto bad = service_->DryRun(request, "", 10);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().ToString().find("--where"), std::string::npos) << bad.error().ToString();

  auto diff = service_->GetDiff(backfill.id, {});
  ASSERT_TRUE(diff) << diff.error().ToString();
  EXPECT_EQ(diff->frozen, 2);
  EXPECT_EQ(diff->live, 2);
  EXPECT_EQ(diff->only_live + diff->only_frozen, 0);
}

TEST_P(BackfillTest, RollbackMakesTheEarlierResultCurrentAgainAndADryRunChangesNothing) {
  auto ids = AddAssets(4);
  for (const auto& id : {ids[0], ids[1], ids[2]}) Record(id, "thumbnail", "r1");
  for (const auto& id : {ids[0], ids[1]}) Record(id, "thumbnail", "r2");
  Record(ids[1], "thumbnail", "r2");  // rebuilt with the same recipe: not a step back
  // ids[2]: only r1 (nothing earlier); ids[3]: nothing current.

  Selection all;
  auto plan = service_->Rollback("thumbnail", all, "", "", /*dry_run=*/true, 10);
  ASSERT_TRUE(plan) << plan.error().ToString();
  EXPECT_EQ(plan->assets, 4);
  EXPECT_EQ(plan->rolled_back, 2);
  EXPECT_EQ(plan->no_earlier, 1);
  EXPECT_EQ(plan->no_current, 1);
  ASSERT_EQ(plan->items.size(), 2u);
  EXPECT_EQ(plan->items[0].from_recipe, "r2");
  EXPECT_EQ(plan->items[0].to_recipe, "r1");
  EXPECT_EQ(library_.catalog().GetCurrentDerivative(ids[0], "thumbnail")->recipe, "r2")
      << "dry run";

  Selection one;
  one.ids = {ids[1]};
  auto done = service_->Rollback("thumbnail", one, "", "", false, 10);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->rolled_back, 1);
  auto current = library_.catalog().GetCurrentDerivative(ids[1], "thumbnail");
  ASSERT_TRUE(current);
  EXPECT_EQ(current->recipe, "r1");
  EXPECT_EQ(library_.catalog().GetCurrentDerivative(ids[0], "thumbnail")->recipe, "r2")
      << "not selected";

  // Forward again by naming the recipe; an unknown recipe finds nothing to go back to.
  auto forward = service_->Rollback("thumbnail", one, "r2", "", false, 10);
  ASSERT_TRUE(forward);
  EXPECT_EQ(forward->rolled_back, 1);
  EXPECT_EQ(library_.catalog().GetCurrentDerivative(ids[1], "thumbnail")->recipe, "r2");
  auto nowhere = service_->Rollback("thumbnail", one, "r9", "", false, 10);
  ASSERT_TRUE(nowhere);
  EXPECT_EQ(nowhere->no_earlier, 1);
  EXPECT_FALSE(service_->Rollback("nope", all, "", "", true, 10));

  // What a status sees: the rolled-back pair is outdated for today's recipe.
  auto statuses = library_.catalog().GetStageStatuses(ids[0], {{"thumbnail", "r2"}});
  ASSERT_TRUE(statuses);
  EXPECT_EQ((*statuses)[0], catalog::StageStatus::kCurrent);
  ASSERT_TRUE(service_->Rollback("thumbnail", all, "", "", false, 10));
  statuses = library_.catalog().GetStageStatuses(ids[0], {{"thumbnail", "r2"}});
  ASSERT_TRUE(statuses);
  EXPECT_EQ((*statuses)[0], catalog::StageStatus::kOutdated);
}

// --skip-reset with a real worker on a real file: a scripted stage holds the job at its
// first packet, so the test reads the asset's status while the job is running.
class SkipResetTest : public testing::MediaSuite, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(library_.Open(clock_));
    ASSERT_TRUE(registry_.Add(std::make_unique<queue::ScriptedStage>("gate", 1, script_)));
    ASSERT_TRUE(registry_.Seal());
  }
  void TearDown() override { script_.Open(); }

  catalog::AssetStatus AssetStatus(const std::string& id) {
    auto asset = library_.catalog().GetAsset(id, {});
    EXPECT_TRUE(asset) << asset.error().ToString();
    return asset ? asset->status : catalog::AssetStatus::kPending;
  }

  SystemClock clock_;
  SeededRandom random_{7};
  queue::StageScript script_;
  testing::LocalLibrary library_;
  stages::Registry registry_;
};

TEST_P(SkipResetTest, TheAssetShowsProcessingWhileItsJobRunsOnlyWithoutSkipReset) {
  const bool skip_reset = GetParam();
  auto asset = library_.Ingest(samples_->LongMp4());
  queue::Executor executor(library_.catalog(), library_.blobs(), registry_, clock_,
                           MakeNullLogger());
  auto first = executor.RunAsset(asset, registry_.All());
  ASSERT_TRUE(first) << first.error().ToString();
  ASSERT_EQ(AssetStatus(asset.id), catalog::AssetStatus::kReady);

  Service service(library_.catalog(), library_.blobs(), registry_, clock_, MakeNullLogger(),
                  std::map<std::string, CostModel>{}, 1);
  Request request;
  request.stages = {"gate"};
  request.mode = BackfillMode::kAll;  // rebuild the current result
  request.skip_reset = skip_reset;
  auto plan = service.DryRun(request, "", 10);
  ASSERT_TRUE(plan) << plan.error().ToString();
  auto backfill = service.Start(request, "", *plan);
  ASSERT_TRUE(backfill) << backfill.error().ToString();

  script_.BlockRuns({2});  // run 1 built the first result
  queue::WorkerOptions options;
  options.worker_id = "w";
  options.poll_micros = 2'000;
  queue::Worker worker(
      library_.catalog(),
      [this] {
        return std::make_unique<queue::Executor>(library_.catalog(), library_.blobs(), registry_,
                                                 clock_, MakeNullLogger());
      },
      registry_, clock_, random_, MakeNullLogger(), options);
  ASSERT_TRUE(worker.Start());
  Driver driver(library_.catalog(), clock_, MakeNullLogger(), "driver", backfill->id);
  auto step = driver.Step();
  ASSERT_TRUE(step) << step.error().ToString();
  ASSERT_EQ(step->dispatched_jobs, 1);
  ASSERT_TRUE(script_.WaitBlocked(1)) << "the worker never reached the stage";

  // The job is running, held at the stage's first packet.
  EXPECT_EQ(AssetStatus(asset.id),
            skip_reset ? catalog::AssetStatus::kReady : catalog::AssetStatus::kProcessing);

  script_.Open();
  ASSERT_TRUE(worker.WaitIdle(60'000'000));
  for (int round = 0; round < 1000 && step && step->driving; ++round) {
    ASSERT_TRUE(worker.WaitIdle(60'000'000));
    step = driver.Step();
  }
  ASSERT_TRUE(step) << step.error().ToString();
  EXPECT_EQ(step->state, BackfillState::kSucceeded);
  worker.Shutdown();
  EXPECT_EQ(script_.runs(), 2);
  // Once the new result is in, the status comes from the results either way.
  EXPECT_EQ(AssetStatus(asset.id), catalog::AssetStatus::kReady);
}

INSTANTIATE_TEST_SUITE_P(Backfill, SkipResetTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                           return param_info.param ? std::string("SkipReset")
                                                   : std::string("Reset");
                         });

}  // namespace
}  // namespace reprise::backfill
