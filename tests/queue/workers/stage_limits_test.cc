// The global stage cap across real `reprise worker` processes on PostgreSQL: three
// workers of four slots each, `thumbnail` capped at 2 through the environment
// (REPRISE_STAGES_THUMBNAIL_MAX_RUNNING=2), every job holding thumbnail.
//
// The test gates every job: it holds a row lock (SELECT ... FOR UPDATE, one connection
// per asset) on each asset, so a claimed job stops at its first write to its asset and
// stays running until the test lets it go. Nothing claimed can finish unseen, so the
// number of running jobs the test reads between releases is the number the workers
// claimed: with the cap it reaches 2 and stays there while ten slots poll for work;
// without it the workers claim up to twelve at once. It then releases one job at a time
// and waits for the freed slot to be taken again, until every job has run. No sleep
// decides the outcome: every wait is for a state, with a deadline.
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "tests/queue/workers/worker_processes.h"
#include "tests/support/backends/postgres_test_env.h"

namespace reprise {
namespace {

using catalog::JobState;

class PostgresStageCapTest : public WorkerProcessTest {
 protected:
  void SetUp() override {
    pg_ = std::make_unique<catalog::PgTestEnv>();
    catalog_url_ = pg_->Url();
  }

  // Holds a row lock on the asset until Release(): its job blocks at its first write.
  void Gate(const std::string& asset_id) {
    auto connection = std::make_unique<pqxx::connection>(pg_->Url());
    auto tx = std::make_unique<pqxx::work>(*connection);
    ASSERT_EQ(tx->exec_params("SELECT 1 FROM assets WHERE id = $1 FOR UPDATE", asset_id).size(),
              1u);
    gates_[asset_id] = {std::move(connection), std::move(tx)};
  }

  void Release(const std::string& asset_id) {
    auto it = gates_.find(asset_id);
    ASSERT_NE(it, gates_.end()) << asset_id;
    it->second.tx->commit();
    gates_.erase(it);
  }

  struct Held {
    std::unique_ptr<pqxx::connection> connection;
    std::unique_ptr<pqxx::work> tx;
  };

  std::unique_ptr<catalog::PgTestEnv> pg_;
  std::map<std::string, Held> gates_;
};

TEST_F(PostgresStageCapTest, ThreeWorkerProcessesNeverRunMoreThanTheCapAndReachIt) {
  constexpr int kAssets = 8;
  constexpr size_t kCap = 2;
  Ingest(MakeMedia(kAssets), kAssets);
  for (const auto& job : Jobs(JobState::kQueued)) Gate(job.asset_id);

  const std::vector<std::string> env = {
      "REPRISE_STAGES_THUMBNAIL_MAX_RUNNING=2", "REPRISE_QUEUE_CONCURRENCY=4",
      "REPRISE_QUEUE_RESERVED_LIVE_SHARE=0", "REPRISE_QUEUE_LEASE_SECONDS=600"};
  std::vector<std::unique_ptr<testing::ChildProcess>> workers;
  for (int i = 0; i < 3; ++i) {
    workers.push_back(StartReprise("worker" + std::to_string(i), {"worker"}, env));
  }

  size_t most = 0;
  int finished = 0;
  // Until every job has run: wait for the running set to fill the cap (or all that is
  // left), check it, let one job go, wait for it to end.
  while (finished < kAssets) {
    const size_t want = std::min<size_t>(kCap, static_cast<size_t>(kAssets - finished));
    std::vector<catalog::Job> running;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      running = Jobs(JobState::kRunning);
      most = std::max(most, running.size());
      if (running.size() >= want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_GE(running.size(), want) << "the workers never filled the cap";
    // Ten slots stand idle meanwhile, polling every 20 ms: give them many polls to
    // (wrongly) claim a third job; a job they claimed could not finish and would show.
    for (int look = 0; look < 25; ++look) {
      most = std::max(most, Jobs(JobState::kRunning).size());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_LE(most, kCap) << "more thumbnail jobs ran at once than the cap allows";
    const catalog::Job& next = running.front();
    Release(next.asset_id);
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    bool ended = false;
    while (!ended && std::chrono::steady_clock::now() < deadline) {
      auto job = Catalog().GetJob(next.id, {});
      ASSERT_TRUE(job) << job.error().ToString();
      ended = job->state != JobState::kRunning && job->state != JobState::kQueued;
      most = std::max(most, Jobs(JobState::kRunning).size());
      if (!ended) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(ended) << "job " << next.id << " did not end after its release";
    ++finished;
  }
  std::printf("maximum thumbnail jobs running at once across 3 workers x 4 slots: %zu (cap %zu)\n",
              most, kCap);
  EXPECT_EQ(most, kCap) << "the cap was reached, never passed";
  EXPECT_TRUE(WaitAllFinal(std::chrono::seconds(60)));
  for (const auto& job : Jobs()) EXPECT_EQ(job.state, JobState::kSucceeded) << job.id;
  for (auto& worker : workers) {
    worker->Signal(SIGTERM);
    EXPECT_EQ(worker->Wait(std::chrono::seconds(60)), 0);
  }
}

}  // namespace
}  // namespace reprise
