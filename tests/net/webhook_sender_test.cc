// CurlWebhookSender against receivers this test starts on 127.0.0.1.

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "net/webhook_sender.h"

namespace reprise::net {
namespace {

// An httplib server on a free loopback port, serving until destroyed.
class LocalServer {
 public:
  explicit LocalServer(const std::function<void(httplib::Server&)>& routes) {
    routes(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the listener runs would be lost (httplib 0.11), and it runs at once.
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~LocalServer() { Stop(); }
  void Stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

// Loopback is private: these tests allow the one address their receiver listens on.
WebhookSenderOptions LoopbackReceiver() {
  WebhookSenderOptions options;
  options.addresses.allowed_addresses = {"127.0.0.1"};
  return options;
}

TEST(CurlWebhookSender, PostsTheBodyWithItsHeadersAndReturnsTheStatus) {
  std::mutex mutex;
  httplib::Request seen;
  LocalServer receiver([&](httplib::Server& server) {
    server.Post("/hook", [&](const httplib::Request& request, httplib::Response& response) {
      std::lock_guard lock(mutex);
      seen = request;
      response.status = 202;
      response.set_content("thanks", "text/plain");
    });
  });
  CurlWebhookSender sender(LoopbackReceiver());
  auto status = sender.Post(receiver.Url("/hook"), {{"webhook-id", "dlv_1"}}, R"({"a":1})");
  ASSERT_TRUE(status) << status.error().ToString();
  EXPECT_EQ(*status, 202);
  std::lock_guard lock(mutex);
  EXPECT_EQ(seen.body, R"({"a":1})");
  EXPECT_EQ(seen.get_header_value("webhook-id"), "dlv_1");
  EXPECT_EQ(seen.get_header_value("Content-Type"), "application/json");
}

TEST(CurlWebhookSender, ReturnsErrorStatusesAndDoesNotFollowRedirects) {
  LocalServer receiver([](httplib::Server& server) {
    server.Post("/broken", [](const httplib::Request&, httplib::Response& response) {
      response.status = 503;
    });
    server.Post("/moved", [](const httplib::Request&, httplib::Response& response) {
      response.set_redirect("/broken", 307);
    });
  });
  CurlWebhookSender sender(LoopbackReceiver());
  EXPECT_EQ(sender.Post(receiver.Url("/broken"), {}, "{}").value_or(0), 503);
  EXPECT_EQ(sender.Post(receiver.Url("/moved"), {}, "{}").value_or(0), 307);
}

TEST(CurlWebhookSender, ARefusedConnectionIsUnavailable) {
  LocalServer receiver([](httplib::Server&) {});
  const std::string url = receiver.Url("/hook");
  receiver.Stop();
  auto status = CurlWebhookSender(LoopbackReceiver()).Post(url, {}, "{}");
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(status.error().message.find(url), std::string::npos);
}

TEST(CurlWebhookSender, AReceiverSlowerThanTheTimeoutIsUnavailable) {
  std::mutex mutex;
  std::condition_variable released;
  bool release = false;
  LocalServer receiver([&](httplib::Server& server) {
    server.Post("/slow", [&](const httplib::Request&, httplib::Response& response) {
      std::unique_lock lock(mutex);
      released.wait(lock, [&] { return release; });  // holds the answer until the test ends
      response.status = 200;
    });
  });
  WebhookSenderOptions options = LoopbackReceiver();
  options.timeout = std::chrono::milliseconds(200);
  auto status = CurlWebhookSender(options).Post(receiver.Url("/slow"), {}, "{}");
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  released.notify_all();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(status.error().message.find("timed out"), std::string::npos) << status.error().message;
}

TEST(CurlWebhookSender, OnlyHttpUrlsAreSent) {
  auto status = CurlWebhookSender().Post("file:///etc/passwd", {}, "{}");
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
}

TEST(CurlWebhookSender, PrivateReceiversAreRefusedAtConnectTimeWithoutAByteSent) {
  std::atomic<int> requests{0};
  LocalServer receiver([&](httplib::Server& server) {
    server.Post("/hook", [&](const httplib::Request&, httplib::Response& response) {
      ++requests;
      response.status = 200;
    });
  });
  const std::string port = receiver.Url("").substr(std::string("http://127.0.0.1:").size());
  CurlWebhookSender sender;  // the default rules: no private address at all
  // An IP literal, a name resolving to loopback, and the cloud metadata address.
  const std::pair<std::string, std::string> cases[] = {
      {receiver.Url("/hook"),
       "refused to connect to 127.0.0.1 (loopback address) for host "
       "127.0.0.1"},
      {"http://localhost:" + port + "/hook", "(loopback address) for host localhost"},
      {"http://169.254.169.254/latest/meta-data/", "169.254.169.254 (link-local address)"},
  };
  for (const auto& [url, reason] : cases) {
    auto status = sender.Post(url, {}, "{}");
    ASSERT_FALSE(status) << url;
    EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument) << url;
    EXPECT_NE(status.error().message.find(reason), std::string::npos) << status.error().message;
    EXPECT_NE(status.error().message.find("[webhooks] allow_private_addresses"), std::string::npos)
        << status.error().message;
  }
  EXPECT_EQ(requests.load(), 0);

  WebhookSenderOptions allowed;
  allowed.addresses.allow_private_addresses = true;
  EXPECT_EQ(CurlWebhookSender(allowed).Post(receiver.Url("/hook"), {}, "{}").value_or(0), 200);
  EXPECT_EQ(requests.load(), 1);
}

TEST(CurlWebhookSender, AnAllowedAddressIsTheOnlyPrivateOneReached) {
  LocalServer receiver([](httplib::Server& server) {
    server.Post("/hook", [](const httplib::Request&, httplib::Response& response) {
      response.status = 204;
    });
  });
  WebhookSenderOptions options;
  options.addresses.allowed_addresses = {"127.0.0.2"};
  auto refused = CurlWebhookSender(options).Post(receiver.Url("/hook"), {}, "{}");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(CurlWebhookSender(LoopbackReceiver()).Post(receiver.Url("/hook"), {}, "{}").value_or(0),
            204);
}

}  // namespace
}  // namespace reprise::net
