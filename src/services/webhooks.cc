#include "services/webhooks.h"

#include "core/clock.h"
#include "core/webhook_signature.h"

namespace reprise::services {
namespace {

Result<void> CheckUrl(const std::string& url) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (url.rfind(scheme, 0) == 0 && url.size() > scheme.size() && url[scheme.size()] != '/') {
      return {};
    }
  }
  return Fail(ErrorCode::kInvalidArgument,
              "a webhook url must be http:// or https:// with a host, not '" + url + "'");
}

}  // namespace

nlohmann::json SubscriptionJson(const catalog::WebhookSubscription& subscription) {
  return {{"id", subscription.id},
          {"owner", subscription.owner},
          {"url", subscription.url},
          {"events", subscription.events},
          {"description", subscription.description},
          {"origin", subscription.origin},
          {"created_at", FormatRfc3339(subscription.created_at)},
          {"updated_at", FormatRfc3339(subscription.updated_at)}};
}

nlohmann::json DeliveryJson(const catalog::WebhookDelivery& delivery) {
  nlohmann::json view = {{"id", delivery.id},
                         {"webhook_id", "dlv_" + std::to_string(delivery.id)},
                         {"event_id", delivery.event_id},
                         {"event_type", delivery.event_type},
                         {"state", catalog::Name(delivery.state)},
                         {"attempts", delivery.attempts},
                         {"last_error", delivery.last_error},
                         {"created_at", FormatRfc3339(delivery.created_at)}};
  if (delivery.state == catalog::DeliveryState::kPending) {
    view["next_attempt_at"] = FormatRfc3339(delivery.next_attempt_at);
  } else {
    view["finished_at"] = FormatRfc3339(delivery.finished_at);
  }
  view["last_status"] = delivery.last_status ? nlohmann::json(*delivery.last_status) : nullptr;
  nlohmann::json log = nlohmann::json::array();
  for (const auto& attempt : delivery.attempt_log) {
    log.push_back({{"attempt", attempt.attempt},
                   {"status", attempt.status_code ? nlohmann::json(*attempt.status_code)
                                                  : nlohmann::json(nullptr)},
                   {"error", attempt.error},
                   {"duration_ms", static_cast<double>(attempt.duration_micros) / 1000.0},
                   {"at", FormatRfc3339(attempt.created_at)}});
  }
  view["attempt_log"] = std::move(log);
  return view;
}

net::AddressRules WebhookAddressRules(const WebhooksConfig& config) {
  net::AddressRules rules;
  rules.allow_private_addresses = config.allow_private_addresses;
  rules.setting = "[webhooks] allow_private_addresses";
  return rules;
}

Result<nlohmann::json> CreateWebhookSubscription(catalog::Catalog& catalog, const Caller& caller,
                                                 const NewSubscriptionRequest& request,
                                                 const net::AddressRules& addresses) {
  REPRISE_TRY(CheckUrl(request.url));
  REPRISE_TRY(net::CheckUrlAddress(request.url, addresses));
  catalog::NewWebhookSubscription subscription;
  if (caller.admin) {
    subscription.owner = request.owner.value_or("");
  } else {
    auto owner = caller.OwnerForNew(request.owner, caller.owner);
    if (!owner) return Fail(owner.error());
    subscription.owner = *owner;
  }
  auto secret = request.secret ? WebhookSecret::Parse(*request.secret) : WebhookSecret::Generate();
  if (!secret) return Fail(secret.error().Wrap("webhook secret"));
  subscription.url = request.url;
  subscription.secret = secret->ToString();
  subscription.events = request.events;
  subscription.description = request.description;
  auto created = catalog.CreateWebhookSubscription(subscription);
  if (!created) return Fail(created.error());
  nlohmann::json view = SubscriptionJson(*created);
  view["secret"] = created->secret;
  return view;
}

Result<nlohmann::json> ListWebhookSubscriptions(catalog::Catalog& catalog, const Caller& caller,
                                                const std::optional<std::string>& only_owner) {
  auto scope = caller.Scope(only_owner);
  if (!scope) return Fail(scope.error());
  auto subscriptions = catalog.ListWebhookSubscriptions(*scope);
  if (!subscriptions) return Fail(subscriptions.error());
  nlohmann::json list = nlohmann::json::array();
  for (const auto& subscription : *subscriptions) list.push_back(SubscriptionJson(subscription));
  return nlohmann::json{{"subscriptions", std::move(list)}};
}

Result<nlohmann::json> GetWebhookSubscription(catalog::Catalog& catalog, const Caller& caller,
                                              int64_t id,
                                              const std::optional<std::string>& only_owner) {
  auto scope = caller.Scope(only_owner);
  if (!scope) return Fail(scope.error());
  auto subscription = catalog.GetWebhookSubscription(id, *scope);
  if (!subscription) return Fail(subscription.error());
  return SubscriptionJson(*subscription);
}

Result<void> DeleteWebhookSubscription(catalog::Catalog& catalog, const Caller& caller, int64_t id,
                                       const std::optional<std::string>& only_owner) {
  auto scope = caller.Scope(only_owner);
  if (!scope) return Fail(scope.error());
  return catalog.DeleteWebhookSubscription(id, *scope);
}

Result<nlohmann::json> ListWebhookDeliveries(catalog::Catalog& catalog, const Caller& caller,
                                             int64_t id, int limit,
                                             const std::optional<std::string>& only_owner) {
  if (limit < 1 || limit > 1000) {
    return Fail(ErrorCode::kInvalidArgument,
                "limit must be between 1 and 1000, not " + std::to_string(limit));
  }
  auto scope = caller.Scope(only_owner);
  if (!scope) return Fail(scope.error());
  auto deliveries = catalog.ListWebhookDeliveries(id, *scope, limit);
  if (!deliveries) return Fail(deliveries.error());
  nlohmann::json list = nlohmann::json::array();
  for (const auto& delivery : *deliveries) list.push_back(DeliveryJson(delivery));
  return nlohmann::json{{"subscription_id", id}, {"deliveries", std::move(list)}};
}

}  // namespace reprise::services
