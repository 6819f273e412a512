// services::Backfills and services::Process on an App over a real SQLite catalog and blob
// directory: who may plan, start, read and steer which backfill, the list read in one
// call agreeing with the status of each backfill, the ETA rule, the rate syntax, and
// process runs scoped to the caller's assets.
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "app/app.h"
#include "services/backfills.h"
#include "services/process.h"
#include "tests/support/test_support.h"

namespace reprise::services {
namespace {

using catalog::BackfillState;

class BackfillsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Config config;
    config.data_dir = dir_.Join("data");
    auto app = app::App::Open(config, MakeNullLogger());
    ASSERT_TRUE(app) << app.error().ToString();
    app_ = std::move(*app);
    for (const char* id : {"a1", "a2", "a3"}) AddAsset(id, "a");
    AddAsset("b1", "b");
  }

  void AddAsset(const std::string& id, const std::string& owner) {
    catalog::NewAsset asset;
    asset.id = id;
    asset.owner = owner;
    asset.sha256_hex = "sha-" + id;
    asset.cid = "cid-" + id;
    asset.size_bytes = 100;
    asset.original_key = "originals/" + id;
    asset.media.kind = catalog::AssetKind::kVideo;
    asset.media.duration_seconds = 10;
    ASSERT_TRUE(app_->catalog().InsertAsset(asset));
  }

  static BackfillSpec Probe() {
    BackfillSpec spec;
    spec.stages = {"probe"};
    return spec;
  }

  catalog::Backfill Started(const Caller& caller, const BackfillSpec& spec = Probe()) {
    auto plan = service().Plan(caller, spec);
    EXPECT_TRUE(plan) << plan.error().ToString();
    if (!plan) return {};
    auto started = service().Start(caller, *plan);
    EXPECT_TRUE(started) << started.error().ToString();
    return started.value_or(catalog::Backfill{});
  }

  Backfills& service() { return app_->backfill_service(); }

  testing::TempDir dir_;
  std::unique_ptr<app::App> app_;
  const Caller a_ = Caller::Owner("a");
  const Caller b_ = Caller::Owner("b");
  const Caller admin_ = Caller::Admin();
};

TEST_F(BackfillsServiceTest, AnOwnersPlanSelectsOnlyItsAssetsAndBelongsToIt) {
  auto plan = service().Plan(a_, Probe());
  ASSERT_TRUE(plan) << plan.error().ToString();
  EXPECT_EQ(plan->owner, "a");
  EXPECT_EQ(plan->report.assets_selected, 3);
  EXPECT_EQ(Started(a_).owner, "a");

  BackfillSpec for_b = Probe();
  for_b.owner = "b";
  auto refused = service().Plan(a_, for_b);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kPermissionDenied);
  // An admin may run it for b: b's assets only, and b sees it.
  auto admins = service().Plan(admin_, for_b);
  ASSERT_TRUE(admins);
  EXPECT_EQ(admins->report.assets_selected, 1);
  auto started = service().Start(admin_, *admins);
  ASSERT_TRUE(started);
  EXPECT_TRUE(service().GetStatus(b_, started->id));
  // A plan made for b cannot be started by a.
  auto stolen = service().Start(a_, *admins);
  ASSERT_FALSE(stolen);
  EXPECT_EQ(stolen.error().code, ErrorCode::kPermissionDenied);
  // Without an owner an admin's backfill selects everyone's assets (the command line's).
  auto everyone = service().Plan(admin_, Probe());
  ASSERT_TRUE(everyone);
  EXPECT_EQ(everyone->owner, "");
  EXPECT_EQ(everyone->report.assets_selected, 4);
}

TEST_F(BackfillsServiceTest, AnotherOwnersBackfillIsNotFoundForEveryCall) {
  const int64_t id = Started(a_).id;
  ASSERT_GT(id, 0);
  EXPECT_EQ(service().GetStatus(b_, id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(service().GetDiff(b_, id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(service().Pause(b_, id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(service().Resume(b_, id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(service().Cancel(b_, id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(service().GetStatus(admin_, id, "b").error().code, ErrorCode::kNotFound)
      << "an admin narrowed to b";
  EXPECT_EQ(service().GetStatus(b_, id, "a").error().code, ErrorCode::kPermissionDenied);
  EXPECT_TRUE(service().GetStatus(admin_, id));
  auto paused = service().Pause(a_, id);
  ASSERT_TRUE(paused);
  EXPECT_EQ(paused->state, BackfillState::kPaused);
  auto again = service().Pause(a_, id);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
}

TEST_F(BackfillsServiceTest, TheListAgreesWithTheStatusOfEachBackfillWithinTheCallersScope) {
  const int64_t first = Started(a_).id;
  const int64_t bs = Started(b_).id;
  const int64_t cancelled = Started(admin_).id;
  ASSERT_TRUE(service().Cancel(admin_, cancelled));

  auto all = service().List(admin_, std::nullopt, catalog::PageRequest{});
  ASSERT_TRUE(all) << all.error().ToString();
  ASSERT_EQ(all->items.size(), 3u);
  for (const auto& listed : all->items) {
    auto alone = service().GetStatus(admin_, listed.backfill.id);
    ASSERT_TRUE(alone);
    nlohmann::json from_list = backfill::StatusJson(listed);
    nlohmann::json one = backfill::StatusJson(*alone);
    if (!catalog::IsFinal(listed.backfill.state)) {
      // Read at two moments: what is measured against now differs.
      for (auto* doc : {&from_list, &one}) {
        (*doc)["progress"].erase("elapsed_seconds");
        (*doc)["progress"].erase("eta_seconds");
        (*doc).erase("driver_lease");
      }
    }
    EXPECT_EQ(from_list, one);
  }
  EXPECT_EQ(StatusListJson(*all)[2]["progress"]["total"], 3);

  auto as = service().List(a_, std::nullopt, catalog::PageRequest{});
  ASSERT_TRUE(as);
  ASSERT_EQ(as->items.size(), 1u);
  EXPECT_EQ(as->items[0].backfill.id, first);
  auto narrowed = service().List(admin_, "b", catalog::PageRequest{});
  ASSERT_TRUE(narrowed);
  ASSERT_EQ(narrowed->items.size(), 1u);
  EXPECT_EQ(narrowed->items[0].backfill.id, bs);
  EXPECT_EQ(service().List(a_, "b", catalog::PageRequest{}).error().code,
            ErrorCode::kPermissionDenied);
}

TEST_F(BackfillsServiceTest, NamingNoStageIsRefusedNamingBothWays) {
  BackfillSpec none;
  auto refused = service().Plan(admin_, none);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("--all-stages"), std::string::npos);
  BackfillSpec both = Probe();
  both.all_stages = true;
  EXPECT_FALSE(service().Plan(admin_, both));
  BackfillSpec all;
  all.all_stages = true;
  auto every = service().Plan(admin_, all);
  ASSERT_TRUE(every);
  EXPECT_EQ(every->report.stages.size(), app_->registry().All().size());
}

TEST(BackfillRate, ReadsStartsPerSecondMinuteOrHour) {
  EXPECT_DOUBLE_EQ(*ParseRate("5/s", "--rate"), 5.0);
  EXPECT_DOUBLE_EQ(*ParseRate("300/m", "--rate"), 5.0);
  EXPECT_DOUBLE_EQ(*ParseRate("7200/h", "--rate"), 2.0);
  EXPECT_DOUBLE_EQ(*ParseRate("2.5", "--rate"), 2.5);
  for (const char* bad : {"5/week", "0", "-1/s", "abc", "5s", "inf"}) {
    auto refused = ParseRate(bad, "field 'rate'");
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(refused.error().message.rfind("field 'rate' ", 0), 0u) << refused.error().message;
  }
}

TEST(BackfillEta, IsTheRestAtThePaceKeptSoFarOnlyWhileRunning) {
  EXPECT_FALSE(backfill::RemainingSeconds(0, 10, 5)) << "no item ended: no pace yet";
  EXPECT_DOUBLE_EQ(*backfill::RemainingSeconds(5, 10, 5), 5.0);
  EXPECT_DOUBLE_EQ(*backfill::RemainingSeconds(2, 8, 10), 30.0);
  EXPECT_FALSE(backfill::RemainingSeconds(10, 10, 5)) << "nothing left";

  catalog::Backfill running;
  running.state = BackfillState::kRunning;
  running.started_at = 1'000'000;
  catalog::BackfillCounts counts;
  counts.total = 4;
  counts.by_outcome[catalog::ItemOutcome::kProcessed] = 2;
  counts.by_outcome[catalog::ItemOutcome::kPending] = 2;
  backfill::Status status = backfill::MakeStatus(running, counts, 11'000'000);
  EXPECT_DOUBLE_EQ(status.elapsed_seconds, 10.0);
  EXPECT_DOUBLE_EQ(backfill::StatusJson(status)["progress"]["eta_seconds"].get<double>(), 10.0);
  running.state = BackfillState::kPaused;
  EXPECT_TRUE(backfill::StatusJson(
                  backfill::MakeStatus(running, counts, 11'000'000))["progress"]["eta_seconds"]
                  .is_null());
}

TEST_F(BackfillsServiceTest, ProcessEnqueuesOnlyTheCallersAssets) {
  ProcessSpec spec;
  spec.stages = {"probe"};
  auto mine = app_->process_service().Enqueue(a_, spec);
  ASSERT_TRUE(mine) << mine.error().ToString();
  EXPECT_EQ(mine->assets_seen, 3);
  EXPECT_EQ(mine->jobs_created, 3);
  spec.owner = "b";
  auto refused = app_->process_service().Enqueue(a_, spec);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kPermissionDenied);
  auto bs = app_->process_service().Enqueue(admin_, spec);
  ASSERT_TRUE(bs);
  EXPECT_EQ(bs->assets_seen, 1);
  EXPECT_EQ(EnqueueCountsJson(*bs)["jobs_created"], 1);
}

}  // namespace
}  // namespace reprise::services
