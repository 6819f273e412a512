// `reprise tokens` and serve's token rule through the real binary: a created token is
// printed once, never listed, and revoking it is seen by a running server; `serve`
// refuses an address beyond loopback while no token exists and starts once one does.

#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/queue/workers/child_process.h"
#include "tests/support/test_support.h"

namespace reprise {
namespace {

using nlohmann::json;
using testing::ChildProcess;
using testing::CommandResult;

class TokensCliTest : public ::testing::Test {
 protected:
  CommandResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), {REPRISE_BINARY, "--data", data_.Join("data")});
    return testing::RunCommand(args);
  }

  json RunJson(std::vector<std::string> args) {
    args.push_back("--json");
    CommandResult result = Run(args);
    EXPECT_EQ(result.exit_code, 0) << result.output;
    try {
      return json::parse(result.out);
    } catch (const json::exception& e) {
      ADD_FAILURE() << "not JSON: " << e.what() << "\n" << result.output;
      return json();
    }
  }

  // `reprise serve` in the background; its log goes to a file in the test's directory.
  std::unique_ptr<ChildProcess> StartServe(const std::string& listen) {
    auto server = std::make_unique<ChildProcess>(
        std::vector<std::string>{REPRISE_BINARY, "--data", data_.Join("data"), "serve", "--listen",
                                 listen, "--no-workers"},
        std::vector<std::string>{}, data_.Join("serve.log"));
    EXPECT_TRUE(server->started());
    return server;
  }

  int WaitForPort(ChildProcess& server) {
    int port = testing::WaitForServingPort(server);
    if (port == 0) {
      ADD_FAILURE() << "the server never said where it listens: "
                    << testing::ReadFile(server.log_path());
    }
    return port;
  }

  // The status of GET `path` on 127.0.0.1:port with `token` (none when empty).
  static int Status(int port, const std::string& path, const std::string& token = {}) {
    httplib::Client client("127.0.0.1", port);
    if (!token.empty()) client.set_bearer_token_auth(token.c_str());
    auto response = client.Get(path.c_str());
    return response ? response->status : -1;
  }

  // Polls until `condition` holds (a running server sees catalog changes within its
  // token cache's 5 s); false at the deadline.
  static bool Eventually(const std::function<bool()>& condition) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (condition()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  testing::TempDir data_;
};

const std::regex kToken("rpt_[A-Za-z0-9_-]{43}");

TEST_F(TokensCliTest, CreatePrintsTheTokenOnceAndListNeverShowsIt) {
  CommandResult created = Run({"tokens", "create", "--owner", "alice", "--name", "laptop"});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(created.out, match, kToken)) << created.out;
  const std::string token = match[0];
  EXPECT_NE(created.out.find("will not be shown again"), std::string::npos) << created.out;
  EXPECT_NE(created.out.find("owner alice"), std::string::npos) << created.out;

  json admin = RunJson({"tokens", "create", "--admin"});
  EXPECT_TRUE(std::regex_match(admin["token"].get<std::string>(), kToken)) << admin;
  EXPECT_EQ(admin["admin"], true);
  EXPECT_EQ(admin["owner"], nullptr) << "an admin token may have no owner";

  CommandResult listed = Run({"tokens", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_NE(listed.out.find("laptop"), std::string::npos) << listed.out;
  EXPECT_FALSE(std::regex_search(listed.output, kToken)) << listed.output;
  json list = RunJson({"tokens", "list"});
  ASSERT_EQ(list.size(), 2u) << list;
  EXPECT_FALSE(std::regex_search(list.dump(), kToken)) << list;
  EXPECT_EQ(list[0]["name"], "laptop");
  EXPECT_EQ(list[0]["owner"], "alice");
  EXPECT_EQ(list[0]["state"], "active");
  EXPECT_EQ(list[1]["name"], "admin");
  // Nothing the library keeps holds the token either (the catalog, its WAL, ...).
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(data_.Join("data"))) {
    if (!entry.is_regular_file()) continue;
    ++files;
    EXPECT_EQ(testing::ReadFile(entry.path().string()).find(token), std::string::npos)
        << entry.path();
  }
  EXPECT_GT(files, 0);
}

TEST_F(TokensCliTest, CreateNeedsAnOwnerUnlessAdmin) {
  CommandResult missing = Run({"tokens", "create", "--name", "x"});
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.err.find("--owner"), std::string::npos) << missing.err;
  EXPECT_FALSE(std::regex_search(missing.output, kToken));
}

TEST_F(TokensCliTest, RevokeMarksTheTokenRevokedAndUnknownIdsAreUsageErrors) {
  json alice = RunJson({"tokens", "create", "--owner", "alice"});
  const std::string id = std::to_string(alice["id"].get<int64_t>());
  CommandResult revoked = Run({"tokens", "revoke", id});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.output;
  EXPECT_NE(revoked.out.find("revoked"), std::string::npos) << revoked.out;
  json list = RunJson({"tokens", "list"});
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["state"], "revoked");
  EXPECT_TRUE(list[0]["revoked_at"].is_string());
  EXPECT_EQ(Run({"tokens", "revoke", "999"}).exit_code, 2);
}

TEST_F(TokensCliTest, ServeBeyondLoopbackNeedsATokenAndThenRequiresIt) {
  // Under `timeout`: a server that wrongly starts must fail the test, not hang it.
  CommandResult refused =
      testing::RunCommand({"timeout", "30", REPRISE_BINARY, "--data", data_.Join("data"), "serve",
                           "--listen", "0.0.0.0:0", "--no-workers"});
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.err.find("without API tokens"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("reprise tokens create"), std::string::npos) << refused.err;

  json alice = RunJson({"tokens", "create", "--owner", "alice"});
  json admin = RunJson({"tokens", "create", "--admin"});
  auto server = StartServe("0.0.0.0:0");
  int port = WaitForPort(*server);
  ASSERT_GT(port, 0);
  EXPECT_EQ(Status(port, "/healthz"), 200);
  EXPECT_EQ(Status(port, "/api/v1/tokens"), 401);
  EXPECT_EQ(Status(port, "/api/v1/tokens", alice["token"]), 403);
  EXPECT_EQ(Status(port, "/api/v1/tokens", admin["token"]), 200);

  // Revoked with the command line while the server runs: refused within the cache bound.
  ASSERT_EQ(Run({"tokens", "revoke", std::to_string(admin["id"].get<int64_t>())}).exit_code, 0);
  EXPECT_TRUE(Eventually([&] { return Status(port, "/api/v1/tokens", admin["token"]) == 401; }));
  // Every token revoked: a server beyond loopback stays closed.
  ASSERT_EQ(Run({"tokens", "revoke", std::to_string(alice["id"].get<int64_t>())}).exit_code, 0);
  EXPECT_TRUE(Eventually([&] { return Status(port, "/api/v1/tokens", alice["token"]) == 401; }));
  EXPECT_EQ(Status(port, "/api/v1/tokens"), 401);

  server->Signal(SIGTERM);
  EXPECT_EQ(server->Wait(std::chrono::seconds(30)), 0) << testing::ReadFile(server->log_path());
}

TEST_F(TokensCliTest, ServeOnLoopbackWithoutTokensIsOpenUntilOneIsCreated) {
  auto server = StartServe("127.0.0.1:0");
  int port = WaitForPort(*server);
  ASSERT_GT(port, 0);
  EXPECT_NE(testing::ReadFile(server->log_path()).find("treated as an admin"), std::string::npos);
  EXPECT_EQ(Status(port, "/api/v1/tokens"), 200) << "open: an admin without a token";

  // Created by another process, without a restart: the server requires tokens from then.
  json alice = RunJson({"tokens", "create", "--owner", "alice"});
  EXPECT_TRUE(Eventually([&] { return Status(port, "/api/v1/tokens") == 401; }));
  EXPECT_EQ(Status(port, "/api/v1/tokens", alice["token"]), 403);

  server->Signal(SIGTERM);
  EXPECT_EQ(server->Wait(std::chrono::seconds(30)), 0) << testing::ReadFile(server->log_path());
}

}  // namespace
}  // namespace reprise
