#include "catalog/sqlite/sqlite_events.h"

#include <algorithm>
#include <set>
#include <utility>

#include "catalog/sqlite/sqlite_queries.h"

namespace reprise::catalog {
namespace {

using json = nlohmann::json;

Result<void> NotFound(int64_t id) {
  return Fail(ErrorCode::kNotFound, "webhook subscription " + std::to_string(id) + " not found");
}

// Items of the backfill counted per outcome, every outcome present (0 when none).
Result<json> CountOutcomes(SqliteConnection& db, int64_t backfill_id) {
  json counts = json::object();
  for (auto outcome : {ItemOutcome::kPending, ItemOutcome::kQueued, ItemOutcome::kProcessed,
                       ItemOutcome::kSkipped, ItemOutcome::kFailed, ItemOutcome::kCancelled}) {
    counts[std::string(Name(outcome))] = 0;
  }
  int64_t total = 0;
  auto select = db.Prepare(
      "SELECT outcome, SUM(n) FROM backfill_counts WHERE backfill_id = ? GROUP BY outcome");
  if (!select) return Fail(std::move(select.error()));
  select->BindInt64(backfill_id);
  REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
    counts[row.Text(0)] = row.Int64(1);
    total += row.Int64(1);
    return true;
  }));
  counts["total"] = total;
  return counts;
}

}  // namespace

Result<int64_t> AppendEvent(SqliteConnection& db, int64_t now, Event event) {
  event.created_at = now;
  {
    auto insert = db.Prepare(
        "INSERT INTO events (type, owner, asset_id, job_id, backfill_id, data, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id");
    if (!insert) return Fail(std::move(insert.error()));
    insert->BindText(event.type)
        .BindText(event.owner)
        .BindOptionalText(event.asset_id)
        .BindOptionalInt64(event.job_id)
        .BindOptionalInt64(event.backfill_id)
        .BindText(DumpJson(event.data))
        .BindInt64(now);
    auto row = insert->Step();
    if (!row) return Fail(std::move(row.error()));
    if (!*row) return Fail(ErrorCode::kInternal, "inserting an event returned no id");
    event.id = insert->Int64(0);
    REPRISE_TRY(insert->Run());
  }
  if (IsWebhookType(event.type)) {
    // An owner's subscription hears its own events; an owner-less (admin's) one all.
    auto fan_out = db.Prepare(
        "INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, payload, state,"
        " attempts, next_attempt_at, created_at, updated_at)"
        " SELECT s.id, ?, ?, ?, 'pending', 0, ?, ?, ? FROM webhook_subscriptions s"
        " WHERE (s.owner = '' OR s.owner = ?)"
        " AND EXISTS (SELECT 1 FROM json_each(s.events) WHERE value = ?)");
    if (!fan_out) return Fail(std::move(fan_out.error()));
    fan_out->BindInt64(event.id)
        .BindText(event.type)
        .BindText(WebhookPayload(event))
        .BindInt64(now)
        .BindInt64(now)
        .BindInt64(now)
        .BindText(event.owner)
        .BindText(event.type);
    REPRISE_TRY(fan_out->Run());
  }
  db.NoteEventWritten(event.id);
  return event.id;
}

Result<void> AppendJobFinished(SqliteConnection& db, int64_t now, int64_t job_id, JobState state) {
  Event event;
  event.type = std::string(kEventJobFinished);
  event.job_id = job_id;
  {
    auto select = db.Prepare(
        "SELECT j.asset_id, a.owner, j.attempts, j.backfill_id, j.last_error_code,"
        " j.last_error_message FROM jobs j JOIN assets a ON a.id = j.asset_id WHERE j.id = ?");
    if (!select) return Fail(std::move(select.error()));
    select->BindInt64(job_id);
    auto row = select->Step();
    if (!row) return Fail(std::move(row.error()));
    if (!*row) return Fail(ErrorCode::kInternal, "job " + std::to_string(job_id) + " vanished");
    event.asset_id = select->Text(0);
    event.owner = select->Text(1);
    event.backfill_id = select->OptionalInt64(3);
    event.data = {{"state", Name(state)}, {"attempts", select->Int64(2)}};
    if (state != JobState::kSucceeded && !select->TextView(4).empty()) {
      event.data["error_code"] = select->Text(4);
      event.data["error_message"] = select->Text(5);
    }
    REPRISE_TRY(select->Run());
  }
  json stages = json::array();
  {
    auto select = db.Prepare("SELECT stage FROM job_stages WHERE job_id = ? ORDER BY stage");
    if (!select) return Fail(std::move(select.error()));
    select->BindInt64(job_id);
    REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
      stages.push_back(row.Text(0));
      return true;
    }));
  }
  event.data["stages"] = std::move(stages);
  std::optional<int64_t> backfill = event.backfill_id;
  REPRISE_TRY(AppendEvent(db, now, std::move(event)));
  if (backfill) REPRISE_TRY(AppendBackfillProgress(db, now, *backfill));
  return {};
}

Result<void> AppendBackfillProgress(SqliteConnection& db, int64_t now, int64_t backfill_id) {
  {
    auto last = db.Prepare(
        "SELECT created_at FROM events WHERE backfill_id = ? AND type = ?"
        " ORDER BY id DESC LIMIT 1");
    if (!last) return Fail(std::move(last.error()));
    last->BindInt64(backfill_id).BindText(kEventBackfillProgress);
    auto row = last->Step();
    if (!row) return Fail(std::move(row.error()));
    bool recent = *row && now - last->Int64(0) < kBackfillProgressIntervalMicros;
    REPRISE_TRY(last->Run());
    if (recent) return {};
  }
  Event event;
  event.type = std::string(kEventBackfillProgress);
  event.backfill_id = backfill_id;
  {
    auto select = db.Prepare("SELECT COALESCE(owner, ''), state FROM backfills WHERE id = ?");
    if (!select) return Fail(std::move(select.error()));
    select->BindInt64(backfill_id);
    auto row = select->Step();
    if (!row) return Fail(std::move(row.error()));
    if (!*row) return {};  // a job may outlive nothing but its backfill's row: no report
    event.owner = select->Text(0);
    event.data = {{"state", select->Text(1)}};
    REPRISE_TRY(select->Run());
  }
  auto counts = CountOutcomes(db, backfill_id);
  if (!counts) return Fail(std::move(counts.error()));
  event.data["counts"] = std::move(*counts);
  REPRISE_TRY(AppendEvent(db, now, std::move(event)));
  return {};
}

Result<void> AppendBackfillFinished(SqliteConnection& db, int64_t now, const Backfill& backfill) {
  Event event;
  event.type = std::string(kEventBackfillFinished);
  event.owner = backfill.owner;
  event.backfill_id = backfill.id;
  auto counts = CountOutcomes(db, backfill.id);
  if (!counts) return Fail(std::move(counts.error()));
  event.data = {{"state", Name(backfill.state)},
                {"stop_reason", backfill.stop_reason},
                {"counts", std::move(*counts)}};
  REPRISE_TRY(AppendEvent(db, now, std::move(event)));
  return {};
}

Result<std::vector<Event>> SqliteEvents::List(const EventQuery& query) {
  REPRISE_TRY(CheckEventQuery(query));
  std::string sql = "SELECT " + std::string(kEventColumns) + " FROM events WHERE id > ?";
  std::vector<SqlValue> binds = {query.after_id};
  if (query.owner) {
    sql += " AND owner = ?";
    binds.emplace_back(*query.owner);
  }
  if (!query.types.empty()) {
    sql += " AND type IN (SELECT value FROM json_each(?))";
    binds.emplace_back(json(query.types).dump());
  }
  sql += " ORDER BY id LIMIT ?";
  binds.emplace_back(static_cast<int64_t>(query.limit));
  auto select = db_.Prepare(sql);
  if (!select) return Fail(std::move(select.error()));
  select->BindAll(binds);
  std::vector<Event> events;
  REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
    auto event = ReadEvent(row);
    if (!event) return Fail(std::move(event.error()));
    events.push_back(std::move(*event));
    return true;
  }));
  return events;
}

Result<int64_t> SqliteEvents::Latest() {
  // The AUTOINCREMENT counter, not MAX(id): pruning every event must not move it back.
  auto select = db_.Prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'");
  if (!select) return Fail(std::move(select.error()));
  auto row = select->Step();
  if (!row) return Fail(std::move(row.error()));
  int64_t latest = *row ? select->Int64(0) : 0;
  REPRISE_TRY(select->Run());
  return latest;
}

Result<int64_t> SqliteEvents::Prune(int64_t before_micros) {
  // Ids grow with time: delete below the first event young enough to keep (found by
  // walking ids upwards, so the cost is the rows deleted, not the table).
  auto remove = db_.Prepare(
      "DELETE FROM events WHERE id < COALESCE((SELECT id FROM events WHERE created_at >= ?"
      " ORDER BY id LIMIT 1), (SELECT MAX(id) + 1 FROM events), 0)");
  if (!remove) return Fail(std::move(remove.error()));
  remove->BindInt64(before_micros);
  REPRISE_TRY(remove->Run());
  return static_cast<int64_t>(sqlite3_changes(db_.get()));
}

Result<WebhookSubscription> SqliteEvents::CreateSubscription(
    const NewWebhookSubscription& subscription, std::string_view origin) {
  REPRISE_TRY(CheckSubscription(subscription));
  auto insert = db_.Prepare(
      "INSERT INTO webhook_subscriptions (owner, url, secret, events, description, origin,"
      " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
  if (!insert) return Fail(std::move(insert.error()));
  insert->BindText(subscription.owner)
      .BindText(subscription.url)
      .BindText(subscription.secret)
      .BindText(json(subscription.events).dump())
      .BindText(subscription.description)
      .BindText(origin)
      .BindInt64(now_)
      .BindInt64(now_);
  auto row = insert->Step();
  if (!row) return Fail(std::move(row.error()));
  int64_t id = *row ? insert->Int64(0) : 0;
  REPRISE_TRY(insert->Run());
  return GetSubscription(id, {});
}

Result<std::vector<WebhookSubscription>> SqliteEvents::ListSubscriptions(const AssetFilter& scope) {
  std::string sql = "SELECT " + std::string(kSubscriptionColumns) + " FROM webhook_subscriptions";
  if (scope.owner) sql += " WHERE owner = ?";
  sql += " ORDER BY id";
  auto select = db_.Prepare(sql);
  if (!select) return Fail(std::move(select.error()));
  if (scope.owner) select->BindText(*scope.owner);
  std::vector<WebhookSubscription> subscriptions;
  REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
    auto subscription = ReadSubscription(row);
    if (!subscription) return Fail(std::move(subscription.error()));
    subscriptions.push_back(std::move(*subscription));
    return true;
  }));
  return subscriptions;
}

Result<WebhookSubscription> SqliteEvents::GetSubscription(int64_t id, const AssetFilter& scope) {
  auto select = db_.Prepare("SELECT " + std::string(kSubscriptionColumns) +
                            " FROM webhook_subscriptions WHERE id = ?");
  if (!select) return Fail(std::move(select.error()));
  select->BindInt64(id);
  auto row = select->Step();
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return Fail(NotFound(id).error());
  auto subscription = ReadSubscription(*select);
  if (!subscription) return Fail(std::move(subscription.error()));
  REPRISE_TRY(select->Run());
  if (scope.owner && subscription->owner != *scope.owner) return Fail(NotFound(id).error());
  return subscription;
}

Result<void> SqliteEvents::DeleteSubscription(int64_t id, const AssetFilter& scope) {
  auto found = GetSubscription(id, scope);
  if (!found) return Fail(std::move(found.error()));
  auto remove = db_.Prepare("DELETE FROM webhook_subscriptions WHERE id = ?");
  if (!remove) return Fail(std::move(remove.error()));
  remove->BindInt64(id);
  return remove->Run();
}

Result<void> SqliteEvents::SyncConfigSubscriptions(
    const std::vector<NewWebhookSubscription>& subscriptions) {
  std::set<int64_t> kept;
  for (const auto& subscription : subscriptions) {
    REPRISE_TRY(CheckSubscription(subscription));
    auto update = db_.Prepare(
        "UPDATE webhook_subscriptions SET secret = ?, events = ?, description = ?,"
        " updated_at = ? WHERE origin = 'config' AND url = ? AND owner = ? RETURNING id");
    if (!update) return Fail(std::move(update.error()));
    update->BindText(subscription.secret)
        .BindText(json(subscription.events).dump())
        .BindText(subscription.description)
        .BindInt64(now_)
        .BindText(subscription.url)
        .BindText(subscription.owner);
    auto row = update->Step();
    if (!row) return Fail(std::move(row.error()));
    std::optional<int64_t> id;
    if (*row) id = update->Int64(0);
    REPRISE_TRY(update->Run());
    if (!id) {
      auto created = CreateSubscription(subscription, "config");
      if (!created) return Fail(std::move(created.error()));
      id = created->id;
    }
    kept.insert(*id);
  }
  auto remove = db_.Prepare(
      "DELETE FROM webhook_subscriptions WHERE origin = 'config' AND id NOT IN"
      " (SELECT value FROM json_each(?))");
  if (!remove) return Fail(std::move(remove.error()));
  remove->BindText(json(kept).dump());
  return remove->Run();
}

Result<WebhookClaim> SqliteEvents::ClaimDeliveries(int limit, int64_t lease_micros) {
  REPRISE_TRY(CheckDeliveryClaim(limit, lease_micros));
  WebhookClaim claim;
  {
    auto update = db_.Prepare(
        "UPDATE webhook_deliveries SET next_attempt_at = ?, updated_at = ? WHERE id IN"
        " (SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= ?"
        " ORDER BY next_attempt_at, id LIMIT ?) RETURNING " +
        std::string(kDeliveryColumns));
    if (!update) return Fail(std::move(update.error()));
    update->BindInt64(now_ + lease_micros)
        .BindInt64(now_)
        .BindInt64(now_)
        .BindInt64(std::min(limit, kMaxPageLimit));
    REPRISE_TRY(update->ForEachRow([&](const Statement& row) -> Result<bool> {
      auto delivery = ReadDelivery(row);
      if (!delivery) return Fail(std::move(delivery.error()));
      claim.deliveries.push_back(std::move(*delivery));
      return true;
    }));
  }
  std::sort(claim.deliveries.begin(), claim.deliveries.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  auto next =
      db_.Prepare("SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE state = 'pending'");
  if (!next) return Fail(std::move(next.error()));
  auto row = next->Step();
  if (!row) return Fail(std::move(row.error()));
  if (*row) claim.next_due_at = next->OptionalInt64(0);
  REPRISE_TRY(next->Run());
  return claim;
}

Result<WebhookDelivery> SqliteEvents::GetDelivery(int64_t id) {
  auto select = db_.Prepare("SELECT " + std::string(kDeliveryColumns) +
                            " FROM webhook_deliveries WHERE id = ?");
  if (!select) return Fail(std::move(select.error()));
  select->BindInt64(id);
  auto row = select->Step();
  if (!row) return Fail(std::move(row.error()));
  if (!*row) {
    return Fail(ErrorCode::kNotFound, "webhook delivery " + std::to_string(id) + " not found");
  }
  auto delivery = ReadDelivery(*select);
  REPRISE_TRY(select->Run());
  return delivery;
}

Result<WebhookDelivery> SqliteEvents::RecordAttempt(int64_t delivery_id,
                                                    const WebhookAttempt& attempt,
                                                    std::optional<int64_t> retry_at) {
  auto delivery = GetDelivery(delivery_id);
  if (!delivery) return Fail(std::move(delivery.error()));
  if (delivery->state != DeliveryState::kPending) {
    return Fail(ErrorCode::kConflict, "webhook delivery " + std::to_string(delivery_id) +
                                          " is already " + std::string(Name(delivery->state)));
  }
  const int number = delivery->attempts + 1;
  {
    auto insert = db_.Prepare(
        "INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error,"
        " duration_micros, created_at) VALUES (?, ?, ?, ?, ?, ?)");
    if (!insert) return Fail(std::move(insert.error()));
    insert->BindInt64(delivery_id)
        .BindInt64(number)
        .BindOptionalInt64(attempt.status_code)
        .BindText(attempt.error)
        .BindInt64(attempt.duration_micros)
        .BindInt64(now_);
    REPRISE_TRY(insert->Run());
  }
  DeliveryState state = attempt.error.empty()
                            ? DeliveryState::kSucceeded
                            : (retry_at ? DeliveryState::kPending : DeliveryState::kFailed);
  auto update = db_.Prepare(
      "UPDATE webhook_deliveries SET state = ?, attempts = ?, next_attempt_at = ?,"
      " last_status = ?, last_error = ?, updated_at = ?, finished_at = ? WHERE id = ?");
  if (!update) return Fail(std::move(update.error()));
  update->BindText(Name(state))
      .BindInt64(number)
      .BindInt64(state == DeliveryState::kPending ? *retry_at : now_)
      .BindOptionalInt64(attempt.status_code)
      .BindText(attempt.error)
      .BindInt64(now_)
      .BindOptionalInt64(state == DeliveryState::kPending ? std::nullopt
                                                          : std::optional<int64_t>(now_))
      .BindInt64(delivery_id);
  REPRISE_TRY(update->Run());
  return GetDelivery(delivery_id);
}

Result<std::vector<WebhookDelivery>> SqliteEvents::ListDeliveries(int64_t subscription_id,
                                                                  const AssetFilter& scope,
                                                                  int limit) {
  REPRISE_TRY(CheckDeliveryPage(limit));
  REPRISE_TRY(GetSubscription(subscription_id, scope));
  std::vector<WebhookDelivery> deliveries;
  {
    auto select = db_.Prepare("SELECT " + std::string(kDeliveryColumns) +
                              " FROM webhook_deliveries WHERE subscription_id = ?"
                              " ORDER BY event_id DESC LIMIT ?");
    if (!select) return Fail(std::move(select.error()));
    select->BindInt64(subscription_id).BindInt64(std::min(limit, kMaxPageLimit));
    REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
      auto delivery = ReadDelivery(row);
      if (!delivery) return Fail(std::move(delivery.error()));
      deliveries.push_back(std::move(*delivery));
      return true;
    }));
  }
  for (auto& delivery : deliveries) {
    auto attempts = db_.Prepare(
        "SELECT attempt, status_code, error, duration_micros, created_at FROM webhook_attempts"
        " WHERE delivery_id = ? ORDER BY id");
    if (!attempts) return Fail(std::move(attempts.error()));
    attempts->BindInt64(delivery.id);
    REPRISE_TRY(attempts->ForEachRow([&](const Statement& row) -> Result<bool> {
      WebhookAttempt attempt;
      attempt.attempt = static_cast<int>(row.Int64(0));
      if (auto status = row.OptionalInt64(1)) attempt.status_code = static_cast<int>(*status);
      attempt.error = row.Text(2);
      attempt.duration_micros = row.Int64(3);
      attempt.created_at = row.Int64(4);
      delivery.attempt_log.push_back(std::move(attempt));
      return true;
    }));
  }
  return deliveries;
}

}  // namespace reprise::catalog
