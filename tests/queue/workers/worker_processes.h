// WorkerProcessTest: the fixture of the tests that run real `reprise` processes (worker,
// serve, backfill) against one catalog and blob store, as deployed: media generated with
// FFmpeg, ingest through the command line, children started in the background and
// signalled mid-job, states waited for with deadlines. The stores are named by URL
// (catalog_url_, blob_url_; by default SQLite and a directory under the data folder) and
// given to the children through REPRISE_CATALOG_URL / REPRISE_BLOB_URL plus backend_env_,
// so one fixture serves the single-machine and the scale-out (PostgreSQL + S3) tests.
#pragma once

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/app.h"
#include "app/backends/builtin_backends.h"
#include "queue/enqueue.h"
#include "tests/queue/workers/child_process.h"
#include "tests/support/test_support.h"

namespace reprise {

class WorkerProcessTest : public ::testing::Test {
 protected:
  // `count` distinct one-frame MJPEG videos (each frame of a generated clip is its own
  // file), in one ffmpeg run: cheap and every one a real video to probe and thumbnail.
  // The luma pattern repeats every 256 frames, the chroma tells those rounds apart.
  std::string MakeMedia(int count) {
    std::string dir = input_.Join("media");
    std::filesystem::create_directories(dir);
    double seconds = count / 25.0;
    EXPECT_TRUE(testing::Ffmpeg(
        {"-f", "lavfi", "-i",
         "color=c=black:size=64x48:rate=25:duration=" + std::to_string(seconds) +
             ",format=yuv420p,geq=lum='mod(N*3+X,256)':cb='128+20*floor(N/256)':cr=128",
         "-c:v", "mjpeg", "-q:v", "5", "-f", "segment", "-segment_time", "0.001",
         "-reset_timestamps", "1", dir + "/clip%03d.avi"}));
    size_t made = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
      made += entry.is_regular_file();
    EXPECT_EQ(made, static_cast<size_t>(count));
    return dir;
  }

  testing::CommandResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), {REPRISE_BINARY, "--data", data_.path()});
    return testing::RunCommand(args, ChildEnv());
  }

  // Ingests with the command line, then makes sure every asset's stages are queued (a
  // no-op where ingest already queued them), as `reprise process` would.
  void Ingest(const std::string& dir, int expected) {
    auto result = Run({"ingest", dir, "--json"});
    ASSERT_EQ(result.exit_code, 0) << result.output;
    EXPECT_EQ(nlohmann::json::parse(result.out)["summary"]["added"], expected);
    stages::Registry registry;
    ASSERT_TRUE(app::FillRegistry(registry, nlohmann::json::object()));
    auto counts = queue::EnqueueDue(Catalog(), registry, {});
    ASSERT_TRUE(counts) << counts.error().ToString();
    EXPECT_EQ(counts->assets_due, expected);
    ASSERT_EQ(Jobs(catalog::JobState::kQueued).size(), static_cast<size_t>(expected));
  }

  std::unique_ptr<testing::ChildProcess> StartWorker(const std::string& name,
                                                     std::vector<std::string> args) {
    args.insert(args.begin(), "worker");
    return StartReprise(name, std::move(args));
  }

  std::unique_ptr<testing::ChildProcess> StartReprise(const std::string& name,
                                                      std::vector<std::string> args,
                                                      std::vector<std::string> env = {}) {
    args.insert(args.begin(), {REPRISE_BINARY, "--data", data_.path()});
    auto base = ChildEnv();
    env.insert(env.begin(), base.begin(), base.end());
    auto child = std::make_unique<testing::ChildProcess>(args, env, logs_.Join(name + ".log"));
    EXPECT_TRUE(child->started());
    return child;
  }

  // The catalog and blob store the children use, opened by URL like theirs.
  catalog::Catalog& Catalog() {
    if (!catalog_) {
      auto opened = app::BuiltinBackends().OpenCatalog(CatalogUrl(), clock_, false, "test");
      EXPECT_TRUE(opened) << opened.error().ToString();
      catalog_ = std::move(*opened);
    }
    return *catalog_;
  }

  blob::BlobStore& Blobs() {
    if (!blobs_) {
      auto opened = app::BuiltinBackends().OpenBlobStore(BlobUrl(), true, "test");
      EXPECT_TRUE(opened) << opened.error().ToString();
      blobs_ = std::move(*opened);
    }
    return *blobs_;
  }

  // Every key the blob store holds under `prefix`.
  std::set<std::string> StoredKeys(const std::string& prefix) {
    std::set<std::string> keys;
    auto listed = Blobs().List(prefix, [&](const blob::BlobInfo& info) {
      keys.insert(info.key);
      return true;
    });
    EXPECT_TRUE(listed) << listed.error().ToString();
    return keys;
  }

  std::string CatalogUrl() const {
    return catalog_url_.empty() ? "sqlite:" + data_.Join("catalog.db") : catalog_url_;
  }
  std::string BlobUrl() const {
    return blob_url_.empty() ? "fs:" + data_.Join("blobs") : blob_url_;
  }

  // What every child gets: short polls, and the stores when they are not the defaults.
  std::vector<std::string> ChildEnv() const {
    std::vector<std::string> env = kEnv;
    if (!catalog_url_.empty()) env.push_back("REPRISE_CATALOG_URL=" + catalog_url_);
    if (!blob_url_.empty()) env.push_back("REPRISE_BLOB_URL=" + blob_url_);
    env.insert(env.end(), backend_env_.begin(), backend_env_.end());
    return env;
  }

  std::vector<catalog::Job> Jobs(std::optional<catalog::JobState> state = std::nullopt) {
    std::vector<catalog::Job> jobs;
    catalog::JobFilter filter;
    filter.state = state;
    catalog::PageRequest page;
    page.limit = 500;
    do {
      auto batch = Catalog().ListJobs(filter, page);
      EXPECT_TRUE(batch) << batch.error().ToString();
      if (!batch) break;
      jobs.insert(jobs.end(), batch->items.begin(), batch->items.end());
      page.cursor = batch->next_cursor;
    } while (!page.cursor.empty());
    return jobs;
  }

  // Every job final (none queued, none running), within the deadline.
  bool WaitAllFinal(std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (Jobs(catalog::JobState::kQueued).empty() && Jobs(catalog::JobState::kRunning).empty())
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  // Waits until the worker is seen running a job, then freezes it with SIGSTOP and
  // returns the jobs it holds (frozen, it can finish none of them). With `mid_stage`,
  // only once one of those jobs has a stage attempt under way (a derivative row running).
  std::vector<catalog::Job> FreezeMidJob(testing::ChildProcess& worker, bool mid_stage = false) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Busy(mid_stage)) {
        worker.Signal(SIGSTOP);
        // Stopped for sure once /proc says so (the signal is asynchronous).
        WaitStopped(worker.pid());
        if (Busy(mid_stage)) return Jobs(catalog::JobState::kRunning);
        worker.Signal(SIGCONT);  // it finished in between: look again
      }
    }
    ADD_FAILURE() << "never saw a running job";
    return {};
  }

  bool Busy(bool mid_stage) {
    auto running = Jobs(catalog::JobState::kRunning);
    if (!mid_stage) return !running.empty();
    for (const auto& job : running) {
      auto rows = Catalog().ListDerivatives(job.asset_id);
      if (!rows) continue;
      for (const auto& row : *rows) {
        if (row.state == catalog::DerivativeState::kRunning) return true;
      }
    }
    return false;
  }

  static void WaitStopped(pid_t pid) {
    std::string path = "/proc/" + std::to_string(pid) + "/stat";
    for (int i = 0; i < 2000; ++i) {
      std::string stat = testing::ReadFile(path);
      auto close = stat.rfind(')');
      if (close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'T') return;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ADD_FAILURE() << "process " << pid << " did not stop";
  }

  // Per (asset, stage): exactly one current row, done; every blob of a done row exists.
  void ExpectOneCurrentResultEach(const std::vector<std::string>& stages) {
    catalog::PageRequest page;
    page.limit = 500;
    int assets = 0;
    do {
      auto batch = Catalog().ListAssets({}, page);
      ASSERT_TRUE(batch);
      for (const auto& asset : batch->items) {
        ++assets;
        auto rows = Catalog().ListDerivatives(asset.id);
        ASSERT_TRUE(rows);
        for (const auto& stage : stages) {
          int current = 0;
          for (const auto& row : *rows) {
            if (row.stage != stage || !row.current) continue;
            ++current;
            EXPECT_EQ(row.state, catalog::DerivativeState::kDone);
          }
          EXPECT_EQ(current, 1) << asset.id << " " << stage;
        }
        for (const auto& row : *rows) {
          if (row.state != catalog::DerivativeState::kDone) continue;
          for (const auto& blob : row.blobs) {
            auto exists = Blobs().Exists(blob.key);
            EXPECT_TRUE(exists && *exists) << blob.key;
          }
        }
      }
      page.cursor = batch->next_cursor;
    } while (!page.cursor.empty());
    EXPECT_GT(assets, 0);
  }

  // Starts worker `name` with `lease` and expects it to adopt backfill `id` (left without
  // a driver) and finish it.
  void ExpectAdoptedAndFinished(int64_t id, const std::string& name, const std::string& lease) {
    auto worker = StartWorker(name, {"--concurrency", "2", "--lease", lease});
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    catalog::BackfillState state = catalog::BackfillState::kRunning;
    while (std::chrono::steady_clock::now() < deadline &&
           state == catalog::BackfillState::kRunning) {
      auto backfill = Catalog().GetBackfill(id, {});
      ASSERT_TRUE(backfill) << backfill.error().ToString();
      state = backfill->state;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    worker->Signal(SIGTERM);
    ASSERT_EQ(worker->Wait(std::chrono::seconds(60)), 0) << Log(name);
    ASSERT_EQ(state, catalog::BackfillState::kSucceeded) << Log(name);
    EXPECT_NE(Log(name).find("event=adopted"), std::string::npos) << Log(name);
  }

  // job id -> how many times a worker log says it started.
  std::map<int64_t, int> Starts(const std::vector<std::string>& names) {
    std::map<int64_t, int> starts;
    std::regex started("job=([0-9]+) event=start");
    for (const auto& name : names) {
      std::string log = testing::ReadFile(logs_.Join(name + ".log"));
      for (std::sregex_iterator it(log.begin(), log.end(), started), end; it != end; ++it) {
        ++starts[std::stoll((*it)[1])];
      }
    }
    return starts;
  }

  std::string Log(const std::string& name) { return testing::ReadFile(logs_.Join(name + ".log")); }

  // Short polls so idle workers notice work and each other quickly.
  const std::vector<std::string> kEnv = {"REPRISE_QUEUE_POLL_SECONDS=0.02"};
  testing::TempDir data_;
  testing::TempDir input_;
  testing::TempDir logs_;
  SystemClock clock_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<blob::BlobStore> blobs_;
  // Empty: the defaults under data_ (what a single machine runs on).
  std::string catalog_url_;
  std::string blob_url_;
  std::vector<std::string> backend_env_;  // "NAME=value" for the children (credentials)
};

}  // namespace reprise
