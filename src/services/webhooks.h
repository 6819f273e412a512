// Outgoing webhook subscriptions as the API shows them, and the rules for making one.
//
// A subscription belongs to an owner: an owner's caller creates, sees and deletes only
// its own (another's id answers kNotFound); an admin sees all and may create one for an
// owner or, naming none, for every owner's events. Its secret ("whsec_...", generated
// when not given) is shown once, in the answer to the creation, and never again.
//
// Receivers must not be on the server's own network (SSRF): a URL whose host is an IP
// literal the address rules refuse (loopback, private, link-local such as the cloud
// metadata 169.254.169.254, ...; net/connect_guard.h) is refused at creation, so the
// owner learns at once; a host name is checked when a delivery connects (the attempt
// then fails with the refusal, and the delivery is not retried).
//
// Errors: kInvalidArgument for a URL that is not http(s) with a host, a refused address
// ("refused to connect to 127.0.0.1 (loopback address) in URL ..."), a malformed
// secret, no events or an event type webhooks are not sent for (asset.ready,
// asset.failed, backfill.finished are); kPermissionDenied for a non-admin naming another
// owner; catalog errors as they come.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "core/config.h"
#include "net/connect_guard.h"
#include "services/caller.h"

namespace reprise::services {

struct NewSubscriptionRequest {
  std::string url;
  std::optional<std::string> secret;  // none: generated
  std::vector<std::string> events;
  std::optional<std::string> owner;  // an admin's choice; none: every owner
  std::string description;
};

// {"id", "owner", "url", "events", "description", "origin", "created_at", "updated_at"}:
// never the secret.
nlohmann::json SubscriptionJson(const catalog::WebhookSubscription& subscription);
// {"id", "webhook_id" (the webhook-id header sent), "event_id", "event_type", "state",
//  "attempts", "next_attempt_at"?,
//  "last_status"?, "last_error", "created_at", "finished_at"?, "attempt_log": [...]}
nlohmann::json DeliveryJson(const catalog::WebhookDelivery& delivery);

// The address rules of outgoing webhooks from [webhooks] allow_private_addresses.
net::AddressRules WebhookAddressRules(const WebhooksConfig& config);

// SubscriptionJson plus "secret", the only time it is shown. `addresses` refuses an IP
// literal host (see the top of this file).
[[nodiscard]] Result<nlohmann::json> CreateWebhookSubscription(
    catalog::Catalog& catalog, const Caller& caller, const NewSubscriptionRequest& request,
    const net::AddressRules& addresses);
// The reads and the delete below take `only_owner`: an admin caller narrowed to one
// owner's subscriptions (the command line's --owner), as Caller::Scope.
// {"subscriptions": [...]}
[[nodiscard]] Result<nlohmann::json> ListWebhookSubscriptions(
    catalog::Catalog& catalog, const Caller& caller,
    const std::optional<std::string>& only_owner = std::nullopt);
[[nodiscard]] Result<nlohmann::json> GetWebhookSubscription(
    catalog::Catalog& catalog, const Caller& caller, int64_t id,
    const std::optional<std::string>& only_owner = std::nullopt);
[[nodiscard]] Result<void> DeleteWebhookSubscription(
    catalog::Catalog& catalog, const Caller& caller, int64_t id,
    const std::optional<std::string>& only_owner = std::nullopt);
// {"subscription_id", "deliveries": [...]} newest first, at most `limit` (1..1000).
[[nodiscard]] Result<nlohmann::json> ListWebhookDeliveries(
    catalog::Catalog& catalog, const Caller& caller, int64_t id, int limit,
    const std::optional<std::string>& only_owner = std::nullopt);

}  // namespace reprise::services
