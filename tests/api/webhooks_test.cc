// Outgoing webhooks over real HTTP on loopback: the subscription routes (owner-scoped),
// and deliveries sent by a WebhookRunner to a receiver this test starts, which checks
// every signature with the core verifier.

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/webhook_signature.h"
#include "net/webhook_sender.h"
#include "services/webhook_runner.h"
#include "services/webhooks.h"
#include "tests/support/api_server.h"

namespace reprise {
namespace {

using testing::ApiServer;
using testing::JsonOf;

constexpr auto kPatience = std::chrono::seconds(20);  // a hang guard, not a measurement

http::Router::Options TwoOwners() {
  http::Router::Options options;
  options.authenticate = [](std::string_view token) -> Result<services::Caller> {
    if (token == "tokA") return services::Caller::Owner("a");
    if (token == "tokB") return services::Caller::Owner("b");
    if (token == "admin") return services::Caller::Admin("admin");
    return Fail(ErrorCode::kNotFound, "unknown token");
  };
  return options;
}

// Receivers in these tests listen on loopback, which the default rules refuse.
void AllowPrivate(Config& config) { config.webhooks.allow_private_addresses = true; }

catalog::NewAsset Asset(const std::string& id, const std::string& owner) {
  catalog::NewAsset asset;
  asset.id = id;
  asset.owner = owner;
  asset.source = catalog::AssetSource::kUpload;
  asset.sha256_hex = "sha-" + id;
  asset.cid = "cid-" + id;
  asset.size_bytes = 1;
  asset.original_key = "originals/" + id;
  asset.original_name = id + ".wav";
  asset.source_uri = id + ".wav";
  asset.media.kind = catalog::AssetKind::kAudio;
  return asset;
}

httplib::Result PostJson(httplib::Client& client, const std::string& path,
                         const nlohmann::json& body) {
  return client.Post(path, body.dump(), "application/json");
}

// A webhook receiver on 127.0.0.1: answers each request with the next status of
// `statuses` (the last one repeats) after checking its signature under `secret`.
class Receiver {
 public:
  Receiver(std::string secret, std::vector<int> statuses)
      : secret_(*WebhookSecret::Parse(secret)), statuses_(std::move(statuses)) {
    server_.Post("/hook", [this](const httplib::Request& request, httplib::Response& response) {
      const std::string id = request.get_header_value("webhook-id");
      const std::string timestamp = request.get_header_value("webhook-timestamp");
      const std::string signature = request.get_header_value("webhook-signature");
      WebhookHeaders headers{id, timestamp, signature};
      const WebhookSecret secrets[] = {secret_};
      std::lock_guard lock(mutex_);
      auto verified = VerifyWebhook(secrets, headers, request.body, SystemClock().NowMicros());
      if (!verified) failures_.push_back(verified.error().message);
      ids_.push_back(id);
      bodies_.push_back(request.body);
      int status = statuses_[std::min(ids_.size() - 1, statuses_.size() - 1)];
      response.status = verified ? status : 401;
      changed_.notify_all();
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the listener runs would be lost (httplib 0.11), and it runs at once.
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  void WaitRequests(size_t n) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, kPatience, [&] { return ids_.size() >= n; });
  }
  std::vector<std::string> ids() {
    std::lock_guard lock(mutex_);
    return ids_;
  }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mutex_);
    return bodies_;
  }
  std::vector<std::string> failures() {
    std::lock_guard lock(mutex_);
    return failures_;
  }

 private:
  WebhookSecret secret_;
  std::vector<int> statuses_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> ids_;
  std::vector<std::string> bodies_;
  std::vector<std::string> failures_;
};

// A runner over the test server's catalog with millisecond backoff; WaitFinal() waits
// for a delivery to end, told by the runner's attempt observer.
class Runner {
 public:
  Runner(ApiServer& api, int max_attempts) {
    services::WebhookRunnerOptions options;
    options.max_attempts = max_attempts;
    options.backoff_base = std::chrono::milliseconds(2);
    options.backoff_max = std::chrono::milliseconds(10);
    options.on_attempt = [this](const catalog::WebhookDelivery& delivery) {
      std::lock_guard lock(mutex_);
      if (delivery.state != catalog::DeliveryState::kPending) ++finished_;
      changed_.notify_all();
    };
    net::WebhookSenderOptions sender;
    sender.timeout = std::chrono::milliseconds(5000);
    sender.addresses = services::WebhookAddressRules(api.app().config().webhooks);
    runner_ = std::make_unique<services::WebhookRunner>(
        api.app().catalog(), std::make_unique<net::CurlWebhookSender>(sender),
        api.app().event_bell(), api.app().clock(), random_, options, MakeNullLogger());
    auto started = runner_->Start();
    EXPECT_TRUE(started) << started.error().ToString();
  }
  ~Runner() { runner_->Stop(); }
  bool WaitFinished(int n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kPatience, [&] { return finished_ >= n; });
  }

 private:
  SeededRandom random_{7};
  std::mutex mutex_;
  std::condition_variable changed_;
  int finished_ = 0;
  std::unique_ptr<services::WebhookRunner> runner_;
};

// Subscriptions and their delivery log live in the catalog: on each pair of ApiBackends().
class WebhooksApi : public ::testing::TestWithParam<testing::ApiBackend> {};
INSTANTIATE_TEST_SUITE_P(Backends, WebhooksApi, ::testing::ValuesIn(testing::ApiBackends()),
                         testing::ApiBackendName);

TEST_P(WebhooksApi, SubscriptionsAreOwnerScopedAndTheSecretIsShownOnce) {
  ApiServer api(GetParam(), AllowPrivate, TwoOwners());
  ASSERT_TRUE(api.ok());
  auto a = api.Client("tokA");
  auto created = PostJson(*a, "/api/v1/webhooks/subscriptions",
                          {{"url", "http://127.0.0.1:9/hook"}, {"events", {"asset.ready"}}});
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  auto body = JsonOf(created);
  EXPECT_EQ(body["owner"], "a");
  EXPECT_TRUE(body["secret"].get<std::string>().starts_with("whsec_"));
  EXPECT_TRUE(WebhookSecret::Parse(body["secret"].get<std::string>()));
  const std::string path = "/api/v1/webhooks/subscriptions/" + body["id"].dump();
  EXPECT_EQ(created->get_header_value("Location"), path);

  auto shown = JsonOf(a->Get(path));
  EXPECT_EQ(shown["url"], "http://127.0.0.1:9/hook");
  EXPECT_FALSE(shown.contains("secret"));
  EXPECT_EQ(JsonOf(a->Get("/api/v1/webhooks/subscriptions"))["subscriptions"].size(), 1u);

  auto b = api.Client("tokB");
  EXPECT_EQ(JsonOf(b->Get("/api/v1/webhooks/subscriptions"))["subscriptions"].size(), 0u);
  std::vector<httplib::Result> refused;
  refused.push_back(b->Get(path));
  refused.push_back(b->Get(path + "/deliveries"));
  refused.push_back(b->Delete(path));
  for (const auto& response : refused) {
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 404) << response->body;
  }
  auto for_a =
      PostJson(*b, "/api/v1/webhooks/subscriptions",
               {{"url", "http://127.0.0.1:9/"}, {"events", {"asset.ready"}}, {"owner", "a"}});
  ASSERT_TRUE(for_a);
  EXPECT_EQ(for_a->status, 403);

  auto admin = api.Client("admin");
  auto everyone = PostJson(*admin, "/api/v1/webhooks/subscriptions",
                           {{"url", "https://example.invalid/in"},
                            {"events", {"backfill.finished"}},
                            {"secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}});
  ASSERT_TRUE(everyone);
  ASSERT_EQ(everyone->status, 201) << everyone->body;
  EXPECT_EQ(JsonOf(everyone)["secret"], "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  EXPECT_EQ(JsonOf(admin->Get("/api/v1/webhooks/subscriptions"))["subscriptions"].size(), 2u);

  auto gone = a->Delete(path);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 204);
  auto after = a->Get(path);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 404);
}

TEST_P(WebhooksApi, BadSubscriptionsAreRefusedNamingTheProblem) {
  ApiServer api(GetParam(), {}, TwoOwners());
  ASSERT_TRUE(api.ok());
  auto a = api.Client("tokA");
  struct Case {
    nlohmann::json body;
    std::string says;
  } cases[] = {
      {{{"url", "ftp://x/"}, {"events", {"asset.ready"}}}, "http"},
      {{{"url", "http://x/"}, {"events", {"job.finished"}}}, "job.finished"},
      {{{"url", "http://x/"}, {"events", nlohmann::json::array()}}, "event"},
      {{{"url", "http://x/"}, {"events", {"asset.ready"}}, {"secret", "hunter2"}}, "secret"},
      {{{"url", "http://x/"}, {"events", {"asset.ready"}}, {"colour", "red"}}, "colour"},
      {{{"events", {"asset.ready"}}}, "url"},
  };
  for (const auto& c : cases) {
    auto response = PostJson(*a, "/api/v1/webhooks/subscriptions", c.body);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 400) << c.body.dump();
    EXPECT_NE(response->body.find(c.says), std::string::npos) << response->body;
  }
}

TEST_P(WebhooksApi, ADeliveryIsSignedRetriedWithBackoffAndLogged) {
  ApiServer api(GetParam(), AllowPrivate, TwoOwners());
  ASSERT_TRUE(api.ok());
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  Receiver receiver(secret, {500, 500, 200});
  auto a = api.Client("tokA");
  auto created =
      JsonOf(PostJson(*a, "/api/v1/webhooks/subscriptions",
                      {{"url", receiver.url()}, {"events", {"asset.ready"}}, {"secret", secret}}));
  const std::string path = "/api/v1/webhooks/subscriptions/" + created["id"].dump();

  Runner runner(api, /*max_attempts=*/5);
  auto& catalog = api.app().catalog();
  ASSERT_TRUE(catalog.InsertAsset(Asset("a1", "a")));
  ASSERT_TRUE(catalog.InsertAsset(Asset("b1", "b")));
  ASSERT_TRUE(catalog.SetAssetStatus("b1", catalog::AssetStatus::kReady));  // not a's
  ASSERT_TRUE(catalog.SetAssetStatus("a1", catalog::AssetStatus::kReady));
  ASSERT_TRUE(runner.WaitFinished(1));

  receiver.WaitRequests(3);
  EXPECT_TRUE(receiver.failures().empty()) << receiver.failures().front();
  auto ids = receiver.ids();
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0], ids[1]) << "a retry keeps its webhook-id, so receivers can dedupe";
  EXPECT_EQ(ids[1], ids[2]);
  auto sent = nlohmann::json::parse(receiver.bodies()[0]);
  EXPECT_EQ(sent["type"], "asset.ready");
  EXPECT_EQ(sent["data"]["asset_id"], "a1");
  EXPECT_EQ(receiver.bodies()[2], receiver.bodies()[0]);

  auto log = JsonOf(a->Get(path + "/deliveries"));
  ASSERT_EQ(log["deliveries"].size(), 1u);
  auto delivery = log["deliveries"][0];
  EXPECT_EQ(delivery["state"], "succeeded");
  EXPECT_EQ(delivery["webhook_id"], ids[0]);
  EXPECT_EQ(delivery["attempts"], 3);
  EXPECT_EQ(delivery["last_status"], 200);
  ASSERT_EQ(delivery["attempt_log"].size(), 3u);
  EXPECT_EQ(delivery["attempt_log"][0]["status"], 500);
  EXPECT_EQ(delivery["attempt_log"][0]["error"], "HTTP 500");
  EXPECT_EQ(delivery["attempt_log"][1]["status"], 500);
  EXPECT_EQ(delivery["attempt_log"][2]["status"], 200);
  EXPECT_EQ(delivery["attempt_log"][2]["error"], "");
}

TEST_P(WebhooksApi, ADeadReceiverEndsFailedAfterTheLastAttempt) {
  ApiServer api(GetParam(), AllowPrivate, TwoOwners());
  ASSERT_TRUE(api.ok());
  std::string dead_url;
  {
    Receiver gone("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", {200});
    dead_url = gone.url();  // its port is closed once it stops
  }
  auto admin = api.Client("admin");
  auto created = JsonOf(PostJson(*admin, "/api/v1/webhooks/subscriptions",
                                 {{"url", dead_url}, {"events", {"asset.failed"}}}));
  Runner runner(api, /*max_attempts=*/3);
  ASSERT_TRUE(api.app().catalog().InsertAsset(Asset("a1", "a")));
  ASSERT_TRUE(api.app().catalog().SetAssetStatus("a1", catalog::AssetStatus::kFailed));
  ASSERT_TRUE(runner.WaitFinished(1));

  auto log =
      JsonOf(admin->Get("/api/v1/webhooks/subscriptions/" + created["id"].dump() + "/deliveries"));
  ASSERT_EQ(log["deliveries"].size(), 1u);
  auto delivery = log["deliveries"][0];
  EXPECT_EQ(delivery["state"], "failed");
  EXPECT_EQ(delivery["attempts"], 3);
  EXPECT_TRUE(delivery["last_status"].is_null());
  ASSERT_EQ(delivery["attempt_log"].size(), 3u);
  for (const auto& attempt : delivery["attempt_log"]) {
    EXPECT_TRUE(attempt["status"].is_null());
    EXPECT_NE(attempt["error"].get<std::string>().find("POST"), std::string::npos) << attempt;
  }
}

TEST_P(WebhooksApi, AnIpLiteralOnTheServersOwnNetworkIsRefusedAtCreation) {
  ApiServer api(GetParam(), {}, TwoOwners());  // the default: private addresses refused
  ASSERT_TRUE(api.ok());
  auto a = api.Client("tokA");
  const std::pair<std::string, std::string> cases[] = {
      {"http://169.254.169.254/latest/meta-data/", "169.254.169.254 (link-local address)"},
      {"http://127.0.0.1:8080/hook", "127.0.0.1 (loopback address)"},
      {"https://[::1]/hook", "::1 (loopback address)"},
      {"http://10.1.2.3/hook", "10.1.2.3 (private address)"},
      {"http://[::ffff:192.168.0.1]/hook", "(private address)"},
  };
  for (const auto& [url, says] : cases) {
    auto response =
        PostJson(*a, "/api/v1/webhooks/subscriptions", {{"url", url}, {"events", {"asset.ready"}}});
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 400) << url;
    auto error = JsonOf(response)["error"];
    EXPECT_EQ(error["code"], "invalid_argument") << response->body;
    const std::string message = error["message"];
    EXPECT_NE(message.find("refused to connect to "), std::string::npos) << message;
    EXPECT_NE(message.find(says), std::string::npos) << message;
    EXPECT_NE(message.find("[webhooks] allow_private_addresses"), std::string::npos) << message;
  }
  EXPECT_EQ(JsonOf(a->Get("/api/v1/webhooks/subscriptions"))["subscriptions"].size(), 0u);
  auto public_one = PostJson(*a, "/api/v1/webhooks/subscriptions",
                             {{"url", "https://93.184.215.14/hook"}, {"events", {"asset.ready"}}});
  ASSERT_TRUE(public_one);
  EXPECT_EQ(public_one->status, 201) << public_one->body;
}

TEST_P(WebhooksApi, ANameResolvingToLoopbackFailsItsDeliveryAtOnceWithTheReason) {
  ApiServer api(GetParam(), {}, TwoOwners());  // the default: private addresses refused
  ASSERT_TRUE(api.ok());
  Receiver receiver("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", {200});
  std::string url = receiver.url();
  url.replace(url.find("127.0.0.1"), 9, "localhost");  // a name: checked when connecting
  auto a = api.Client("tokA");
  auto created =
      PostJson(*a, "/api/v1/webhooks/subscriptions", {{"url", url}, {"events", {"asset.ready"}}});
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;

  Runner runner(api, /*max_attempts=*/5);
  ASSERT_TRUE(api.app().catalog().InsertAsset(Asset("a1", "a")));
  ASSERT_TRUE(api.app().catalog().SetAssetStatus("a1", catalog::AssetStatus::kReady));
  ASSERT_TRUE(runner.WaitFinished(1));

  auto log = JsonOf(
      a->Get("/api/v1/webhooks/subscriptions/" + JsonOf(created)["id"].dump() + "/deliveries"));
  ASSERT_EQ(log["deliveries"].size(), 1u);
  auto delivery = log["deliveries"][0];
  EXPECT_EQ(delivery["state"], "failed") << "a refusal is not retried";
  EXPECT_EQ(delivery["attempts"], 1);
  ASSERT_EQ(delivery["attempt_log"].size(), 1u);
  const std::string error = delivery["attempt_log"][0]["error"];
  EXPECT_NE(error.find("(loopback address) for host localhost"), std::string::npos) << error;
  EXPECT_NE(error.find("[webhooks] allow_private_addresses"), std::string::npos) << error;
  EXPECT_EQ(delivery["last_error"], error);
  EXPECT_TRUE(receiver.ids().empty()) << "no byte reaches a refused receiver";
}

TEST(WebhookRetryDelay, DoublesPerFailureUpToTheCapWithJitterBelowTheCeiling) {
  services::WebhookRunnerOptions options;
  options.backoff_base = std::chrono::seconds(5);
  options.backoff_max = std::chrono::seconds(60);
  SeededRandom random(1);
  const int64_t ceilings[] = {5'000'000,  10'000'000, 20'000'000,
                              40'000'000, 60'000'000, 60'000'000};
  for (int failed = 1; failed <= 6; ++failed) {
    for (int draw = 0; draw < 50; ++draw) {
      int64_t delay = services::RetryDelayMicros(failed, options, random);
      EXPECT_GE(delay, ceilings[failed - 1] / 2) << failed;
      EXPECT_LE(delay, ceilings[failed - 1]) << failed;
    }
  }
  EXPECT_LE(services::RetryDelayMicros(1000, options, random), 60'000'000);
}

}  // namespace
}  // namespace reprise
