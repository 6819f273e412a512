// Records of the event log and of outgoing webhooks (the "Events and outgoing webhooks"
// section of catalog/catalog.h).
//
// An event reports one state change and is written in the transaction that makes it
// (an outbox): a change that rolls back leaves no event, and a committed change always
// has its event. Ids increase in commit order and are never reused, so "every event
// after id N" is a complete, resumable cursor. (SQLite has one writer at a time, which
// gives commit order for free; a PostgreSQL backend must keep that promise too, e.g. by
// serialising event inserts, since its sequences hand out ids before commit.)
//
// Event types and what their `data` holds:
//   asset.created      {kind, source, original_name}
//   asset.processing   {status, previous_status}
//   asset.ready        {status, previous_status}
//   asset.failed       {status, previous_status}
//   job.finished       {state, stages, attempts, error_code?, error_message?}
//   backfill.progress  {state, counts: {pending, queued, processed, ...}}
//   backfill.finished  {state, stop_reason, counts}
// Asset events are written only when the status really changes; backfill.progress at
// most once per backfill per second (when jobs of the backfill end).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace reprise::catalog {

inline constexpr std::string_view kEventAssetCreated = "asset.created";
inline constexpr std::string_view kEventAssetProcessing = "asset.processing";
inline constexpr std::string_view kEventAssetReady = "asset.ready";
inline constexpr std::string_view kEventAssetFailed = "asset.failed";
inline constexpr std::string_view kEventJobFinished = "job.finished";
inline constexpr std::string_view kEventBackfillProgress = "backfill.progress";
inline constexpr std::string_view kEventBackfillFinished = "backfill.finished";

// Every event type, in the order above.
std::vector<std::string_view> EventTypes();
// The types a webhook subscription may ask for.
std::vector<std::string_view> WebhookEventTypes();
// backfill.progress is written at most this often per backfill.
inline constexpr int64_t kBackfillProgressIntervalMicros = 1'000'000;

struct Event {
  int64_t id = 0;
  std::string type;
  std::string owner;  // empty: no owner (a backfill over every owner); admins only
  std::optional<std::string> asset_id;
  std::optional<int64_t> job_id;
  std::optional<int64_t> backfill_id;
  nlohmann::json data = nlohmann::json::object();
  int64_t created_at = 0;
};

// The one JSON view of an event, shared by the live stream, the event list and webhook
// payloads (which the catalog freezes when it writes the event, hence here and not in a
// service): {"id", "type", "owner", "asset_id"?, "job_id"?, "backfill_id"?, "data",
// "created_at" (RFC 3339)}.
nlohmann::json EventJson(const Event& event);
// The body of a webhook delivery of `event` (Standard Webhooks' recommended shape):
// {"type", "timestamp" (RFC 3339), "data": EventJson(event)}.
std::string WebhookPayload(const Event& event);

struct EventQuery {
  int64_t after_id = 0;              // events with a larger id
  std::optional<std::string> owner;  // set: only that owner's events
  std::vector<std::string> types;    // empty: every type
  int limit = 100;                   // 1..1000
};

// A receiver of webhooks. owner empty: events of every owner (an admin's subscription).
struct NewWebhookSubscription {
  std::string owner;
  std::string url;
  std::string secret;               // "whsec_..."
  std::vector<std::string> events;  // a non-empty subset of WebhookEventTypes()
  std::string description;
};

struct WebhookSubscription {
  int64_t id = 0;
  std::string owner;
  std::string url;
  std::string secret;
  std::vector<std::string> events;
  std::string description;
  std::string origin;  // "api" or "config"
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

enum class DeliveryState { kPending, kSucceeded, kFailed };
std::string_view Name(DeliveryState state);

// One try at sending a delivery.
struct WebhookAttempt {
  int attempt = 0;                 // 1 for the first
  std::optional<int> status_code;  // the receiver's HTTP status, when it answered
  std::string error;               // why it did not succeed ("" on success)
  int64_t duration_micros = 0;
  int64_t created_at = 0;
};

// One event for one subscription: the payload is fixed when the event is written, so
// every attempt sends the same bytes under the same webhook-id.
struct WebhookDelivery {
  int64_t id = 0;
  int64_t subscription_id = 0;
  int64_t event_id = 0;
  std::string event_type;
  std::string payload;  // the JSON body sent
  DeliveryState state = DeliveryState::kPending;
  int attempts = 0;
  int64_t next_attempt_at = 0;
  std::optional<int> last_status;
  std::string last_error;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  int64_t finished_at = 0;
  std::vector<WebhookAttempt> attempt_log;  // ListWebhookDeliveries only, oldest first
};

struct WebhookClaim {
  std::vector<WebhookDelivery> deliveries;  // due now, leased to the caller
  std::optional<int64_t> next_due_at;       // the earliest pending delivery left, if any
};

}  // namespace reprise::catalog
