// The event log and outgoing webhooks of the SQLite catalog (the contract is the events
// section of catalog/catalog.h). Like SqliteJobs: SqliteCatalog holds the lock and the
// transaction and calls one method of a SqliteEvents made for that call.
//
// The Append* functions are called by the other parts of the backend (jobs, backfills,
// assets) inside the transaction of the change they report; each notes the new id on
// the connection so that the commit tells the catalog's listener. An event of a type a
// subscription asks for fans out into one pending delivery per matching subscription in
// the same statement sequence.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/backfill_types.h"
#include "catalog/event_types.h"
#include "catalog/sqlite/sqlite_connection.h"
#include "catalog/types.h"
#include "core/error.h"

namespace reprise::catalog {

// Writes `event` (its id and created_at are assigned: now) and its deliveries; returns
// the id. Part of the caller's write transaction.
[[nodiscard]] Result<int64_t> AppendEvent(SqliteConnection& db, int64_t now, Event event);
// job.finished for a job that just ended in `state`, and backfill.progress for its
// backfill (throttled, see AppendBackfillProgress).
[[nodiscard]] Result<void> AppendJobFinished(SqliteConnection& db, int64_t now, int64_t job_id,
                                             JobState state);
// backfill.progress unless the backfill had one less than kBackfillProgressIntervalMicros
// ago.
[[nodiscard]] Result<void> AppendBackfillProgress(SqliteConnection& db, int64_t now,
                                                  int64_t backfill_id);
// backfill.finished for a backfill that just reached a final state.
[[nodiscard]] Result<void> AppendBackfillFinished(SqliteConnection& db, int64_t now,
                                                  const Backfill& backfill);

class SqliteEvents {
 public:
  SqliteEvents(SqliteConnection& db, int64_t now) : db_(db), now_(now) {}

  [[nodiscard]] Result<std::vector<Event>> List(const EventQuery& query);
  [[nodiscard]] Result<int64_t> Latest();
  [[nodiscard]] Result<int64_t> Prune(int64_t before_micros);

  [[nodiscard]] Result<WebhookSubscription> CreateSubscription(
      const NewWebhookSubscription& subscription, std::string_view origin);
  [[nodiscard]] Result<std::vector<WebhookSubscription>> ListSubscriptions(
      const AssetFilter& scope);
  [[nodiscard]] Result<WebhookSubscription> GetSubscription(int64_t id, const AssetFilter& scope);
  [[nodiscard]] Result<void> DeleteSubscription(int64_t id, const AssetFilter& scope);
  [[nodiscard]] Result<void> SyncConfigSubscriptions(
      const std::vector<NewWebhookSubscription>& subscriptions);
  [[nodiscard]] Result<WebhookClaim> ClaimDeliveries(int limit, int64_t lease_micros);
  [[nodiscard]] Result<WebhookDelivery> RecordAttempt(int64_t delivery_id,
                                                      const WebhookAttempt& attempt,
                                                      std::optional<int64_t> retry_at);
  [[nodiscard]] Result<std::vector<WebhookDelivery>> ListDeliveries(int64_t subscription_id,
                                                                    const AssetFilter& scope,
                                                                    int limit);

 private:
  [[nodiscard]] Result<WebhookDelivery> GetDelivery(int64_t id);

  SqliteConnection& db_;
  const int64_t now_;
};

}  // namespace reprise::catalog
