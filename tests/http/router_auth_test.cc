// The router's authentication step (router.h) with an authenticator that records what
// it was asked: tokens are passed on without their scheme (any case), a request without
// a token asks with an empty one (so a server may be open), a malformed header never
// reaches the authenticator, and public routes never ask.
#include <httplib.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/router.h"
#include "http/server.h"

namespace reprise::http {
namespace {

class RouterAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Router::Options options;
    options.authenticate = [this](std::string_view token) -> Result<services::Caller> {
      std::lock_guard lock(mu_);
      asked_.emplace_back(token);
      if (token.empty() && open_) return services::Caller::Admin("open");
      if (token == "alice") return services::Caller::Owner("alice", "laptop");
      return Fail(ErrorCode::kNotFound, "unknown");
    };
    router_ = std::make_unique<Router>(std::move(options), MakeNullLogger());
    auto whoami = [](RouteRequest& request, httplib::Response& response) -> Result<void> {
      SendJson(response, 200,
               {{"owner", request.caller.owner},
                {"admin", request.caller.admin},
                {"name", request.caller.token_name}});
      return {};
    };
    router_->Add("GET", "/caller", whoami, Access::kCaller);
    router_->Add("GET", "/admin", whoami, Access::kAdmin);
    router_->Add("GET", "/public", whoami, Access::kPublic);
    server_ = std::make_unique<Server>(*router_, ServerOptions{}, MakeNullLogger());
    ASSERT_TRUE(server_->Start("127.0.0.1", 0));
  }

  httplib::Result Get(const std::string& path, const std::string& authorization = {}) {
    httplib::Client client("127.0.0.1", server_->port());
    httplib::Headers headers;
    if (!authorization.empty()) headers.emplace("Authorization", authorization);
    return client.Get(path.c_str(), headers);
  }

  std::vector<std::string> Asked() {
    std::lock_guard lock(mu_);
    return asked_;
  }

  std::mutex mu_;
  std::vector<std::string> asked_;
  std::atomic<bool> open_ = false;
  std::unique_ptr<Router> router_;
  std::unique_ptr<Server> server_;
};

TEST_F(RouterAuthTest, TheTokenIsPassedWithoutItsSchemeInAnyCase) {
  for (const char* header : {"Bearer alice", "bearer alice", "BEARER alice"}) {
    auto response = Get("/caller", header);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200) << header;
    EXPECT_EQ(nlohmann::json::parse(response->body)["owner"], "alice");
  }
  EXPECT_EQ(Asked(), (std::vector<std::string>{"alice", "alice", "alice"}));
}

TEST_F(RouterAuthTest, ARequestWithoutATokenAsksWithAnEmptyOne) {
  auto refused = Get("/caller");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(refused->get_header_value("WWW-Authenticate"), "Bearer");
  EXPECT_NE(refused->body.find("needs 'Authorization: Bearer"), std::string::npos) << refused->body;
  open_ = true;
  auto open = Get("/admin");
  ASSERT_TRUE(open);
  EXPECT_EQ(open->status, 200) << "the authenticator may answer a caller: an open server";
  EXPECT_EQ(nlohmann::json::parse(open->body)["name"], "open");
  EXPECT_EQ(Asked(), (std::vector<std::string>{"", ""}));
}

TEST_F(RouterAuthTest, AMalformedHeaderIsRefusedWithoutAskingEvenWhenOpen) {
  open_ = true;
  for (const char* header : {"Basic YTpi", "Bearer", "Bearer  alice", "Bearer alice x",
                             "Bearer\talice", "Token alice"}) {
    auto response = Get("/caller", header);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 401) << header;
    EXPECT_NE(response->body.find("malformed"), std::string::npos) << response->body;
  }
  EXPECT_TRUE(Asked().empty());
}

// (401 for unknown tokens, 503 and 403 in general: tests/http/router_test.cc.)
TEST_F(RouterAuthTest, PublicRoutesNeverAskAndAnUnknownTokenIsToldApartFromNone) {
  auto pub = Get("/public", "Basic whatever");
  ASSERT_TRUE(pub);
  EXPECT_EQ(pub->status, 200) << "public routes never look at the header";
  auto unknown = Get("/caller", "Bearer nobody");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 401);
  EXPECT_NE(unknown->body.find("unknown or revoked"), std::string::npos) << unknown->body;
  EXPECT_EQ(Asked(), (std::vector<std::string>{"nobody"}));
}

}  // namespace
}  // namespace reprise::http
