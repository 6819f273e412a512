// The Router's shared behaviour over a real socket on loopback: request ids, bearer
// authentication and access levels, body limits, 404 versus 405, path parameters and
// how handler errors become the one error shape.
#include "http/router.h"

#include <httplib.h>

#include <atomic>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/json_body.h"
#include "http/server.h"

namespace reprise::http {
namespace {

class RouterTest : public ::testing::Test {
 protected:
  void Start(Router::Options options) {
    router_ = std::make_unique<Router>(std::move(options), MakeNullLogger());
    router_->Add("GET", "/api/v1/things/{id}",
                 [](RouteRequest& request, httplib::Response& response) -> Result<void> {
                   SendJson(response, 200,
                            {{"id", request.Param("id")},
                             {"owner", request.caller.owner},
                             {"admin", request.caller.admin},
                             {"q", request.Query("q").value_or("-")}});
                   return {};
                 });
    router_->Add(
        "GET", "/files/{key...}",
        [](RouteRequest& request, httplib::Response& response) -> Result<void> {
          SendJson(response, 200, {{"key", request.Param("key")}});
          return {};
        },
        Access::kPublic);
    router_->Add(
        "POST", "/api/v1/admin-only",
        [](RouteRequest&, httplib::Response& response) -> Result<void> {
          SendJson(response, 200, {{"ok", true}});
          return {};
        },
        Access::kAdmin);
    router_->Add("POST", "/api/v1/echo",
                 [](RouteRequest& request, httplib::Response& response) -> Result<void> {
                   auto body = ParseJsonBody(request.body);
                   if (!body) return Fail(body.error());
                   auto fields = JsonFields::Of(*body, {"name", "count"});
                   if (!fields) return Fail(fields.error());
                   auto count = fields->Int("count");
                   if (!count) return Fail(count.error());
                   SendJson(response, 200, {{"count", count->value_or(-1)}});
                   return {};
                 });
    router_->Add("GET", "/api/v1/fails/{code}",
                 [](RouteRequest& request, httplib::Response&) -> Result<void> {
                   if (request.Param("code") == "busy") {
                     return Fail(ErrorCode::kUnavailable, "catalog busy");
                   }
                   if (request.Param("code") == "throw") throw std::runtime_error("boom");
                   return Fail(ErrorCode::kConflict, "already finished");
                 });
    router_->SetObserver([this](const RouteInfo& route, int status, double) {
      if (route.pattern == "/api/v1/things/{id}" && status == 200) ++observed_;
    });
    server_ = std::make_unique<Server>(*router_, ServerOptions{}, MakeNullLogger());
    ASSERT_TRUE(server_->Start("127.0.0.1", 0));
  }

  std::unique_ptr<httplib::Client> Client() {
    auto client = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client->set_connection_timeout(5);
    return client;
  }

  static Router::Options WithTokens() {
    Router::Options options;
    options.max_body_bytes = 64;
    options.authenticate = [](std::string_view token) -> Result<services::Caller> {
      if (token == "tok-a") return services::Caller::Owner("a", "tok-a");
      if (token == "tok-admin") return services::Caller::Admin("tok-admin");
      if (token == "tok-down") return Fail(ErrorCode::kUnavailable, "token store down");
      return Fail(ErrorCode::kNotFound, "unknown token");
    };
    return options;
  }

  std::unique_ptr<Router> router_;
  std::unique_ptr<Server> server_;
  std::atomic<int> observed_{0};
};

TEST_F(RouterTest, PathParametersQueryAndTheCallerReachTheHandler) {
  Start(WithTokens());
  auto client = Client();
  client->set_bearer_token_auth("tok-a");
  auto response = client->Get("/api/v1/things/ast%20x?q=hello");
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body["id"], "ast x");
  EXPECT_EQ(body["owner"], "a");
  EXPECT_EQ(body["admin"], false);
  EXPECT_EQ(body["q"], "hello");
  EXPECT_EQ(observed_.load(), 1);

  auto key = client->Get("/files/derived/ab/cd/thumb.jpg");
  ASSERT_TRUE(key);
  EXPECT_EQ(nlohmann::json::parse(key->body)["key"], "derived/ab/cd/thumb.jpg");
}

TEST_F(RouterTest, RequestIdsAreKeptWhenSaneAndGeneratedOtherwise) {
  Start({});
  auto client = Client();
  auto kept = client->Get("/api/v1/things/1", {{"X-Request-Id", "trace-42.a_b:c"}});
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->get_header_value("X-Request-Id"), "trace-42.a_b:c");

  auto replaced = client->Get("/api/v1/things/1", {{"X-Request-Id", "bad id with spaces"}});
  ASSERT_TRUE(replaced);
  auto generated = replaced->get_header_value("X-Request-Id");
  EXPECT_EQ(generated.size(), 24u);
  EXPECT_NE(generated, "bad id with spaces");

  auto other = client->Get("/api/v1/things/1");
  ASSERT_TRUE(other);
  EXPECT_NE(other->get_header_value("X-Request-Id"), generated);
}

TEST_F(RouterTest, MissingOrUnknownTokensAre401WithAChallenge) {
  Start(WithTokens());
  auto client = Client();
  for (auto headers : {httplib::Headers{}, httplib::Headers{{"Authorization", "Bearer nope"}},
                       httplib::Headers{{"Authorization", "Basic dXNlcjpwYXNz"}},
                       httplib::Headers{{"Authorization", "Bearer "}}}) {
    auto response = client->Get("/api/v1/things/1", headers);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 401);
    EXPECT_EQ(response->get_header_value("WWW-Authenticate"), "Bearer");
    EXPECT_EQ(nlohmann::json::parse(response->body)["error"]["code"], "unauthenticated");
  }
  // A public route needs no token.
  auto open = client->Get("/files/a/b");
  ASSERT_TRUE(open);
  EXPECT_EQ(open->status, 200);
}

TEST_F(RouterTest, AnUnreachableTokenStoreIs503NotUnauthenticated) {
  Start(WithTokens());
  auto client = Client();
  client->set_bearer_token_auth("tok-down");
  auto response = client->Get("/api/v1/things/1");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(response->get_header_value("Retry-After"), "1");
}

TEST_F(RouterTest, AdminRoutesRefuseOwnerTokensWith403) {
  Start(WithTokens());
  auto client = Client();
  client->set_bearer_token_auth("tok-a");
  auto refused = client->Post("/api/v1/admin-only", "", "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  EXPECT_EQ(nlohmann::json::parse(refused->body)["error"]["code"], "permission_denied");

  client->set_bearer_token_auth("tok-admin");
  auto allowed = client->Post("/api/v1/admin-only", "", "application/json");
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->status, 200);
}

TEST_F(RouterTest, WithoutAnAuthenticatorEveryCallerIsAnAdmin) {
  Start({});
  auto response = Client()->Get("/api/v1/things/1");
  ASSERT_TRUE(response);
  EXPECT_EQ(nlohmann::json::parse(response->body)["admin"], true);
}

TEST_F(RouterTest, UnknownPathsAre404AndWrongMethods405WithAllow) {
  Start({});
  auto client = Client();
  auto missing = client->Get("/api/v1/nothing-here");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(nlohmann::json::parse(missing->body)["error"]["code"], "not_found");

  auto wrong = client->Delete("/api/v1/things/1");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->get_header_value("Allow"), "GET");
  EXPECT_EQ(nlohmann::json::parse(wrong->body)["error"]["code"], "method_not_allowed");
}

TEST_F(RouterTest, BodiesOverTheLimitAre413WhetherOrNotTheyDeclareTheirLength) {
  Start(WithTokens());
  auto client = Client();
  client->set_bearer_token_auth("tok-a");
  std::string big = R"({"name":")" + std::string(100, 'x') + R"("})";
  auto declared = client->Post("/api/v1/echo", big, "application/json");
  ASSERT_TRUE(declared);
  EXPECT_EQ(declared->status, 413);
  EXPECT_EQ(nlohmann::json::parse(declared->body)["error"]["code"], "payload_too_large");

  // Chunked: no Content-Length, cut off as it arrives.
  auto chunked = client->Post(
      "/api/v1/echo",
      [&big](size_t offset, httplib::DataSink& sink) {
        if (offset < big.size()) {
          sink.write(big.data() + offset, std::min<size_t>(10, big.size() - offset));
        } else {
          sink.done();
        }
        return true;
      },
      "application/json");
  ASSERT_TRUE(chunked);
  EXPECT_EQ(chunked->status, 413);
}

TEST_F(RouterTest, JsonBodiesAreCheckedStrictly) {
  Start(WithTokens());
  auto client = Client();
  client->set_bearer_token_auth("tok-a");
  auto ok = client->Post("/api/v1/echo", R"({"count": 3})", "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(nlohmann::json::parse(ok->body)["count"], 3);

  auto unknown = client->Post("/api/v1/echo", R"({"cont": 3})", "application/json");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 400);
  auto message = nlohmann::json::parse(unknown->body)["error"]["message"].get<std::string>();
  EXPECT_NE(message.find("'cont'"), std::string::npos) << message;

  auto mistyped = client->Post("/api/v1/echo", R"({"count": "3"})", "application/json");
  ASSERT_TRUE(mistyped);
  EXPECT_EQ(mistyped->status, 400);
  message = nlohmann::json::parse(mistyped->body)["error"]["message"].get<std::string>();
  EXPECT_NE(message.find("'count'"), std::string::npos) << message;
  EXPECT_NE(message.find("integer"), std::string::npos) << message;

  auto malformed = client->Post("/api/v1/echo", R"({"count": )", "application/json");
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->status, 400);
}

TEST_F(RouterTest, HandlerErrorsAndExceptionsBecomeTheErrorShape) {
  Start({});
  auto client = Client();
  auto conflict = client->Get("/api/v1/fails/conflict");
  ASSERT_TRUE(conflict);
  EXPECT_EQ(conflict->status, 409);
  auto body = nlohmann::json::parse(conflict->body);
  EXPECT_EQ(body["error"]["code"], "conflict");
  EXPECT_EQ(body["error"]["message"], "already finished");
  EXPECT_TRUE(body["error"]["details"].is_object());

  auto busy = client->Get("/api/v1/fails/busy");
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->status, 503);
  EXPECT_EQ(busy->get_header_value("Retry-After"), "1");

  auto threw = client->Get("/api/v1/fails/throw");
  ASSERT_TRUE(threw);
  EXPECT_EQ(threw->status, 500);
  EXPECT_EQ(nlohmann::json::parse(threw->body)["error"]["code"], "internal");
}

TEST_F(RouterTest, RoutesListsEveryRouteInOrder) {
  Start({});
  auto routes = router_->routes();
  ASSERT_EQ(routes.size(), 5u);
  EXPECT_EQ(routes[0].method, "GET");
  EXPECT_EQ(routes[0].pattern, "/api/v1/things/{id}");
  EXPECT_EQ(routes[2].access, Access::kAdmin);
}

TEST(JsonBody, RefusesHostileNesting) {
  std::string deep(kMaxJsonDepth + 5, '[');
  deep += std::string(kMaxJsonDepth + 5, ']');
  auto parsed = ParseJsonBody(deep);
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("deeper"), std::string::npos);
  std::string fine(kMaxJsonDepth - 1, '[');
  fine += std::string(kMaxJsonDepth - 1, ']');
  EXPECT_TRUE(ParseJsonBody(fine));
}

TEST(JsonBody, NamesEveryUnknownFieldAndWrongType) {
  auto body = nlohmann::json::parse(R"({"a": 1, "zz": 2, "yy": null})");
  auto fields = JsonFields::Of(body, {"a"});
  ASSERT_FALSE(fields);
  EXPECT_NE(fields.error().message.find("'yy'"), std::string::npos);
  EXPECT_NE(fields.error().message.find("'zz'"), std::string::npos);

  auto typed = nlohmann::json::parse(R"({"s": 5, "b": "yes", "l": ["x", 2], "n": null})");
  auto checked = JsonFields::Of(typed, {"s", "b", "l", "n"});
  ASSERT_TRUE(checked);
  EXPECT_FALSE(checked->String("s"));
  EXPECT_FALSE(checked->Bool("b"));
  EXPECT_FALSE(checked->Strings("l"));
  auto absent = checked->Int("n");
  ASSERT_TRUE(absent);
  EXPECT_FALSE(absent->has_value());
  EXPECT_FALSE(ParseJsonBody("  "));
  EXPECT_FALSE(JsonFields::Of(nlohmann::json::array(), {}));
}

}  // namespace
}  // namespace reprise::http

namespace reprise::http {
namespace {

TEST(RouterSpecificity, ALiteralPathBeatsAParameterWhateverTheOrderAdded) {
  Router router({}, MakeNullLogger());
  auto answer = [](std::string name) {
    return [name](RouteRequest& request, httplib::Response& response) -> Result<void> {
      SendJson(response, 200, {{"route", name}, {"param", request.Param("source")}});
      return {};
    };
  };
  router.Add("POST", "/api/v1/webhooks/{source}", answer("incoming"), Access::kPublic);
  router.Add("POST", "/api/v1/webhooks/subscriptions", answer("subscriptions"));
  router.Add("GET", "/files/{key...}", answer("rest"), Access::kPublic);
  router.Add("GET", "/files/{a}/meta", answer("meta"), Access::kPublic);
  Server server(router, ServerOptions{}, MakeNullLogger());
  ASSERT_TRUE(server.Start("127.0.0.1", 0));
  httplib::Client client("127.0.0.1", server.port());
  auto route_of = [](const httplib::Result& response) {
    return response ? nlohmann::json::parse(response->body)["route"].get<std::string>()
                    : std::string("no answer");
  };
  EXPECT_EQ(route_of(client.Post("/api/v1/webhooks/subscriptions", "{}", "application/json")),
            "subscriptions");
  auto incoming = client.Post("/api/v1/webhooks/replicate", "{}", "application/json");
  EXPECT_EQ(route_of(incoming), "incoming");
  EXPECT_EQ(nlohmann::json::parse(incoming->body)["param"], "replicate");
  EXPECT_EQ(route_of(client.Get("/files/x/meta")), "meta");
  EXPECT_EQ(route_of(client.Get("/files/x/y/z")), "rest");
}

}  // namespace
}  // namespace reprise::http
