// The API-token routes: the same service calls and JSON views as `reprise tokens`.
#include <httplib.h>

#include <charconv>

#include "http/api.h"
#include "http/json_body.h"
#include "services/tokens_service.h"

namespace reprise::http {
namespace {

// A path id that is not a positive integer names no token: 404 like an unknown one.
Result<int64_t> TokenId(const std::string& text) {
  int64_t id = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc() || end != text.data() + text.size() || id <= 0) {
    return Fail(ErrorCode::kNotFound, "no API token with id " + text);
  }
  return id;
}

}  // namespace

void AddTokenRoutes(Router& router, ApiContext& context) {
  services::TokensService& tokens = context.app.tokens();

  router.Add(
      "GET", "/api/v1/tokens",
      [&tokens](RouteRequest& request, httplib::Response& response) -> Result<void> {
        auto listed = tokens.List(request.caller);
        if (!listed) return Fail(listed.error());
        nlohmann::json items = nlohmann::json::array();
        for (const auto& token : *listed) items.push_back(services::TokenJson(token));
        SendJson(response, 200, items);
        return {};
      },
      Access::kAdmin);

  router.Add(
      "POST", "/api/v1/tokens",
      [&tokens](RouteRequest& request, httplib::Response& response) -> Result<void> {
        auto body = ParseJsonBody(request.body);
        if (!body) return Fail(body.error());
        auto fields = JsonFields::Of(*body, {"owner", "admin", "name"});
        if (!fields) return Fail(fields.error());
        auto owner = fields->String("owner");
        if (!owner) return Fail(owner.error());
        auto admin = fields->Bool("admin");
        if (!admin) return Fail(admin.error());
        auto name = fields->String("name");
        if (!name) return Fail(name.error());
        auto created = tokens.Create(request.caller, owner->value_or(""), admin->value_or(false),
                                     name->value_or(""));
        if (!created) return Fail(created.error());
        auto doc = services::TokenJson(created->record);
        doc["token"] = created->token;
        response.set_header("Cache-Control", "no-store");
        SendJson(response, 201, doc);
        return {};
      },
      Access::kAdmin);

  router.Add(
      "DELETE", "/api/v1/tokens/{id}",
      [&tokens](RouteRequest& request, httplib::Response& response) -> Result<void> {
        auto id = TokenId(request.Param("id"));
        if (!id) return Fail(id.error());
        auto revoked = tokens.Revoke(request.caller, *id);
        if (!revoked) return Fail(revoked.error());
        SendJson(response, 200, services::TokenJson(*revoked));
        return {};
      },
      Access::kAdmin);
}

}  // namespace reprise::http
