// The event log of the PostgreSQL catalog: the Append* writers the other parts call in
// their own transactions (pg_internal.h). The rules are those of the SQLite backend
// (catalog/sqlite/sqlite_events.h).

#include <algorithm>
#include <utility>

#include "catalog/postgres/pg_internal.h"
#include "catalog/rules.h"

namespace reprise::catalog {
namespace {

using json = nlohmann::json;

// Held from the writing of a transaction's events, at its end, to its commit: event ids
// then increase in commit order (a sequence alone hands ids out in the order transactions
// ask), and writers wait for each other only over that last statement and the commit.
constexpr int64_t kEventLock = 0x7265707269736502;

// Items of the backfill counted per outcome, every outcome present (0 when none).
json CountOutcomes(PgContext& c, int64_t backfill_id) {
  json counts = json::object();
  for (auto outcome : {ItemOutcome::kPending, ItemOutcome::kQueued, ItemOutcome::kProcessed,
                       ItemOutcome::kSkipped, ItemOutcome::kFailed, ItemOutcome::kCancelled}) {
    counts[std::string(Name(outcome))] = 0;
  }
  int64_t total = 0;
  for (const auto& row :
       Exec(c.tx,
            "SELECT outcome, SUM(n) FROM backfill_counts WHERE backfill_id = $1 GROUP BY outcome",
            backfill_id)) {
    counts[Text(row[0])] = Int(row[1]);
    total += Int(row[1]);
  }
  counts["total"] = total;
  return counts;
}

}  // namespace

Result<void> AppendPgEvent(PgContext& c, Event event) {
  event.created_at = c.now;
  c.events.push_back(std::move(event));
  c.change.Add(ChangeTopic::kEvents);
  return {};
}

Result<void> EndPgTransaction(PgContext& c) {
  if (c.events.empty()) {
    if (c.change.topics != 0) NotifyChange(c.tx, c.change);
    return {};
  }
  // One statement takes the turn, inserts the events in order and notifies with the
  // newest id.
  json rows = json::array();
  for (size_t n = 0; n < c.events.size(); ++n) {
    const Event& event = c.events[n];
    rows.push_back({{"n", n},
                    {"type", event.type},
                    {"owner", event.owner},
                    {"asset_id", event.asset_id ? json(*event.asset_id) : json()},
                    {"job_id", event.job_id ? json(*event.job_id) : json()},
                    {"backfill_id", event.backfill_id ? json(*event.backfill_id) : json()},
                    {"data", DumpJson(event.data)}});
  }
  auto written = ExecPrepared(
      c.tx,
      "WITH turn AS (SELECT pg_advisory_xact_lock($1)),"
      " e AS (INSERT INTO events (type, owner, asset_id, job_id, backfill_id, data, created_at)"
      " SELECT t.type, t.owner, t.asset_id, t.job_id, t.backfill_id, t.data, $2::bigint"
      " FROM turn, jsonb_to_recordset($3::jsonb) AS t(n int, type text, owner text,"
      " asset_id text, job_id bigint, backfill_id bigint, data text)"
      " ORDER BY t.n RETURNING id)"
      " SELECT array_to_string(ids, ','), pg_notify($4::text, $5::text || ':' ||"
      " ids[array_length(ids, 1)]::text)"
      " FROM (SELECT array_agg(id ORDER BY id) AS ids FROM e) x",
      kEventLock, c.now, rows.dump(-1, ' ', false, json::error_handler_t::replace),
      std::string(kPgChangeChannel), std::to_string(c.change.topics));
  const std::string ids = Text(written[0][0]);
  size_t at = 0;
  for (auto& event : c.events) {
    const size_t comma = ids.find(',', at);
    event.id = std::stoll(ids.substr(at, comma - at));
    at = comma == std::string::npos ? ids.size() : comma + 1;
    if (!IsWebhookType(event.type)) continue;
    // An owner's subscription hears its own events; an owner-less (admin's) one all.
    Exec(c.tx,
         "INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, payload, state,"
         " attempts, next_attempt_at, created_at, updated_at)"
         " SELECT s.id, $1::bigint, $2::text, $3::text, 'pending', 0, $4::bigint, $4::bigint,"
         " $4::bigint FROM webhook_subscriptions s"
         " WHERE (s.owner = '' OR s.owner = $5) AND EXISTS"
         " (SELECT 1 FROM jsonb_array_elements_text(s.events::jsonb) e WHERE e = $2)",
         event.id, event.type, WebhookPayload(event), c.now, event.owner);
  }
  c.change.newest_event_id = c.events.back().id;
  return {};
}

Result<int64_t> PgEventIdSeen(PgContext& c) {
  Exec(c.tx, "SELECT pg_advisory_xact_lock_shared($1)", kEventLock);
  // The newest row; once pruning emptied the table, the sequence (pruning must not move
  // the answer back). The sequence alone would count ids that rolled-back transactions
  // drew and never wrote.
  return Int(Exec(c.tx,
                  "SELECT COALESCE((SELECT MAX(id) FROM events), (SELECT CASE WHEN is_called"
                  " THEN last_value ELSE 0 END FROM events_id_seq))")[0][0]);
}

Result<void> AppendPgJobFinished(PgContext& c, const PgFinishedJob& job, JobState state) {
  Event event;
  event.type = std::string(kEventJobFinished);
  event.job_id = job.job_id;
  event.asset_id = job.asset_id;
  event.owner = job.owner;
  event.backfill_id = job.backfill_id;
  event.data = {{"state", Name(state)}, {"attempts", job.attempts}};
  if (state != JobState::kSucceeded && !job.last_error_code.empty()) {
    event.data["error_code"] = job.last_error_code;
    event.data["error_message"] = job.last_error_message;
  }
  event.data["stages"] = json::parse(job.stages_json);
  REPRISE_TRY(AppendPgEvent(c, std::move(event)));
  if (job.backfill_id) REPRISE_TRY(AppendPgBackfillProgress(c, *job.backfill_id));
  return {};
}

Result<void> AppendPgBackfillProgress(PgContext& c, int64_t backfill_id) {
  for (const auto& pending : c.events) {  // not written yet, but counting as written
    if (pending.type == kEventBackfillProgress && pending.backfill_id == backfill_id) return {};
  }
  auto last = Exec(c.tx,
                   "SELECT created_at FROM events WHERE backfill_id = $1 AND type = $2"
                   " ORDER BY id DESC LIMIT 1",
                   backfill_id, kEventBackfillProgress);
  if (!last.empty() && c.now - Int(last[0][0]) < kBackfillProgressIntervalMicros) return {};
  auto backfill =
      Exec(c.tx, "SELECT COALESCE(owner, ''), state FROM backfills WHERE id = $1", backfill_id);
  if (backfill.empty()) return {};  // a job may outlive its backfill's row: no report
  Event event;
  event.type = std::string(kEventBackfillProgress);
  event.backfill_id = backfill_id;
  event.owner = Text(backfill[0][0]);
  event.data = {{"state", Text(backfill[0][1])}, {"counts", CountOutcomes(c, backfill_id)}};
  REPRISE_TRY(AppendPgEvent(c, std::move(event)));
  return {};
}

Result<void> AppendPgBackfillFinished(PgContext& c, const Backfill& backfill) {
  Event event;
  event.type = std::string(kEventBackfillFinished);
  event.owner = backfill.owner;
  event.backfill_id = backfill.id;
  event.data = {{"state", Name(backfill.state)},
                {"stop_reason", backfill.stop_reason},
                {"counts", CountOutcomes(c, backfill.id)}};
  REPRISE_TRY(AppendPgEvent(c, std::move(event)));
  return {};
}

}  // namespace reprise::catalog
