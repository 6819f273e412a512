// Global stage limits (catalog/stage_limits.h), part of the Catalog contract run against
// every backend: caps counted over every connection's running jobs, the rate's sliding
// window on the injected clock, jobs over a limit left queued without holding back the
// others, and a backfill's start-rate bucket kept in the database.

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/catalog/catalog_contract.h"

namespace reprise::catalog {
namespace {

using Stages = std::vector<std::string>;

StageLimit Cap(const std::string& stage, int max_running) {
  StageLimit limit;
  limit.stage = stage;
  limit.max_running = max_running;
  return limit;
}

StageLimit Rate(const std::string& stage, int starts, int64_t window_micros) {
  StageLimit limit;
  limit.stage = stage;
  limit.rate = {starts, window_micros};
  return limit;
}

ClaimRequest Limited(const std::string& worker, int max_jobs, std::vector<StageLimit> limits) {
  ClaimRequest request;
  request.worker_id = worker;
  request.max_jobs = max_jobs;
  request.lease_micros = 30 * kSecond;
  request.limits = std::move(limits);
  return request;
}

class StageLimitsTest : public CatalogContractTest {
 protected:
  // One queued job per asset "<prefix>0".."<prefix>N-1" holding `stages`.
  void Queue(const std::string& prefix, int count, const Stages& stages, int priority) {
    for (int i = 0; i < count; ++i) {
      const std::string id = prefix + std::to_string(i);
      Ok(catalog_->InsertAsset(MakeAsset(id)));
      NewJob job;
      job.asset_id = id;
      job.stages = stages;
      job.priority = priority;
      Ok(catalog_->Enqueue(job));
    }
  }

  // How many of `jobs` hold `stage`.
  static int Holding(const std::vector<Job>& jobs, const std::string& stage) {
    return static_cast<int>(std::count_if(jobs.begin(), jobs.end(), [&](const Job& job) {
      return std::find(job.stages.begin(), job.stages.end(), stage) != job.stages.end();
    }));
  }

  int RunningHolding(const std::string& stage) {
    JobFilter filter;
    filter.state = JobState::kRunning;
    PageRequest page;
    page.limit = 1000;
    return Holding(Ok(catalog_->ListJobs(filter, page)).items, stage);
  }
};

TEST_P(CatalogContractTest, AClaimWithStageLimitsChecksThem) {
  ClaimRequest request = Limited("w1", 1, {Cap("semantics", 2), Cap("semantics", 3)});
  auto twice = catalog_->ClaimJobs(request);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, ErrorCode::kInvalidArgument) << twice.error().ToString();
  request.limits = {Cap("", 1)};
  EXPECT_FALSE(catalog_->ClaimJobs(request));
  request.limits = {Cap("semantics", -1)};
  EXPECT_FALSE(catalog_->ClaimJobs(request));
  request.limits = {Rate("semantics", 1, 0)};
  EXPECT_FALSE(catalog_->ClaimJobs(request));
}

TEST_P(StageLimitsTest, AStageCapLeavesItsJobsQueuedAndTakesTheJobsBehindThem) {
  // Jobs of the capped stage first in claim order; unrelated jobs behind them.
  Queue("s", 4, {"semantics"}, kLivePriority);
  Queue("p", 3, {"probe"}, kBackfillPriority);
  const std::vector<StageLimit> limits = {Cap("semantics", 2)};
  std::vector<Job> first = Ok(catalog_->ClaimJobs(Limited("w1", 3, limits)));
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0].stages, Stages{"semantics"});
  EXPECT_EQ(first[1].stages, Stages{"semantics"});
  EXPECT_EQ(first[2].stages, Stages{"probe"}) << "the cap does not hold back other work";

  // Another worker (a separate connection) sees the two running and takes only probes.
  auto other = env_->Connect(clock_);
  ASSERT_TRUE(other) << other.error().ToString();
  std::vector<Job> second = Ok((*other)->ClaimJobs(Limited("w2", 10, limits)));
  ASSERT_EQ(second.size(), 2u);
  for (const auto& job : second) EXPECT_EQ(job.stages, Stages{"probe"});
  EXPECT_TRUE(Ok((*other)->ClaimJobs(Limited("w2", 10, limits))).empty());

  // The two over the cap wait queued; a claim without limits would take them.
  ClaimRequest unlimited = Limited("w3", 10, {});
  EXPECT_EQ(Ok(catalog_->ClaimJobs(unlimited)).size(), 2u);
}

TEST_P(StageLimitsTest, AFreedSlotIsTakenByTheNextJobOfTheStage) {
  Queue("s", 5, {"semantics"}, kLivePriority);
  const std::vector<StageLimit> limits = {Cap("semantics", 2)};
  std::vector<Job> running = Ok(catalog_->ClaimJobs(Limited("w1", 10, limits)));
  ASSERT_EQ(running.size(), 2u);
  EXPECT_TRUE(Ok(catalog_->ClaimJobs(Limited("w2", 10, limits))).empty());

  Ok(catalog_->FinishJob(running[0].id, "w1", {}));
  std::vector<Job> next = Ok(catalog_->ClaimJobs(Limited("w2", 10, limits)));
  ASSERT_EQ(next.size(), 1u) << "one slot freed, one job taken";
  EXPECT_EQ(RunningHolding("semantics"), 2);

  // Finishing and claiming in one transaction counts the finished job out first.
  std::vector<Job> chained =
      Ok(catalog_->FinishJobAndClaim(running[1].id, "w1", {}, Limited("w1", 10, limits)));
  ASSERT_EQ(chained.size(), 1u);
  EXPECT_EQ(RunningHolding("semantics"), 2);

  // A job given back or requeued by a worker frees its slot too.
  Ok(catalog_->ReleaseJob(next[0].id, "w2"));
  EXPECT_EQ(RunningHolding("semantics"), 1);
  EXPECT_EQ(Ok(catalog_->ClaimJobs(Limited("w3", 10, limits))).size(), 1u);
  EXPECT_EQ(RunningHolding("semantics"), 2);
}

TEST_P(StageLimitsTest, AJobHoldingSeveralLimitedStagesNeedsRoomInEach) {
  Queue("both", 2, {"probe", "semantics"}, kLivePriority);
  Queue("s", 2, {"semantics"}, kBackfillPriority);
  Queue("p", 2, {"probe"}, kBackfillPriority);
  const std::vector<StageLimit> limits = {Cap("semantics", 1), Cap("probe", 2)};
  std::vector<Job> claimed = Ok(catalog_->ClaimJobs(Limited("w1", 10, limits)));
  // both0 takes a slot of each; both1 and the semantics-only jobs find semantics full;
  // one probe-only job takes probe's second slot.
  ASSERT_EQ(claimed.size(), 2u);
  EXPECT_EQ(claimed[0].stages, (Stages{"probe", "semantics"}));
  EXPECT_EQ(claimed[1].stages, Stages{"probe"});
  EXPECT_EQ(RunningHolding("semantics"), 1);
  EXPECT_EQ(RunningHolding("probe"), 2);
  EXPECT_TRUE(Ok(catalog_->ClaimJobs(Limited("w2", 10, limits))).empty());
}

TEST_P(StageLimitsTest, ARateAllowsThatManyStartsInAnyWindowOfTheClock) {
  Queue("s", 8, {"semantics"}, kLivePriority);
  Queue("p", 1, {"probe"}, kBackfillPriority);
  const std::vector<StageLimit> limits = {Rate("semantics", 2, 60 * kSecond)};
  std::vector<Job> first = Ok(catalog_->ClaimJobs(Limited("w1", 10, limits)));
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(Holding(first, "semantics"), 2);
  EXPECT_EQ(Holding(first, "probe"), 1) << "a rate holds back only its stage";
  // Finishing does not give a start back: the rate counts starts, not running jobs.
  for (const auto& job : first) Ok(catalog_->FinishJob(job.id, "w1", {}));
  EXPECT_TRUE(Ok(catalog_->ClaimJobs(Limited("w1", 10, limits))).empty());

  clock_.Advance(30 * kSecond);
  auto other = env_->Connect(clock_);
  ASSERT_TRUE(other) << other.error().ToString();
  EXPECT_TRUE(Ok((*other)->ClaimJobs(Limited("w2", 10, limits))).empty())
      << "another worker shares the window";
  clock_.Advance(30 * kSecond - 1);
  EXPECT_TRUE(Ok((*other)->ClaimJobs(Limited("w2", 10, limits))).empty())
      << "one microsecond short of the window";
  clock_.Advance(1);
  std::vector<Job> second = Ok((*other)->ClaimJobs(Limited("w2", 1, limits)));
  ASSERT_EQ(second.size(), 1u) << "the first starts have left the window";
  clock_.Advance(10 * kSecond);
  EXPECT_EQ(Ok(catalog_->ClaimJobs(Limited("w1", 10, limits))).size(), 1u)
      << "one start of the window left";
  EXPECT_TRUE(Ok(catalog_->ClaimJobs(Limited("w1", 10, limits))).empty());
  clock_.Advance(50 * kSecond);
  EXPECT_EQ(Ok(catalog_->ClaimJobs(Limited("w1", 10, limits))).size(), 1u)
      << "the start at 60 s has left; the one at 70 s has not";
}

TEST_P(StageLimitsTest, ACapAndARateTogetherTakeTheLowerAllowance) {
  Queue("s", 6, {"semantics"}, kLivePriority);
  const std::vector<StageLimit> limits = {
      {"semantics", 3, {4, 60 * kSecond}},
  };
  std::vector<Job> first = Ok(catalog_->ClaimJobs(Limited("w1", 10, limits)));
  ASSERT_EQ(first.size(), 3u) << "the cap";
  for (const auto& job : first) Ok(catalog_->FinishJob(job.id, "w1", {}));
  EXPECT_EQ(Ok(catalog_->ClaimJobs(Limited("w1", 10, limits))).size(), 1u) << "the rate";
}

TEST_P(StageLimitsTest, ConcurrentClaimsOnSeparateConnectionsNeverExceedTheCap) {
  Queue("s", 24, {"semantics"}, kLivePriority);
  const std::vector<StageLimit> limits = {Cap("semantics", 3)};
  constexpr int kClaimers = 8;
  std::vector<std::unique_ptr<Catalog>> connections;
  for (int i = 0; i < kClaimers; ++i) {
    auto connection = env_->Connect(clock_);
    ASSERT_TRUE(connection) << connection.error().ToString();
    connections.push_back(std::move(*connection));
  }
  // Every claimer claims at once, again and again, and finishes nothing: a claim that
  // slipped past the cap would stay running for the count below to see.
  std::atomic<int> ready{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClaimers; ++i) {
    threads.emplace_back([&, i] {
      ++ready;
      while (ready.load() < kClaimers) std::this_thread::yield();
      for (int round = 0; round < 4; ++round) {
        if (!connections[i]->ClaimJobs(Limited("w" + std::to_string(i), 1, limits))) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(RunningHolding("semantics"), 3);
}

INSTANTIATE_TEST_SUITE_P(Backends, StageLimitsTest, ::testing::ValuesIn(CatalogBackends()),
                         BackendName);

}  // namespace
}  // namespace reprise::catalog
