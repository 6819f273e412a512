// `reprise worker` processes on one SQLite catalog, as deployed: several at once, one
// killed with SIGKILL in the middle of a job, one stopped with SIGTERM. Real binary, real
// catalog file and blob directory, media generated with FFmpeg. The test reads the
// catalog directly (WAL lets it read while workers write) and waits for states with
// deadlines; a worker is frozen with SIGSTOP when a job of its is seen running, so the
// signal that follows is known to land in the middle of that job (worker_processes.h).
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "http/server.h"
#include "tests/queue/workers/worker_processes.h"

namespace reprise {
namespace {

using catalog::Job;
using catalog::JobState;
using testing::ChildProcess;

TEST_F(WorkerProcessTest, ThreeWorkersBuildEveryDerivativeOfTwoHundredAssetsExactlyOnce) {
  Ingest(MakeMedia(200), 200);

  std::vector<std::unique_ptr<ChildProcess>> workers;
  for (const char* name : {"w1", "w2", "w3"}) {
    workers.push_back(StartWorker(name, {"--concurrency", "2"}));
  }
  ASSERT_TRUE(WaitAllFinal(std::chrono::seconds(120)));
  for (auto& worker : workers) worker->Signal(SIGTERM);
  for (auto& worker : workers) {
    EXPECT_EQ(worker->Wait(std::chrono::seconds(60)), 0) << testing::ReadFile(worker->log_path());
  }

  auto jobs = Jobs();
  ASSERT_EQ(jobs.size(), 200u);
  for (const auto& job : jobs) {
    EXPECT_EQ(job.state, JobState::kSucceeded) << job.id;
    EXPECT_EQ(job.attempts, 1) << "job " << job.id << " was claimed more than once";
  }
  // No job was started twice, by the same worker or by two of them.
  auto starts = Starts({"w1", "w2", "w3"});
  EXPECT_EQ(starts.size(), 200u);
  for (const auto& [id, count] : starts) EXPECT_EQ(count, 1) << "job " << id;

  // Every derivative built exactly once: one attempt row per (asset, stage), done.
  auto assets = Catalog().ListAssets({}, {"", 1000});
  ASSERT_TRUE(assets);
  ASSERT_EQ(assets->items.size(), 200u);
  for (const auto& asset : assets->items) {
    auto rows = Catalog().ListDerivatives(asset.id);
    ASSERT_TRUE(rows);
    std::map<std::string, int> per_stage;
    for (const auto& row : *rows) {
      ++per_stage[row.stage];
      // The clips are silent one-frame videos: the audio stages skip them, and the stages
      // of moving video (scenes, storyboard) skip those that probe as still pictures, each
      // as a result of its own.
      if (row.state == catalog::DerivativeState::kSkipped) {
        EXPECT_TRUE(row.skip_reason == "no_audio_stream" || row.skip_reason == "no_video_stream")
            << asset.id << " " << row.stage << ": " << row.skip_reason;
        EXPECT_FALSE(row.current) << "a skip is recorded, never current";
      } else {
        EXPECT_EQ(row.state, catalog::DerivativeState::kDone) << asset.id << " " << row.stage;
        EXPECT_TRUE(row.current);
      }
    }
    EXPECT_EQ(per_stage.at("probe"), 1) << asset.id;
    for (const auto& [stage, count] : per_stage) EXPECT_EQ(count, 1) << asset.id << " " << stage;
  }
  ExpectOneCurrentResultEach({"probe", "thumbnail"});
}

TEST_F(WorkerProcessTest, AJobOfAWorkerKilledMidwayRunsAgainAfterItsLeaseAndCompletes) {
  Ingest(MakeMedia(40), 40);
  auto doomed = StartWorker("doomed", {"--concurrency", "2", "--lease", "1"});
  std::vector<Job> held = FreezeMidJob(*doomed, /*mid_stage=*/true);
  ASSERT_FALSE(held.empty());
  doomed->Signal(SIGKILL);
  ASSERT_EQ(doomed->Wait(std::chrono::seconds(30)), 128 + SIGKILL);
  for (const auto& job : held) {
    EXPECT_EQ(job.attempts, 1);
    EXPECT_FALSE(job.lease_owner.empty());
  }

  auto rescuer = StartWorker("rescuer", {"--concurrency", "2", "--lease", "1"});
  ASSERT_TRUE(WaitAllFinal(std::chrono::seconds(90)));
  rescuer->Signal(SIGTERM);
  ASSERT_EQ(rescuer->Wait(std::chrono::seconds(60)), 0) << Log("rescuer");
  EXPECT_NE(Log("rescuer").find("whose lease expired"), std::string::npos) << Log("rescuer");

  for (const auto& job : Jobs()) EXPECT_EQ(job.state, JobState::kSucceeded) << job.id;
  for (const auto& before : held) {
    auto after = Catalog().GetJob(before.id, {});
    ASSERT_TRUE(after);
    EXPECT_EQ(after->state, JobState::kSucceeded);
    EXPECT_EQ(after->attempts, 2) << "the killed attempt counts, and it ran once more";
  }
  ExpectOneCurrentResultEach({"probe", "thumbnail"});

  // The rescuer closed what the killed attempts left: no attempt is still marked running,
  // and the blob store holds exactly the files of finished results, no temporary file.
  std::set<std::string> done_keys;
  int abandoned = 0;
  auto assets = Catalog().ListAssets({}, {"", 1000});
  ASSERT_TRUE(assets);
  for (const auto& asset : assets->items) {
    auto rows = Catalog().ListDerivatives(asset.id);
    ASSERT_TRUE(rows);
    for (const auto& row : *rows) {
      EXPECT_NE(row.state, catalog::DerivativeState::kRunning) << asset.id << " " << row.stage;
      if (row.state == catalog::DerivativeState::kDone) {
        for (const auto& blob : row.blobs) done_keys.insert(blob.key);
      }
      abandoned += row.error_message.find("abandoned") != std::string::npos;
    }
  }
  EXPECT_GE(abandoned, 1) << "the killed attempt was found and closed";
  // Originals live under "originals/", results under "assets/".
  std::set<std::string> files = StoredKeys("assets/");
  EXPECT_EQ(files, done_keys);
}

// A foreground `reprise backfill` killed with SIGKILL in the middle, its jobs and its
// driver with it: a `reprise worker` started afterwards adopts the backfill once the
// leases run out and finishes it, every (asset, stage) rebuilt exactly once.
TEST_F(WorkerProcessTest, ABackfillWhoseEveryProcessWasKilledFinishesAfterARestart) {
  Ingest(MakeMedia(40), 40);
  auto first = StartWorker("first", {"--concurrency", "2"});
  ASSERT_TRUE(WaitAllFinal(std::chrono::seconds(90)));
  first->Signal(SIGTERM);
  ASSERT_EQ(first->Wait(std::chrono::seconds(60)), 0) << Log("first");

  auto backfill = StartReprise("backfill",
                               {"--log-level", "info", "backfill", "probe", "thumbnail", "--all",
                                "--yes", "--concurrency", "1"},
                               {"REPRISE_QUEUE_LEASE_SECONDS=1"});
  // Killed once a few items are done and a job is mid-way.
  catalog::BackfillCounts counts;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    auto list = Catalog().ListBackfills({}, 10);
    if (list && !list->empty()) {
      auto found = Catalog().CountBackfillItems(list->front().id);
      if (found && found->Ended() >= 6 && found->active_jobs > 0) {
        counts = *found;
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  backfill->Signal(SIGKILL);
  ASSERT_EQ(backfill->Wait(std::chrono::seconds(30)), 128 + SIGKILL) << Log("backfill");
  ASSERT_GE(counts.Ended(), 6) << Log("backfill");
  auto list = Catalog().ListBackfills({}, 10);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  const int64_t id = list->front().id;
  EXPECT_EQ(list->front().state, catalog::BackfillState::kRunning);
  EXPECT_EQ(counts.total, 80);
  EXPECT_LT(counts.Ended(), 80) << "killed before the end";

  ASSERT_NO_FATAL_FAILURE(ExpectAdoptedAndFinished(id, "restarted", "1"));

  auto ended = Catalog().CountBackfillItems(id);
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->Count(catalog::ItemOutcome::kProcessed), 80);
  // Each pair: the result ingest's jobs made, then exactly one successful rebuild; the
  // killed attempt, if it got as far as a row, is closed as failed, never left running.
  auto assets = Catalog().ListAssets({}, {"", 1000});
  ASSERT_TRUE(assets);
  ASSERT_EQ(assets->items.size(), 40u);
  for (const auto& asset : assets->items) {
    auto rows = Catalog().ListDerivatives(asset.id);
    ASSERT_TRUE(rows);
    std::map<std::string, int> done;
    for (const auto& row : *rows) {
      EXPECT_NE(row.state, catalog::DerivativeState::kRunning) << asset.id;
      if (row.stage == "probe" || row.stage == "thumbnail") {
        done[row.stage] += row.state == catalog::DerivativeState::kDone;
      }
    }
    EXPECT_EQ(done, (std::map<std::string, int>{{"probe", 2}, {"thumbnail", 2}})) << asset.id;
  }
  ExpectOneCurrentResultEach({"probe", "thumbnail"});
}

// Recovery follows the lease of the process that died, not the survivor's settings: the
// killed worker ran with --lease 2, the rescuer, started right after the kill, with the
// default lease (30 s). Before, the rescuer reaped at its start (too early: the lease still
// held) and then every half of its own lease, so the killed job waited about 15 s; now it
// is requeued one poll after its lease expires.
TEST_F(WorkerProcessTest, AKilledWorkersJobIsFinishedByAnotherWithinAboutOneLease) {
  constexpr double kLeaseSeconds = 2;
  Ingest(MakeMedia(40), 40);
  auto doomed = StartWorker("doomed", {"--concurrency", "1", "--lease", "2"});
  std::vector<Job> held = FreezeMidJob(*doomed, /*mid_stage=*/true);
  ASSERT_EQ(held.size(), 1u);
  // Killed at once: frozen, it might hold the catalog's write lock.
  doomed->Signal(SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  ASSERT_EQ(doomed->Wait(std::chrono::seconds(30)), 128 + SIGKILL);

  auto rescuer = StartWorker("rescuer", {"--concurrency", "2"});
  ASSERT_TRUE(WaitAllFinal(std::chrono::seconds(60))) << Log("rescuer");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  RecordProperty("recovered_seconds", std::to_string(seconds));
  auto job = Catalog().GetJob(held[0].id, {});
  ASSERT_TRUE(job);
  EXPECT_EQ(job->state, JobState::kSucceeded);
  EXPECT_EQ(job->attempts, 2);
  EXPECT_EQ(job->last_error_message, "") << "a succeeded job keeps no \"lease expired\"";
  // The lease, one poll, the other jobs and slack for a loaded machine: well under the
  // 15 s the rescuer's own reap interval used to add.
  EXPECT_LT(seconds, 3 * kLeaseSeconds) << Log("rescuer");
  rescuer->Signal(SIGTERM);
  ASSERT_EQ(rescuer->Wait(std::chrono::seconds(60)), 0) << Log("rescuer");
}

// A detached backfill driven by a `reprise worker --lease 2` that is killed: its driver's
// lease lasts that worker's lease (it lasted queue.lease_seconds, 30 s, whatever --lease
// said), `backfill status` says it waits for a worker, and another worker takes it over.
TEST_F(WorkerProcessTest, AKilledWorkersBackfillIsTakenOverAfterItsLeaseAndSaysSoMeanwhile) {
  constexpr double kLeaseSeconds = 2;
  Ingest(MakeMedia(40), 40);
  auto first = StartWorker("first", {"--concurrency", "2"});
  ASSERT_TRUE(WaitAllFinal(std::chrono::seconds(90)));
  first->Signal(SIGTERM);
  ASSERT_EQ(first->Wait(std::chrono::seconds(60)), 0) << Log("first");

  auto started = Run({"backfill", "probe", "thumbnail", "--all", "--yes", "--detach",
                      "--concurrency", "1", "--delay", "0.05"});
  ASSERT_EQ(started.exit_code, 0) << started.output;
  auto list = Catalog().ListBackfills({}, 10);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  const int64_t id = list->front().id;

  auto doomed = StartWorker("doomed", {"--concurrency", "1", "--lease", "2"});
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  catalog::Backfill driven;
  while (std::chrono::steady_clock::now() < deadline) {
    auto backfill = Catalog().GetBackfill(id, {});
    auto counts = Catalog().CountBackfillItems(id);
    ASSERT_TRUE(backfill && counts);
    if (!backfill->driver.empty() && counts->Ended() >= 4) {
      driven = *backfill;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  doomed->Signal(SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  ASSERT_EQ(doomed->Wait(std::chrono::seconds(30)), 128 + SIGKILL);
  ASSERT_FALSE(driven.driver.empty()) << Log("doomed");
  ASSERT_EQ(driven.state, catalog::BackfillState::kRunning);

  // Nobody renews the driver's lease now: it runs out after about one lease.
  deadline = killed + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline &&
         Catalog().GetBackfill(id, {}).value_or(driven).driver_expires_at >= clock_.NowMicros()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  RecordProperty("driver_lease_expired_seconds", std::to_string(seconds));
  EXPECT_LT(seconds, 3 * kLeaseSeconds);
  auto status = Run({"backfill", "status", std::to_string(id)});
  EXPECT_NE(status.out.find("lease expired"), std::string::npos) << status.output;
  EXPECT_NE(status.out.find("waiting for a worker to take it over"), std::string::npos)
      << status.output;
  auto json = Run({"backfill", "status", std::to_string(id), "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.output;
  EXPECT_EQ(nlohmann::json::parse(json.out)["driver_lease"]["waiting_for_worker"], true)
      << json.out;

  ASSERT_NO_FATAL_FAILURE(ExpectAdoptedAndFinished(id, "rescuer", "2"));
}

class WorkerSigtermTest : public WorkerProcessTest,
                          public ::testing::WithParamInterface<const char*> {};

TEST_P(WorkerSigtermTest, SigtermMidJobFinishesOrReleasesItAndExitsZero) {
  Ingest(MakeMedia(30), 30);
  auto worker = StartWorker("worker", {"--concurrency", "1", "--grace", GetParam()});
  std::vector<Job> held = FreezeMidJob(*worker);
  ASSERT_EQ(held.size(), 1u);
  worker->Signal(SIGTERM);
  worker->Signal(SIGCONT);
  ASSERT_EQ(worker->Wait(std::chrono::seconds(60)), 0) << Log("worker");
  EXPECT_NE(Log("worker").find("SIGTERM received"), std::string::npos) << Log("worker");

  EXPECT_TRUE(Jobs(JobState::kRunning).empty()) << "no lease is left behind";
  auto job = Catalog().GetJob(held[0].id, {});
  ASSERT_TRUE(job);
  RecordProperty("held_job_outcome", std::string(catalog::Name(job->state)));
  if (job->state == JobState::kSucceeded) {
    EXPECT_EQ(job->attempts, held[0].attempts) << "finished within the grace period";
  } else {
    EXPECT_EQ(job->state, JobState::kQueued) << "released";
    EXPECT_EQ(job->attempts, held[0].attempts - 1) << "a released attempt does not count";
  }
  // Work left over is still queued for the next worker, none of it lost.
  int64_t succeeded = static_cast<int64_t>(Jobs(JobState::kSucceeded).size());
  int64_t queued = static_cast<int64_t>(Jobs(JobState::kQueued).size());
  EXPECT_EQ(succeeded + queued, 30);
  EXPECT_GT(queued, 0) << "the worker stopped taking jobs";
}

INSTANTIATE_TEST_SUITE_P(Grace, WorkerSigtermTest, ::testing::Values("30", "0"),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                           return std::string(param_info.param) == "0" ? "NoGrace"
                                                                       : "ThirtySeconds";
                         });

// `reprise serve` as deployed: health endpoints answer while its worker pool drains the
// queue, and SIGTERM stops both cleanly.
class ServeTest : public WorkerProcessTest {
 protected:
  // The port the server logged ("serving on http://127.0.0.1:PORT"), within a deadline.
  int WaitForPort(ChildProcess& server) {
    int port = testing::WaitForServingPort(server);
    if (port == 0) ADD_FAILURE() << "the server never said where it listens: " << Log("serve");
    return port;
  }
};

TEST_F(ServeTest, AnswersHealthChecksRunsQueuedJobsAndStopsOnSigterm) {
  Ingest(MakeMedia(12), 12);
  auto server = StartReprise("serve", {"serve", "--listen", "127.0.0.1:0", "--concurrency", "2"});
  int port = WaitForPort(*server);
  ASSERT_GT(port, 0);
  httplib::Client client("127.0.0.1", port);
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health) << httplib::to_string(health.error());
  EXPECT_EQ(health->status, 200);
  auto ready = client.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;
  EXPECT_EQ(nlohmann::json::parse(ready->body)["status"], "ready");

  ASSERT_TRUE(WaitAllFinal(std::chrono::seconds(120))) << Log("serve");
  EXPECT_EQ(Jobs(JobState::kSucceeded).size(), 12u) << "the server's own workers ran the queue";
  ExpectOneCurrentResultEach({"probe", "thumbnail"});

  server->Signal(SIGTERM);
  ASSERT_EQ(server->Wait(std::chrono::seconds(60)), 0) << Log("serve");
  EXPECT_FALSE(client.Get("/healthz")) << "nothing listens after the stop";
}

TEST_F(ServeTest, WithoutWorkersServesButLeavesTheQueueAlone) {
  Ingest(MakeMedia(3), 3);
  auto server = StartReprise("serve", {"serve", "--listen", "127.0.0.1:0", "--no-workers"});
  int port = WaitForPort(*server);
  ASSERT_GT(port, 0);
  httplib::Client client("127.0.0.1", port);
  auto ready = client.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(Jobs(JobState::kQueued).size(), 3u);
  EXPECT_TRUE(Jobs(JobState::kRunning).empty());
  server->Signal(SIGINT);
  ASSERT_EQ(server->Wait(std::chrono::seconds(30)), 0) << Log("serve");
  EXPECT_EQ(Jobs(JobState::kQueued).size(), 3u);
}

TEST_F(ServeTest, AnAddressInUseIsAClearErrorNotAHang) {
  httplib::Server squatter;
  int taken = squatter.bind_to_any_port("127.0.0.1");
  ASSERT_GT(taken, 0);
  auto result = Run({"serve", "--listen", "127.0.0.1:" + std::to_string(taken)});
  EXPECT_EQ(result.exit_code, 3) << result.output;
  EXPECT_NE(result.err.find(std::to_string(taken)), std::string::npos) << result.err;
  auto bad = Run({"serve", "--listen", "nowhere"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
}

}  // namespace
}  // namespace reprise
