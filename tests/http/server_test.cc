// The server and its router over a real socket on loopback, with the health endpoints
// against a real SQLite catalog and blob directory.
#include "http/server.h"

#include <httplib.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/api_server.h"

namespace reprise::http {
namespace {

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(api_.ok()); }

  httplib::Result Get(const std::string& path) { return api_.Client()->Get(path.c_str()); }

  testing::ApiServer api_;
};

TEST_F(HttpServerTest, HealthzAnswersOk) {
  auto response = Get("/healthz");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(nlohmann::json::parse(response->body)["status"], "ok");
}

TEST_F(HttpServerTest, ReadyzReportsBackendsWhenTheyWork) {
  auto response = Get("/readyz");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200) << response->body;
  auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body["status"], "ready");
  EXPECT_GE(body["catalog"]["schema_version"].get<int>(), 1);
  EXPECT_EQ(body["blob_store"]["backend"], api_.app().blobs().Describe());
}

TEST_F(HttpServerTest, ReadyzIs503WithTheErrorShapeWhenTheBlobStoreCannotWrite) {
  // A folder where the probe blob must go: the atomic rename onto it fails.
  std::filesystem::create_directories(api_.config().data_dir + "/blobs/health/readyz/x");
  auto response = Get("/readyz");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 503);
  auto body = nlohmann::json::parse(response->body);
  ASSERT_TRUE(body.contains("error")) << response->body;
  EXPECT_FALSE(body["error"]["code"].get<std::string>().empty());
  EXPECT_NE(body["error"]["message"].get<std::string>().find("blob store"), std::string::npos);
  EXPECT_EQ(body["error"]["details"]["component"], "blob_store");
}

TEST_F(HttpServerTest, UnknownRoutesGetTheErrorShape) {
  auto response = Get("/nope");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 404);
  auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body["error"]["code"], "not_found");
}

// The kernel's own view of the listening socket: `ss` shows a listener's backlog in its
// Send-Q column. httplib alone listens with 5.
TEST_F(HttpServerTest, ListensWithTheConfiguredBacklog) {
  const std::string command = "ss -ltnH 'sport = :" + std::to_string(api_.port()) + "' 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  ASSERT_TRUE(pipe);
  std::string out;
  char buffer[512];
  while (fgets(buffer, sizeof buffer, pipe.get()) != nullptr) out += buffer;
  // "LISTEN 0      1024   127.0.0.1:PORT 0.0.0.0:*"
  char state[32] = {};
  long queued = -1;
  long backlog = -1;
  ASSERT_EQ(std::sscanf(out.c_str(), "%31s %ld %ld", state, &queued, &backlog), 3) << out;
  EXPECT_STREQ(state, "LISTEN");
  EXPECT_EQ(backlog, ServerOptions{}.listen_backlog) << out;
}

TEST(ParseListenAddress, AcceptsHostPortAndRefusesTheRest) {
  auto v4 = ParseListenAddress("127.0.0.1:8080");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->first, "127.0.0.1");
  EXPECT_EQ(v4->second, 8080);
  auto v6 = ParseListenAddress("[::1]:0");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->first, "::1");
  EXPECT_EQ(v6->second, 0);
  for (const char* bad : {"8080", ":8080", "host:", "host:80x", "host:70000", "host:-1"}) {
    EXPECT_FALSE(ParseListenAddress(bad)) << bad;
  }
}

}  // namespace
}  // namespace reprise::http
