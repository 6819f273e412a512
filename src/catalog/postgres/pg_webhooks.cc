// The event log's readers and outgoing webhooks in the PostgreSQL catalog (the contract
// is the events section of catalog.h; the rules are the SQLite backend's, see
// catalog/sqlite/sqlite_events.h). Event writers hold an advisory lock to their commit
// (pg_events.cc); LatestEventId takes it too, shared, so the id it reports is never one
// still being written.

#include <algorithm>
#include <set>

#include "catalog/postgres/pg_internal.h"
#include "catalog/rules.h"

namespace reprise::catalog {

namespace {

using json = nlohmann::json;

tl::unexpected<Error> SubscriptionNotFound(int64_t id) {
  return Fail(ErrorCode::kNotFound, "webhook subscription " + std::to_string(id) + " not found");
}

Result<WebhookSubscription> LoadSubscription(PgContext& c, int64_t id, const AssetFilter& scope) {
  auto rows = Exec(
      c.tx,
      "SELECT " + std::string(kSubscriptionColumns) + " FROM webhook_subscriptions WHERE id = $1",
      id);
  if (rows.empty()) return SubscriptionNotFound(id);
  auto subscription = ReadSubscription(PgRow(rows[0]));
  if (!subscription) return Fail(std::move(subscription.error()));
  if (scope.owner && subscription->owner != *scope.owner) return SubscriptionNotFound(id);
  return subscription;
}

Result<WebhookSubscription> InsertSubscription(PgContext& c,
                                               const NewWebhookSubscription& subscription,
                                               std::string_view origin) {
  REPRISE_TRY(CheckSubscription(subscription));
  auto rows = Exec(c.tx,
                   "INSERT INTO webhook_subscriptions (owner, url, secret, events, description,"
                   " origin, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)"
                   " RETURNING id",
                   subscription.owner, subscription.url, subscription.secret,
                   JsonList(subscription.events), subscription.description, origin, c.now);
  return LoadSubscription(c, Int(rows[0][0]), {});
}

Result<WebhookDelivery> LoadDelivery(PgContext& c, int64_t id) {
  auto rows = Exec(c.tx,
                   "SELECT " + std::string(kDeliveryColumns) +
                       " FROM webhook_deliveries WHERE id = $1 FOR UPDATE",
                   id);
  if (rows.empty()) {
    return Fail(ErrorCode::kNotFound, "webhook delivery " + std::to_string(id) + " not found");
  }
  return ReadDelivery(PgRow(rows[0]));
}

}  // namespace

Result<std::vector<Event>> PostgresCatalog::ListEvents(const EventQuery& query) {
  REPRISE_TRY(CheckEventQuery(query));
  PgQuery select;
  select.sql = "SELECT " + std::string(kEventColumns) + " FROM events WHERE id > " +
               select.Add(query.after_id);
  if (query.owner) select.sql += " AND owner = " + select.Add(*query.owner);
  if (!query.types.empty()) {
    select.sql += " AND type = ANY (ARRAY(SELECT jsonb_array_elements_text(" +
                  select.Add(JsonList(query.types)) + "::jsonb)))";
  }
  select.sql += " ORDER BY id LIMIT " + select.Add(query.limit);
  return Run(PgRetry::kYes, "listing events", [&](PgContext& c) -> Result<std::vector<Event>> {
    std::vector<Event> events;
    for (const auto& row : Exec(c.tx, select)) {
      auto event = ReadEvent(PgRow(row));
      if (!event) return Fail(std::move(event.error()));
      events.push_back(std::move(*event));
    }
    return events;
  });
}

Result<int64_t> PostgresCatalog::LatestEventId() {
  return Run(PgRetry::kYes, "reading the newest event id",
             [&](PgContext& c) { return PgEventIdSeen(c); });
}

Result<int64_t> PostgresCatalog::PruneEvents(int64_t before_micros) {
  return Run(PgRetry::kYes, "pruning events", [&](PgContext& c) -> Result<int64_t> {
    // Ids grow with time: delete below the first event young enough to keep.
    auto removed = Exec(c.tx,
                        "DELETE FROM events WHERE id < COALESCE((SELECT id FROM events"
                        " WHERE created_at >= $1 ORDER BY id LIMIT 1),"
                        " (SELECT MAX(id) + 1 FROM events), 0)",
                        before_micros);
    return static_cast<int64_t>(removed.affected_rows());
  });
}

Result<WebhookSubscription> PostgresCatalog::CreateWebhookSubscription(
    const NewWebhookSubscription& subscription) {
  return Run(PgRetry::kYes, "creating a webhook subscription",
             [&](PgContext& c) { return InsertSubscription(c, subscription, "api"); });
}

Result<std::vector<WebhookSubscription>> PostgresCatalog::ListWebhookSubscriptions(
    const AssetFilter& scope) {
  PgQuery select;
  select.sql = "SELECT " + std::string(kSubscriptionColumns) + " FROM webhook_subscriptions";
  if (scope.owner) select.sql += " WHERE owner = " + select.Add(*scope.owner);
  select.sql += " ORDER BY id";
  return Run(PgRetry::kYes, "listing webhook subscriptions",
             [&](PgContext& c) -> Result<std::vector<WebhookSubscription>> {
               std::vector<WebhookSubscription> subscriptions;
               for (const auto& row : Exec(c.tx, select)) {
                 auto subscription = ReadSubscription(PgRow(row));
                 if (!subscription) return Fail(std::move(subscription.error()));
                 subscriptions.push_back(std::move(*subscription));
               }
               return subscriptions;
             });
}

Result<WebhookSubscription> PostgresCatalog::GetWebhookSubscription(int64_t id,
                                                                    const AssetFilter& scope) {
  return Run(PgRetry::kYes, "reading webhook subscription " + std::to_string(id),
             [&](PgContext& c) { return LoadSubscription(c, id, scope); });
}

Result<void> PostgresCatalog::DeleteWebhookSubscription(int64_t id, const AssetFilter& scope) {
  return Run(PgRetry::kYes, "deleting webhook subscription " + std::to_string(id),
             [&](PgContext& c) -> Result<void> {
               REPRISE_TRY(LoadSubscription(c, id, scope));
               Exec(c.tx, "DELETE FROM webhook_subscriptions WHERE id = $1", id);
               return {};
             });
}

Result<void> PostgresCatalog::SyncConfigWebhookSubscriptions(
    const std::vector<NewWebhookSubscription>& subscriptions) {
  return Run(PgRetry::kYes, "syncing the configured webhook subscriptions",
             [&](PgContext& c) -> Result<void> {
               std::vector<int64_t> kept;
               for (const auto& subscription : subscriptions) {
                 REPRISE_TRY(CheckSubscription(subscription));
                 auto updated =
                     Exec(c.tx,
                          "UPDATE webhook_subscriptions SET secret = $1, events = $2,"
                          " description = $3, updated_at = $4 WHERE origin = 'config'"
                          " AND url = $5 AND owner = $6 RETURNING id",
                          subscription.secret, JsonList(subscription.events),
                          subscription.description, c.now, subscription.url, subscription.owner);
                 if (!updated.empty()) {
                   for (const auto& row : updated) kept.push_back(Int(row[0]));
                   continue;
                 }
                 auto created = InsertSubscription(c, subscription, "config");
                 if (!created) return Fail(std::move(created.error()));
                 kept.push_back(created->id);
               }
               Exec(c.tx,
                    "DELETE FROM webhook_subscriptions WHERE origin = 'config' AND NOT id = ANY"
                    " (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)::bigint))",
                    JsonList(kept));
               return {};
             });
}

Result<WebhookClaim> PostgresCatalog::ClaimWebhookDeliveries(int limit, int64_t lease_micros) {
  REPRISE_TRY(CheckDeliveryClaim(limit, lease_micros));
  return Run(
      PgRetry::kYes, "claiming webhook deliveries", [&](PgContext& c) -> Result<WebhookClaim> {
        WebhookClaim claim;
        // SKIP LOCKED: senders in other processes take other deliveries.
        for (const auto& row :
             Exec(c.tx,
                  "UPDATE webhook_deliveries SET next_attempt_at = $1, updated_at = $2"
                  " WHERE id IN (SELECT id FROM webhook_deliveries WHERE state = 'pending'"
                  " AND next_attempt_at <= $2 ORDER BY next_attempt_at, id LIMIT $3"
                  " FOR UPDATE SKIP LOCKED) RETURNING " +
                      std::string(kDeliveryColumns),
                  c.now + lease_micros, c.now, std::min(limit, kMaxPageLimit))) {
          auto delivery = ReadDelivery(PgRow(row));
          if (!delivery) return Fail(std::move(delivery.error()));
          claim.deliveries.push_back(std::move(*delivery));
        }
        std::sort(claim.deliveries.begin(), claim.deliveries.end(),
                  [](const auto& a, const auto& b) { return a.id < b.id; });
        claim.next_due_at = OptionalInt(Exec(c.tx,
                                             "SELECT MIN(next_attempt_at) FROM webhook_deliveries"
                                             " WHERE state = 'pending'")[0][0]);
        return claim;
      });
}

Result<WebhookDelivery> PostgresCatalog::RecordWebhookAttempt(int64_t delivery_id,
                                                              const WebhookAttempt& attempt,
                                                              std::optional<int64_t> retry_at) {
  return Run(
      PgRetry::kYes, "recording an attempt of webhook delivery " + std::to_string(delivery_id),
      [&](PgContext& c) -> Result<WebhookDelivery> {
        auto delivery = LoadDelivery(c, delivery_id);
        if (!delivery) return Fail(std::move(delivery.error()));
        if (delivery->state != DeliveryState::kPending) {
          return Fail(ErrorCode::kConflict, "webhook delivery " + std::to_string(delivery_id) +
                                                " is already " +
                                                std::string(Name(delivery->state)));
        }
        const int number = delivery->attempts + 1;
        Exec(c.tx,
             "INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error,"
             " duration_micros, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
             delivery_id, number, attempt.status_code, attempt.error, attempt.duration_micros,
             c.now);
        const DeliveryState state =
            attempt.error.empty() ? DeliveryState::kSucceeded
                                  : (retry_at ? DeliveryState::kPending : DeliveryState::kFailed);
        const bool pending = state == DeliveryState::kPending;
        Exec(c.tx,
             "UPDATE webhook_deliveries SET state = $1, attempts = $2, next_attempt_at = $3,"
             " last_status = $4, last_error = $5, updated_at = $6, finished_at = $7"
             " WHERE id = $8",
             Name(state), number, pending ? *retry_at : c.now, attempt.status_code, attempt.error,
             c.now, pending ? std::nullopt : std::optional<int64_t>(c.now), delivery_id);
        return LoadDelivery(c, delivery_id);
      });
}

Result<std::vector<WebhookDelivery>> PostgresCatalog::ListWebhookDeliveries(
    int64_t subscription_id, const AssetFilter& scope, int limit) {
  REPRISE_TRY(CheckDeliveryPage(limit));
  return Run(
      PgRetry::kYes,
      "listing the deliveries of webhook subscription " + std::to_string(subscription_id),
      [&](PgContext& c) -> Result<std::vector<WebhookDelivery>> {
        REPRISE_TRY(LoadSubscription(c, subscription_id, scope));
        std::vector<WebhookDelivery> deliveries;
        for (const auto& row : Exec(c.tx,
                                    "SELECT " + std::string(kDeliveryColumns) +
                                        " FROM webhook_deliveries WHERE subscription_id = $1"
                                        " ORDER BY event_id DESC LIMIT $2",
                                    subscription_id, std::min(limit, kMaxPageLimit))) {
          auto delivery = ReadDelivery(PgRow(row));
          if (!delivery) return Fail(std::move(delivery.error()));
          deliveries.push_back(std::move(*delivery));
        }
        for (auto& delivery : deliveries) {
          for (const auto& row : Exec(c.tx,
                                      "SELECT attempt, status_code, error, duration_micros,"
                                      " created_at FROM webhook_attempts WHERE delivery_id = $1"
                                      " ORDER BY id",
                                      delivery.id)) {
            WebhookAttempt attempt;
            attempt.attempt = static_cast<int>(Int(row[0]));
            if (auto status = OptionalInt(row[1])) attempt.status_code = static_cast<int>(*status);
            attempt.error = Text(row[2]);
            attempt.duration_micros = Int(row[3]);
            attempt.created_at = Int(row[4]);
            delivery.attempt_log.push_back(std::move(attempt));
          }
        }
        return deliveries;
      });
}

}  // namespace reprise::catalog
