// `reprise serve` end to end: a file ingested by the command line is processed by the
// server's own workers, the event log shows what happened, and the webhook configured in
// reprise.toml reaches a receiver this test runs, signed.

#include <sys/wait.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/webhook_signature.h"
#include "tests/queue/workers/child_process.h"
#include "tests/support/test_support.h"

namespace reprise {
namespace {

using testing::ChildProcess;
using testing::TempDir;

constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

TEST(ServeWebhooks, AProcessedUploadReachesTheConfiguredReceiverSignedAndIsInTheEventLog) {
  // The receiver: keeps what it got, verified with the core verifier.
  std::mutex mutex;
  std::condition_variable arrived;
  std::vector<nlohmann::json> bodies;
  std::vector<std::string> rejected;
  httplib::Server receiver;
  receiver.Post("/hook", [&](const httplib::Request& request, httplib::Response& response) {
    const std::string id = request.get_header_value("webhook-id");
    const std::string timestamp = request.get_header_value("webhook-timestamp");
    const std::string signature = request.get_header_value("webhook-signature");
    const WebhookSecret secrets[] = {*WebhookSecret::Parse(kSecret)};
    auto verified =
        VerifyWebhook(secrets, {id, timestamp, signature}, request.body, SystemClock().NowMicros());
    std::lock_guard lock(mutex);
    if (verified) {
      bodies.push_back(nlohmann::json::parse(request.body));
    } else {
      rejected.push_back(verified.error().message);
    }
    response.status = verified ? 204 : 401;
    arrived.notify_all();
  });
  const int receiver_port = receiver.bind_to_any_port("127.0.0.1");
  std::thread listening([&] { receiver.listen_after_bind(); });
  while (!receiver.is_running()) std::this_thread::yield();

  TempDir data;
  TempDir input;
  TempDir logs;
  testing::WriteFile(
      data.Join("reprise.toml"),
      "[[webhooks.subscriptions]]\nurl = \"http://127.0.0.1:" + std::to_string(receiver_port) +
          "/hook\"\nsecret = \"" + kSecret + "\"\nevents = [\"asset.ready\", \"asset.failed\"]\n");
  const std::vector<std::string> env = {"REPRISE_QUEUE_POLL_SECONDS=0.02",
                                        "REPRISE_PIPELINE_STAGES=probe",
                                        "REPRISE_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES=1"};
  const std::string clip = input.Join("clip.avi");
  ASSERT_TRUE(testing::Ffmpeg({"-f", "lavfi", "-i", "color=c=black:size=64x48:rate=25:duration=0.2",
                               "-c:v", "mjpeg", clip}));
  auto ingested = testing::RunCommand({REPRISE_BINARY, "--data", data.path(), "ingest", clip}, env);
  ASSERT_EQ(ingested.exit_code, 0) << ingested.output;

  ChildProcess server({REPRISE_BINARY, "--data", data.path(), "serve", "--listen", "127.0.0.1:0",
                       "--concurrency", "1"},
                      env, logs.Join("serve.log"));
  ASSERT_TRUE(server.started());
  const int port = testing::WaitForServingPort(server);
  ASSERT_GT(port, 0);
  {
    std::unique_lock lock(mutex);
    arrived.wait_for(lock, std::chrono::seconds(60), [&] { return !bodies.empty(); });
    ASSERT_EQ(bodies.size(), 1u) << testing::ReadFile(server.log_path());
    EXPECT_TRUE(rejected.empty());
    EXPECT_EQ(bodies[0]["type"], "asset.ready");
    EXPECT_EQ(bodies[0]["data"]["owner"], "local");
  }

  // The whole log from the start, over the live stream until the job's end shows up
  // (the webhook may arrive before the worker has finished the job).
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(60);
  std::string stream;
  auto streamed =
      client.Get("/api/v1/events", {{"Last-Event-ID", "0"}}, [&](const char* bytes, size_t size) {
        stream.append(bytes, size);
        return stream.find("event: job.finished") == std::string::npos;
      });
  std::vector<std::string> types;
  std::regex event_line(R"(event: ([a-z.]+))");
  for (std::sregex_iterator it(stream.begin(), stream.end(), event_line), end; it != end; ++it) {
    types.push_back((*it)[1]);
  }
  EXPECT_EQ(types, (std::vector<std::string>{"asset.created", "asset.processing", "asset.ready",
                                             "job.finished"}))
      << stream;

  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(std::chrono::seconds(60)), 0) << testing::ReadFile(server.log_path());
  receiver.stop();
  listening.join();
}

}  // namespace
}  // namespace reprise
