// The auth matrix over real HTTP on loopback, with the authenticator `reprise serve`
// uses (TokensService::CallerOf). The first tests walk api.router().routes(), so every
// route any group adds is covered without being listed here: each non-public route must
// refuse a request without a token, with a malformed Authorization header, with an
// unknown or a revoked token (401, WWW-Authenticate: Bearer, the one error shape), and
// an owner's token on an admin route (403). Path parameters get made-up values.
// The rest: owner A, owner B and admin on the routes of this branch (the token routes),
// and the open mode of a loopback server without tokens.

#include <httplib.h>

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "services/tokens_service.h"
#include "tests/support/api_server.h"

namespace reprise {
namespace {

using http::Access;
using nlohmann::json;
using services::Caller;
using services::TokensService;
using testing::ApiServer;
using testing::JsonOf;

// A server whose routes authenticate with its own App's tokens, as `serve` on loopback.
class AuthApi {
 public:
  AuthApi() : api_({}, Options(tokens_)) { *tokens_ = &api_.app().tokens(); }
  ApiServer& api() { return api_; }
  TokensService& tokens() { return **tokens_; }

  std::string Create(const std::string& owner, bool admin = false) {
    auto created = tokens().Create(Caller::Admin(), owner, admin, "");
    EXPECT_TRUE(created) << created.error().ToString();
    return created ? created->token : std::string();
  }

 private:
  static http::Router::Options Options(const std::shared_ptr<TokensService*>& tokens) {
    http::Router::Options options;
    options.authenticate = [tokens](std::string_view token) {
      return (*tokens)->CallerOf(token, /*open_allowed=*/true);
    };
    return options;
  }

  std::shared_ptr<TokensService*> tokens_ = std::make_shared<TokensService*>(nullptr);
  ApiServer api_;
};

// The route's pattern with made-up values for its parameters.
std::string MadeUpPath(const std::string& pattern) {
  std::string path =
      std::regex_replace(pattern, std::regex(R"(\{[A-Za-z_]+\.\.\.\})"), "made-up/key-0000.bin");
  return std::regex_replace(path, std::regex(R"(\{[A-Za-z_]+\})"), "9999999");
}

// A request to `route` at a made-up path, with a JSON body unless it is a GET.
httplib::Request MakeRequest(const http::RouteInfo& route,
                             const std::optional<std::string>& authorization) {
  httplib::Request request;
  request.method = route.method;
  request.path = MadeUpPath(route.pattern);
  if (authorization) request.headers.emplace("Authorization", *authorization);
  if (route.method != "GET") {
    request.headers.emplace("Content-Type", "application/json");
    request.body = "{}";
  }
  return request;
}

httplib::Result Send(const ApiServer& api, const http::RouteInfo& route,
                     const std::optional<std::string>& authorization) {
  return api.Client()->send(MakeRequest(route, authorization));
}

// The status of a request that got past authentication, read from the response head
// alone: a route that streams (server-sent events) never ends its body.
int StatusOnly(const ApiServer& api, const http::RouteInfo& route,
               const std::string& authorization) {
  httplib::Request request = MakeRequest(route, authorization);
  int status = -1;
  request.response_handler = [&status](const httplib::Response& response) {
    status = response.status;
    return false;  // stop after the head
  };
  auto ignored = api.Client()->send(request);
  (void)ignored;
  return status;
}

std::string Describe(const http::RouteInfo& route, const std::optional<std::string>& header) {
  return route.method + " " + route.pattern + " with " +
         (header ? "Authorization: " + *header : std::string("no Authorization header"));
}

void ExpectErrorShape(const httplib::Result& response, const std::string& code,
                      const std::string& context) {
  json body = JsonOf(response);
  ASSERT_TRUE(body.is_object()) << context;
  ASSERT_TRUE(body.contains("error")) << context << ": " << body;
  EXPECT_EQ(body["error"]["code"], code) << context << ": " << body;
  EXPECT_TRUE(body["error"]["message"].is_string()) << context << ": " << body;
  EXPECT_TRUE(body["error"]["details"].is_object()) << context << ": " << body;
}

class AuthMatrixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.api().ok());
    alice_ = server_.Create("alice");
    bob_ = server_.Create("bob");
    admin_ = server_.Create("", true);
    revoked_ = server_.Create("alice");
    auto tokens = server_.tokens().List(Caller::Admin());
    ASSERT_TRUE(tokens);
    ASSERT_TRUE(server_.tokens().Revoke(Caller::Admin(), tokens->back().id));
  }

  std::vector<http::RouteInfo> Guarded() {
    std::vector<http::RouteInfo> routes;
    for (const auto& route : server_.api().router().routes()) {
      if (route.access != Access::kPublic) routes.push_back(route);
    }
    return routes;
  }

  AuthApi server_;
  std::string alice_, bob_, admin_, revoked_;
};

TEST_F(AuthMatrixTest, EveryNonPublicRouteRefusesRequestsWithoutAValidToken) {
  const std::vector<std::optional<std::string>> refused = {
      std::nullopt,                                            // no header
      "Basic YWxpY2U6c2VjcmV0",                                // another scheme
      "Bearer",                                                // no token
      "Bearer ",                                               // an empty token
      alice_,                                                  // a token without its scheme
      "Bearer " + alice_ + " extra",                           // trailing words
      "Bearer rpt_unknown",                                    // not shaped like a token
      "Bearer " + std::string("rpt_") + std::string(43, 'A'),  // shaped, but unknown
      "Bearer " + revoked_,                                    // revoked
  };
  auto routes = Guarded();
  ASSERT_FALSE(routes.empty()) << "this branch has admin routes (tokens) at least";
  for (const auto& route : routes) {
    for (const auto& header : refused) {
      const std::string context = Describe(route, header);
      auto response = Send(server_.api(), route, header);
      ASSERT_TRUE(response) << context;
      EXPECT_EQ(response->status, 401) << context << ": " << response->body;
      EXPECT_EQ(response->get_header_value("WWW-Authenticate"), "Bearer") << context;
      ExpectErrorShape(response, "unauthenticated", context);
    }
  }
}

TEST_F(AuthMatrixTest, AnOwnerTokenOnAnAdminRouteIsForbiddenAndAdminPassesEveryRoute) {
  int admin_routes = 0;
  for (const auto& route : Guarded()) {
    for (const auto& token : {alice_, bob_}) {
      const std::string context = Describe(route, "Bearer " + token);
      if (route.access == Access::kAdmin) {
        auto response = Send(server_.api(), route, "Bearer " + token);
        ASSERT_TRUE(response) << context;
        EXPECT_EQ(response->status, 403) << context << ": " << response->body;
        ExpectErrorShape(response, "permission_denied", context);
      } else {
        int status = StatusOnly(server_.api(), route, "Bearer " + token);
        EXPECT_GT(status, 0) << context;
        EXPECT_NE(status, 401) << context;
      }
    }
    for (const std::string& header : {"Bearer " + admin_, "bearer " + admin_}) {
      int status = StatusOnly(server_.api(), route, header);
      EXPECT_GT(status, 0) << Describe(route, header);
      EXPECT_NE(status, 401) << Describe(route, header);
      EXPECT_NE(status, 403) << Describe(route, header);
    }
    admin_routes += route.access == Access::kAdmin ? 1 : 0;
  }
  EXPECT_GE(admin_routes, 3) << "the token routes are admin routes";
}

TEST_F(AuthMatrixTest, PublicRoutesNeedNoToken) {
  for (const char* path : {"/healthz", "/readyz"}) {
    auto response = server_.api().Client()->Get(path);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200) << path << ": " << response->body;
    auto with_bad = server_.api().Client("rpt_nonsense")->Get(path);
    ASSERT_TRUE(with_bad);
    EXPECT_EQ(with_bad->status, 200) << "a public route ignores a bad token";
  }
}

// The routes of this branch by caller: owner A, owner B, admin.
TEST_F(AuthMatrixTest, TokenRoutesAreForAdminsOnly) {
  auto as_admin = server_.api().Client(admin_);
  auto listed = as_admin->Get("/api/v1/tokens");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->status, 200) << listed->body;
  json tokens = JsonOf(listed);
  ASSERT_EQ(tokens.size(), 4u);
  EXPECT_EQ(tokens[0]["owner"], "alice");
  EXPECT_EQ(tokens[0]["state"], "active");
  EXPECT_EQ(tokens[3]["state"], "revoked");
  EXPECT_EQ(listed->body.find(alice_), std::string::npos) << "a list never shows a token";
  EXPECT_EQ(listed->body.find(alice_.substr(4, 20)), std::string::npos);
  EXPECT_FALSE(tokens[0].contains("token"));

  for (const auto& owner_token : {alice_, bob_}) {
    auto client = server_.api().Client(owner_token);
    EXPECT_EQ(client->Get("/api/v1/tokens")->status, 403);
    EXPECT_EQ(client->Post("/api/v1/tokens", R"({"owner":"alice"})", "application/json")->status,
              403)
        << "an owner cannot mint tokens, not even for itself";
    EXPECT_EQ(client->Delete("/api/v1/tokens/1")->status, 403)
        << "nor revoke one, not even its own";
  }
  EXPECT_TRUE(server_.tokens().Authenticate(alice_)) << "the refused revoke changed nothing";

  // Admin creates a token for bob over HTTP; it works at once and is shown this once.
  auto created =
      as_admin->Post("/api/v1/tokens", R"({"owner":"bob","name":"ci"})", "application/json");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  EXPECT_EQ(created->get_header_value("Cache-Control"), "no-store");
  json doc = JsonOf(created);
  EXPECT_EQ(doc["owner"], "bob");
  EXPECT_EQ(doc["name"], "ci");
  const std::string bob_ci = doc["token"];
  auto caller = server_.tokens().Authenticate(bob_ci);
  ASSERT_TRUE(caller);
  EXPECT_EQ(caller->owner, "bob");
  EXPECT_FALSE(caller->admin);

  // Hostile and wrong bodies are named.
  auto unknown =
      as_admin->Post("/api/v1/tokens", R"({"owner":"bob","admn":true})", "application/json");
  EXPECT_EQ(unknown->status, 400);
  EXPECT_NE(unknown->body.find("admn"), std::string::npos) << unknown->body;
  EXPECT_EQ(as_admin->Post("/api/v1/tokens", R"({"admin":"yes"})", "application/json")->status,
            400);
  EXPECT_EQ(as_admin->Post("/api/v1/tokens", R"({"name":"no owner"})", "application/json")->status,
            400);

  // Revoking: unknown ids are 404, a revoked token is refused at once.
  EXPECT_EQ(as_admin->Delete("/api/v1/tokens/9999")->status, 404);
  EXPECT_EQ(as_admin->Delete("/api/v1/tokens/not-a-number")->status, 404);
  auto revoked = as_admin->Delete("/api/v1/tokens/" + std::to_string(doc["id"].get<int64_t>()));
  ASSERT_TRUE(revoked);
  EXPECT_EQ(revoked->status, 200) << revoked->body;
  EXPECT_EQ(JsonOf(revoked)["state"], "revoked");
  EXPECT_EQ(server_.api().Client(bob_ci)->Get("/api/v1/tokens")->status, 401);
}

// A loopback server without tokens answers as an admin; the first token closes it.
TEST(AuthOpenModeTest, LoopbackWithoutTokensIsOpenUntilATokenExists) {
  AuthApi server;
  ASSERT_TRUE(server.api().ok());
  auto anonymous = server.api().Client();
  auto listed = anonymous->Get("/api/v1/tokens");
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->status, 200) << "open: every request is an admin";
  auto bad = server.api().Client("rpt_not-a-token")->Get("/api/v1/tokens");
  EXPECT_EQ(bad->status, 401) << "a token that was given is still checked";

  auto created = anonymous->Post("/api/v1/tokens", R"({"owner":"alice"})", "application/json");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  const std::string alice = JsonOf(created)["token"];
  auto closed = anonymous->Get("/api/v1/tokens");
  EXPECT_EQ(closed->status, 401) << "a token exists now: requests without one are refused";
  EXPECT_EQ(server.api().Client(alice)->Get("/api/v1/tokens")->status, 403);
}

}  // namespace
}  // namespace reprise
