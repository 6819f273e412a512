// Outgoing webhook subscriptions and their delivery log (services/webhooks.h).
#include <httplib.h>

#include <charconv>

#include "http/api.h"
#include "http/json_body.h"
#include "services/webhooks.h"

namespace reprise::http {
namespace {

Result<int64_t> IdParam(const RouteRequest& request) {
  const std::string& text = request.Param("id");
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id < 1) {
    // Not an id of any subscription: the same answer as an unknown one.
    return Fail(ErrorCode::kNotFound, "webhook subscription " + text + " not found");
  }
  return id;
}

Result<services::NewSubscriptionRequest> ParseSubscription(std::string_view body) {
  auto json = ParseJsonBody(body);
  if (!json) return Fail(json.error());
  auto fields = JsonFields::Of(*json, {"url", "secret", "events", "owner", "description"});
  if (!fields) return Fail(fields.error());
  services::NewSubscriptionRequest request;
  auto url = fields->String("url");
  if (!url) return Fail(url.error());
  if (!*url) return Fail(ErrorCode::kInvalidArgument, "url is required");
  request.url = **url;
  auto secret = fields->String("secret");
  if (!secret) return Fail(secret.error());
  request.secret = *secret;
  auto events = fields->Strings("events");
  if (!events) return Fail(events.error());
  if (!*events) return Fail(ErrorCode::kInvalidArgument, "events is required");
  request.events = **events;
  auto owner = fields->String("owner");
  if (!owner) return Fail(owner.error());
  request.owner = *owner;
  auto description = fields->String("description");
  if (!description) return Fail(description.error());
  request.description = description->value_or("");
  return request;
}

}  // namespace

void AddWebhookRoutes(Router& router, ApiContext& context) {
  catalog::Catalog& catalog = context.app.catalog();
  router.Add("POST", "/api/v1/webhooks/subscriptions",
             [&catalog, addresses = services::WebhookAddressRules(context.app.config().webhooks)](
                 RouteRequest& request, httplib::Response& response) -> Result<void> {
               auto parsed = ParseSubscription(request.body);
               if (!parsed) return Fail(parsed.error());
               auto created =
                   services::CreateWebhookSubscription(catalog, request.caller, *parsed, addresses);
               if (!created) return Fail(created.error());
               response.set_header("Location", "/api/v1/webhooks/subscriptions/" +
                                                   std::to_string((*created)["id"].get<int64_t>()));
               SendJson(response, 201, *created);
               return {};
             });
  router.Add("GET", "/api/v1/webhooks/subscriptions",
             [&catalog](RouteRequest& request, httplib::Response& response) -> Result<void> {
               auto list = services::ListWebhookSubscriptions(catalog, request.caller);
               if (!list) return Fail(list.error());
               SendJson(response, 200, *list);
               return {};
             });
  router.Add("GET", "/api/v1/webhooks/subscriptions/{id}",
             [&catalog](RouteRequest& request, httplib::Response& response) -> Result<void> {
               auto id = IdParam(request);
               if (!id) return Fail(id.error());
               auto found = services::GetWebhookSubscription(catalog, request.caller, *id);
               if (!found) return Fail(found.error());
               SendJson(response, 200, *found);
               return {};
             });
  router.Add("DELETE", "/api/v1/webhooks/subscriptions/{id}",
             [&catalog](RouteRequest& request, httplib::Response& response) -> Result<void> {
               auto id = IdParam(request);
               if (!id) return Fail(id.error());
               REPRISE_TRY(services::DeleteWebhookSubscription(catalog, request.caller, *id));
               response.status = 204;
               return {};
             });
  router.Add("GET", "/api/v1/webhooks/subscriptions/{id}/deliveries",
             [&catalog](RouteRequest& request, httplib::Response& response) -> Result<void> {
               auto id = IdParam(request);
               if (!id) return Fail(id.error());
               int limit = 100;
               if (auto text = request.Query("limit")) {
                 auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
                 if (ec != std::errc() || end != text->data() + text->size()) {
                   return Fail(ErrorCode::kInvalidArgument,
                               "limit must be an integer, not '" + *text + "'");
                 }
               }
               auto list = services::ListWebhookDeliveries(catalog, request.caller, *id, limit);
               if (!list) return Fail(list.error());
               SendJson(response, 200, *list);
               return {};
             });
}

}  // namespace reprise::http
