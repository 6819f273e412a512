// Scale-out as deployed on shared infrastructure: four `reprise worker` processes on one
// PostgreSQL catalog and one S3 bucket (Ceph radosgw), 300 assets, and the failures such
// a deployment meets: a worker killed with SIGKILL mid-job, the database stopped for
// 10 s and started again, the S3 gateway restarted, all while a backfill runs. Each
// test starts servers of its own (scripts/pg_server.sh, scripts/s3_server.sh) so it may
// stop them without disturbing other tests.
//
// What must hold at the end: every job and the backfill finished successfully, the
// backfill's counters add up, each (asset, stage) has exactly the results it should
// (no result doubled, none lost, no attempt left running), and the bucket holds exactly
// the files of finished results: nothing missing, nothing orphaned.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/queue/workers/worker_processes.h"

namespace reprise {
namespace {

using catalog::DerivativeState;
using catalog::Job;
using catalog::JobState;
using testing::ChildProcess;

// A server of this test's own, stopped (and its data removed) when the test ends.
class OwnServer {
 public:
  explicit OwnServer(std::string script) : script_(std::move(script)) {}
  ~OwnServer() { Run("stop"); }
  OwnServer(const OwnServer&) = delete;
  OwnServer& operator=(const OwnServer&) = delete;

  // start, stop, halt or resume: false (with the script's output as a failure) when it failed.
  bool Run(const std::string& action) {
    auto result = testing::RunCommand({script_, action, dir_.path()});
    if (result.exit_code != 0) {
      ADD_FAILURE() << script_ << " " << action << ": " << result.output;
    }
    return result.exit_code == 0;
  }
  std::string Url() const { return Trim(testing::ReadFile(dir_.Join("url"))); }
  // "NAME=value" lines of the env file (none for PostgreSQL).
  std::vector<std::string> Env() const {
    std::vector<std::string> env;
    std::string text =
        std::filesystem::exists(dir_.Join("env")) ? testing::ReadFile(dir_.Join("env")) : "";
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(start, end - start);
      if (line.find('=') != std::string::npos) env.push_back(line);
      start = end + 1;
    }
    return env;
  }

 private:
  static std::string Trim(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
  }

  std::string script_;
  testing::TempDir dir_;
};

class ScaleOutTest : public WorkerProcessTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(postgres_.Run("start"));
    ASSERT_TRUE(s3_.Run("start"));
    catalog_url_ = postgres_.Url();
    blob_url_ = s3_.Url();
    backend_env_ = s3_.Env();
    // The test's own S3 client reads the same credentials.
    for (const auto& line : backend_env_) {
      auto eq = line.find('=');
      ::setenv(line.substr(0, eq).c_str(), line.substr(eq + 1).c_str(), 1);
    }
  }

  // Waits until worker `worker` holds a job with a stage attempt under way, freezes it
  // (SIGSTOP) and returns that job. Other workers keep running.
  std::optional<Job> FreezeWorkerMidStage(ChildProcess& worker) {
    const std::string marker = ":" + std::to_string(worker.pid()) + ":";
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
      auto held = HeldMidStage(marker);
      if (held) {
        worker.Signal(SIGSTOP);
        WaitStopped(worker.pid());
        if (auto still = HeldMidStage(marker); still && still->id == held->id) return still;
        worker.Signal(SIGCONT);  // it finished that one in between: look again
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ADD_FAILURE() << "worker " << worker.pid() << " was never seen mid-stage";
    return std::nullopt;
  }

  std::optional<Job> HeldMidStage(const std::string& marker) {
    for (const auto& job : Jobs(JobState::kRunning)) {
      if (job.lease_owner.find(marker) == std::string::npos) continue;
      auto rows = Catalog().ListDerivatives(job.asset_id);
      if (!rows) continue;
      for (const auto& row : *rows) {
        if (row.state == DerivativeState::kRunning) return job;
      }
    }
    return std::nullopt;
  }

  // Polls the backfill until `done` says so or the deadline passes; the last counts.
  catalog::BackfillCounts WaitForCounts(
      int64_t id,
      const std::function<bool(const catalog::Backfill&, const catalog::BackfillCounts&)>& done,
      std::chrono::seconds timeout) {
    catalog::BackfillCounts last;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto backfill = Catalog().GetBackfill(id, {});
      auto counts = Catalog().CountBackfillItems(id);
      if (backfill && counts) {
        last = *counts;
        if (done(*backfill, *counts)) return last;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "backfill " << id << " did not get there in time; ended " << last.Ended()
                  << " of " << last.total;
    return last;
  }

  OwnServer postgres_{REPRISE_SCRIPTS_DIR "/pg_server.sh"};
  OwnServer s3_{REPRISE_SCRIPTS_DIR "/s3_server.sh"};
};

TEST_F(ScaleOutTest, FourWorkersOnPostgresAndS3SurviveAKillADatabaseRestartAndAGatewayRestart) {
  constexpr int kAssets = 300;
  const std::vector<std::string> kStages = {"probe", "thumbnail"};
  Ingest(MakeMedia(kAssets), kAssets);

  // Phase 1: the ingest's jobs, one worker killed in the middle of a stage.
  std::vector<std::string> names = {"w1", "w2", "w3", "w4", "w5"};
  std::map<std::string, std::unique_ptr<ChildProcess>> workers;
  for (const auto& name : {"w1", "w2", "w3", "w4"}) {
    workers[name] = StartWorker(name, {"--concurrency", "2", "--lease", "2"});
  }
  std::optional<Job> killed_job = FreezeWorkerMidStage(*workers["w1"]);
  ASSERT_TRUE(killed_job);
  workers["w1"]->Signal(SIGKILL);
  ASSERT_EQ(workers["w1"]->Wait(std::chrono::seconds(30)), 128 + SIGKILL);
  workers["w5"] = StartWorker("w5", {"--concurrency", "2", "--lease", "2"});
  ASSERT_TRUE(WaitAllFinal(std::chrono::seconds(300))) << Log("w2");
  auto rescued = Catalog().GetJob(killed_job->id, {});
  ASSERT_TRUE(rescued);
  EXPECT_EQ(rescued->state, JobState::kSucceeded);
  EXPECT_EQ(rescued->attempts, 2) << "the killed attempt counts, and it ran once more";

  // Phase 2: a backfill rebuilding both stages of every asset, driven by the workers;
  // the database goes away for 10 s once a third has ended, the gateway restarts at
  // two thirds.
  auto started =
      Run({"backfill", "probe", "thumbnail", "--all", "--yes", "--detach", "--concurrency", "6"});
  ASSERT_EQ(started.exit_code, 0) << started.output;
  auto list = Catalog().ListBackfills({}, 10);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  const int64_t id = list->front().id;
  const int64_t total = kAssets * static_cast<int64_t>(kStages.size());

  auto at_third = WaitForCounts(
      id, [&](const auto&, const auto& counts) { return counts.Ended() >= total / 3; },
      std::chrono::seconds(300));
  ASSERT_LT(at_third.Ended(), total) << "the outage must fall inside the run";
  ASSERT_TRUE(postgres_.Run("halt"));
  // The outage itself lasts a fixed time: that is the scenario, not a wait for a result.
  std::this_thread::sleep_for(std::chrono::seconds(10));
  ASSERT_TRUE(postgres_.Run("resume"));

  auto at_two_thirds = WaitForCounts(
      id, [&](const auto&, const auto& counts) { return counts.Ended() >= 2 * total / 3; },
      std::chrono::seconds(300));
  ASSERT_LT(at_two_thirds.Ended(), total) << "the gateway restart must fall inside the run";
  ASSERT_TRUE(s3_.Run("halt"));
  ASSERT_TRUE(s3_.Run("resume"));

  WaitForCounts(
      id,
      [](const catalog::Backfill& backfill, const auto&) {
        return backfill.state != catalog::BackfillState::kRunning;
      },
      std::chrono::seconds(300));
  ASSERT_TRUE(WaitAllFinal(std::chrono::seconds(120)));
  for (const auto& [name, worker] : workers) {
    if (name == "w1") continue;
    worker->Signal(SIGTERM);
    EXPECT_EQ(worker->Wait(std::chrono::seconds(60)), 0) << name << ": " << Log(name);
  }
  if (::testing::Test::HasFailure() || std::getenv("REPRISE_KEEP_LOGS") != nullptr) {
    for (const auto& name : names) std::cerr << "----- " << name << "\n" << Log(name);
  }

  // The outages landed inside the run: workers met them (and carried on).
  int unavailable = 0;
  for (const auto& name : names) {
    const std::string log = Log(name);
    for (size_t at = log.find("unavailable"); at != std::string::npos;
         at = log.find("unavailable", at + 1)) {
      ++unavailable;
    }
  }
  EXPECT_GT(unavailable, 0) << Log("w2");
  RecordProperty("unavailable_log_lines", std::to_string(unavailable));

  auto backfill = Catalog().GetBackfill(id, {});
  ASSERT_TRUE(backfill);
  EXPECT_EQ(backfill->state, catalog::BackfillState::kSucceeded) << backfill->stop_reason;
  auto counts = Catalog().CountBackfillItems(id);
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->total, total);
  EXPECT_EQ(counts->Count(catalog::ItemOutcome::kProcessed), total)
      << "failed " << counts->Count(catalog::ItemOutcome::kFailed);
  EXPECT_EQ(counts->Ended(), total);
  for (const auto& job : Jobs()) EXPECT_EQ(job.state, JobState::kSucceeded) << job.id;

  // Per (asset, stage): the ingest's result and the backfill's, nothing more; no attempt
  // left running; the bucket holds exactly the files of finished results.
  std::set<std::string> done_keys;
  std::map<std::string, int> per_stage_done;
  auto assets = Catalog().ListAssets({}, {"", 1000});
  ASSERT_TRUE(assets);
  ASSERT_EQ(assets->items.size(), static_cast<size_t>(kAssets));
  for (const auto& asset : assets->items) {
    auto rows = Catalog().ListDerivatives(asset.id);
    ASSERT_TRUE(rows);
    std::map<std::string, int> done;
    for (const auto& row : *rows) {
      EXPECT_NE(row.state, DerivativeState::kRunning) << asset.id << " " << row.stage;
      if (row.state != DerivativeState::kDone) continue;
      ++done[row.stage];
      for (const auto& blob : row.blobs) done_keys.insert(blob.key);
    }
    for (const auto& stage : kStages) {
      EXPECT_EQ(done[stage], 2) << asset.id << " " << stage << ": one by ingest, one rebuilt";
      per_stage_done[stage] += done[stage];
    }
  }
  ExpectOneCurrentResultEach(kStages);
  EXPECT_EQ(StoredKeys("assets/"), done_keys);
  EXPECT_EQ(StoredKeys("originals/").size(), static_cast<size_t>(kAssets));
  RecordProperty("probe_results", std::to_string(per_stage_done["probe"]));
}

}  // namespace
}  // namespace reprise
