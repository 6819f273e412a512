// A service's max_concurrent across real `reprise worker` processes: two workers of four
// slots each transcribe eight recordings through the OpenAI-compatible test server
// (transcript, backend "openai"), the service capped at 2 in [services.speech]. The
// server holds each request until three are in flight at once (or 1.5 s passed), so
// requests pile up to whatever the limit lets through: with the catalog's permits the
// server sees 2 at most, and reaches 2; with limits per process it would see up to 4.
// Run on SQLite and on PostgreSQL.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/queue/workers/worker_processes.h"
#include "tests/support/backends/postgres_test_env.h"
#include "tests/support/openai_test_server.h"

namespace reprise {
namespace {

using catalog::JobState;

class ServiceLimitTest : public WorkerProcessTest, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      pg_ = std::make_unique<catalog::PgTestEnv>();
      catalog_url_ = pg_->Url();
    }
  }

  // `count` distinct recordings of speech: Debian's pocketsphinx-testdata utterances at
  // different volumes, so each is its own asset.
  std::string MakeSpeech(int count) {
    const std::string librivox = "/usr/share/pocketsphinx/test/data/librivox/";
    std::vector<std::string> utterances;
    for (const auto& entry : std::filesystem::directory_iterator(librivox)) {
      if (entry.path().extension() == ".wav") utterances.push_back(entry.path().string());
    }
    std::sort(utterances.begin(), utterances.end());
    EXPECT_FALSE(utterances.empty()) << "pocketsphinx-testdata is not installed";
    std::string dir = input_.Join("speech");
    std::filesystem::create_directories(dir);
    for (int i = 0; i < count && !utterances.empty(); ++i) {
      EXPECT_TRUE(testing::Ffmpeg({"-i", utterances[i % utterances.size()], "-af",
                                   "volume=" + std::to_string(0.5 + 0.1 * i), "-c:a", "flac",
                                   dir + "/speech" + std::to_string(i) + ".flac"}));
    }
    return dir;
  }

  std::unique_ptr<catalog::PgTestEnv> pg_;
};

TEST_P(ServiceLimitTest, TwoWorkerProcessesNeverSendMoreThanTheServiceCapAndReachIt) {
  constexpr int kAssets = 8;
  testing::OpenAiTestServer server;
  server.HoldUntilInFlight(3, std::chrono::milliseconds(1500));
  std::ofstream(data_.Join("reprise.toml"))
      << "[pipeline]\nstages = [\"transcript\"]\n"
         "[services.speech]\nbase_url = \""
      << server.base_url()
      << "\"\napi_key_env = \"SPEECH_TEST_KEY\"\nmax_concurrent = 2\nmax_attempts = 1\n"
         "[stages.transcript]\nbackend = \"openai\"\nmodel = \"test-whisper\"\n"
         "service = \"speech\"\n";
  backend_env_.push_back("SPEECH_TEST_KEY=test-key");
  auto ingested = Run({"ingest", MakeSpeech(kAssets), "--json"});
  ASSERT_EQ(ingested.exit_code, 0) << ingested.output;
  ASSERT_EQ(Jobs(JobState::kQueued).size(), static_cast<size_t>(kAssets));

  const std::vector<std::string> env = {"REPRISE_QUEUE_CONCURRENCY=4",
                                        "REPRISE_QUEUE_RESERVED_LIVE_SHARE=0"};
  std::vector<std::unique_ptr<testing::ChildProcess>> workers;
  for (int i = 0; i < 2; ++i) {
    workers.push_back(StartReprise("worker" + std::to_string(i), {"worker"}, env));
  }
  ASSERT_TRUE(WaitAllFinal(std::chrono::seconds(180))) << Log("worker0") << Log("worker1");
  for (size_t i = 0; i < workers.size(); ++i) {
    workers[i]->Signal(SIGTERM);
    EXPECT_EQ(workers[i]->Wait(std::chrono::seconds(60)), 0) << Log("worker" + std::to_string(i));
  }

  EXPECT_EQ(Jobs(JobState::kSucceeded).size(), static_cast<size_t>(kAssets))
      << Log("worker0") << Log("worker1");
  ExpectOneCurrentResultEach({"transcript"});
  std::vector<testing::OpenAiCall> calls = server.calls();
  ASSERT_GE(calls.size(), static_cast<size_t>(kAssets)) << "a request per voiced recording";
  for (const auto& call : calls) EXPECT_EQ(call.status, 200) << call.path;
  EXPECT_EQ(server.max_in_flight(), 2) << "the cap is reached and never passed";
  // Every permit was given back.
  for (int i = 0; i < 3; ++i) {
    catalog::PermitRequest probe;
    probe.service = "speech";
    probe.holder = "test";
    probe.max_concurrent = 2;
    probe.lease_micros = 1'000'000;
    auto grant = Catalog().AcquireServicePermit(probe);
    ASSERT_TRUE(grant) << grant.error().ToString();
    EXPECT_EQ(grant->granted(), i < 2) << "permit " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Catalogs, ServiceLimitTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "postgres" : "sqlite";
                         });

}  // namespace
}  // namespace reprise
