// Backfills in the PostgreSQL catalog (the contract is the backfill section of
// catalog.h; the storage and rules are the SQLite backend's, see
// catalog/sqlite/sqlite_backfills.h). Plan order is backfill_plan.seq.
//
// The plan scan is in pg_pair_scan.h.

#include <algorithm>
#include <cmath>
#include <set>

#include "catalog/backfill_dispatch.h"
#include "catalog/cursor.h"
#include "catalog/postgres/pg_internal.h"
#include "catalog/postgres/pg_pair_scan.h"
#include "catalog/postgres/pg_scan.h"
#include "catalog/rules.h"

namespace reprise::catalog {
namespace {

using json = nlohmann::json;

std::string Describe(int64_t id) { return "backfill " + std::to_string(id); }

}  // namespace

Result<void> PgBackfills::ScanPairs(const std::vector<StageRecipe>& stages,
                                    const AssetFilter& filter, const Catalog::PairVisitor& visit) {
  REPRISE_TRY(CheckBackfillStages(stages));
  return ScanPgStagePairs(c_.tx, stages, filter, visit);
}

Result<Backfill> PgBackfills::Create(const NewBackfill& backfill, const AssetFilter& filter,
                                     const Catalog::PairSelector& select) {
  REPRISE_TRY(CheckBackfillStages(backfill.stages));
  std::optional<std::string> owner;
  if (!backfill.owner.empty()) owner = backfill.owner;
  std::optional<int64_t> started;
  if (backfill.state == BackfillState::kRunning) started = c_.now;
  const int64_t id = Int(Exec(c_.tx,
                              "INSERT INTO backfills (owner, stages, mode, filter, options, plan,"
                              " state, created_at, updated_at, started_at)"
                              " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) RETURNING id",
                              owner, StagesJson(backfill.stages).dump(), Name(backfill.mode),
                              backfill.filter.dump(), backfill.options.dump(), backfill.plan.dump(),
                              Name(backfill.state), c_.now, started)[0][0]);
  // One backfill_plan row per asset (the scan gives an asset's pairs one after another),
  // written in multi-row INSERTs of rows collected from the scan (its cursor is open
  // meanwhile, so the inserts go between its pages, never while it is mid-page).
  constexpr size_t kBatchRows = 1000;
  std::vector<std::pair<std::string, std::vector<PlanItem>>> batch;
  int64_t planned = 0;
  auto flush = [&] {
    if (batch.empty()) return;
    PgQuery insert;
    insert.sql = "INSERT INTO backfill_plan (backfill_id, asset_id, pending, items) VALUES ";
    const std::string backfill_id = insert.Add(id);
    for (size_t i = 0; i < batch.size(); ++i) {
      const auto& [asset_id, items] = batch[i];
      insert.sql += (i == 0 ? "(" : ", (") + backfill_id + ", " + insert.Add(asset_id) + ", " +
                    insert.Add(static_cast<int64_t>(items.size())) + ", " +
                    insert.Add(EncodePlanItems(items)) + ")";
      planned += static_cast<int64_t>(items.size());
    }
    Exec(c_.tx, insert);
    batch.clear();
  };
  REPRISE_TRY(ScanPairs(backfill.stages, filter, [&](const StagePair& pair) {
    PairDecision decision = select(pair);
    if (decision.action == PairDecision::kStop) return false;
    if (decision.action != PairDecision::kSelect) return true;
    if (batch.empty() || batch.back().first != pair.asset_id) {
      if (batch.size() >= kBatchRows) flush();
      batch.emplace_back(pair.asset_id, std::vector<PlanItem>{});
    }
    PlanItem item;
    item.stage = static_cast<int64_t>(pair.stage_index);
    item.reason = std::move(decision.reason);
    item.from_recipe = pair.FromRecipe(backfill.stages[pair.stage_index].recipe);
    item.updated_at = c_.now;
    batch.back().second.push_back(std::move(item));
    return true;
  }));
  flush();
  PlanCountDeltas counts;
  counts.Add(PlanItem{}, planned);
  ApplyPgPlanCounts(c_, id, counts);
  return Get(id, {});
}

Result<Backfill> PgBackfills::Get(int64_t id, const AssetFilter& scope) {
  auto rows = Exec(c_.tx,
                   "SELECT " + std::string(kBackfillColumns) +
                       " FROM backfills WHERE id = $1 AND ($2::text IS NULL OR owner = $2)",
                   id, scope.owner);
  if (rows.empty()) return Fail(ErrorCode::kNotFound, Describe(id) + " not found");
  return ReadBackfill(PgRow(rows[0]));
}

Result<std::vector<Backfill>> PgBackfills::List(const AssetFilter& scope, int limit) {
  std::vector<Backfill> backfills;
  for (const auto& row : Exec(c_.tx,
                              "SELECT " + std::string(kBackfillColumns) +
                                  " FROM backfills WHERE ($1::text IS NULL OR owner = $1)"
                                  " ORDER BY id DESC LIMIT $2",
                              scope.owner, ClampedListLimit(limit))) {
    auto backfill = ReadBackfill(PgRow(row));
    if (!backfill) return Fail(std::move(backfill.error()));
    backfills.push_back(std::move(*backfill));
  }
  return backfills;
}

Result<Backfill> PgBackfills::SetState(int64_t id, const std::vector<BackfillState>& from,
                                       BackfillState to, std::string_view reason) {
  // The row lock: two state changes of one backfill take turns, so the second sees the
  // first's result and a final state is reported once.
  if (Exec(c_.tx, "SELECT 1 FROM backfills WHERE id = $1 FOR UPDATE", id).empty()) {
    return Fail(ErrorCode::kNotFound, Describe(id) + " not found");
  }
  auto current = Get(id, {});
  if (!current) return Fail(std::move(current.error()));
  if (std::find(from.begin(), from.end(), current->state) == from.end()) {
    return Fail(ErrorCode::kConflict, Describe(id) + " is " + std::string(Name(current->state)) +
                                          ", so it cannot become " + std::string(Name(to)));
  }
  Exec(c_.tx,
       "UPDATE backfills SET state = $1, updated_at = $2,"
       " started_at = CASE WHEN $1 = 'running' THEN COALESCE(started_at, $2) ELSE started_at END,"
       " finished_at = CASE WHEN $3 THEN $2 ELSE finished_at END,"
       " stop_reason = CASE WHEN $4 = '' THEN stop_reason ELSE $4 END WHERE id = $5",
       Name(to), c_.now, std::string(IsFinal(to) ? "true" : "false"), reason, id);
  auto moved = Get(id, {});
  if (!moved) return Fail(std::move(moved.error()));
  if (IsFinal(to) && !IsFinal(current->state)) {
    REPRISE_TRY(AppendPgBackfillFinished(c_, *moved));
  }
  return moved;
}

Result<bool> PgBackfills::ClaimDriver(int64_t id, std::string_view driver, int64_t lease_micros) {
  REPRISE_TRY(CheckDriverClaim(driver, lease_micros));
  const bool held = !Exec(c_.tx,
                          "UPDATE backfills SET driver = $1, driver_expires_at = $2 WHERE id = $3"
                          " AND (driver IS NULL OR driver = $1 OR driver_expires_at < $4)"
                          " RETURNING id",
                          driver, c_.now + lease_micros, id, c_.now)
                         .empty();
  if (!held) REPRISE_TRY(Get(id, {}));
  return held;
}

void PgBackfills::ReleaseDriver(int64_t id, std::string_view driver) {
  Exec(c_.tx,
       "UPDATE backfills SET driver = NULL, driver_expires_at = NULL WHERE id = $1"
       " AND driver = $2",
       id, driver);
}

std::vector<int64_t> PgBackfills::ListUndriven() {
  std::vector<int64_t> ids;
  for (const auto& row : Exec(c_.tx,
                              "SELECT id FROM backfills WHERE state IN ('running', 'cancelling')"
                              " AND (driver IS NULL OR driver_expires_at < $1) ORDER BY id",
                              c_.now)) {
    ids.push_back(Int(row[0]));
  }
  return ids;
}

int64_t PgBackfills::CountActiveJobs(int64_t id) {
  return Int(Exec(c_.tx, "SELECT COUNT(DISTINCT job_id) FROM backfill_holds WHERE backfill_id = $1",
                  id)[0][0]);
}

Result<DispatchResult> PgBackfills::Dispatch(int64_t id, const DispatchRequest& request) {
  // One dispatcher at a time per backfill (its row lock), whatever the driver leases say.
  if (Exec(c_.tx, "SELECT 1 FROM backfills WHERE id = $1 FOR UPDATE", id).empty()) {
    return Fail(ErrorCode::kNotFound, Describe(id) + " not found");
  }
  auto backfill = Get(id, {});
  if (!backfill) return Fail(std::move(backfill.error()));
  if (request.max_assets > 0 && backfill->state != BackfillState::kRunning) {
    return Fail(ErrorCode::kConflict,
                Describe(id) + " is " + std::string(Name(backfill->state)) + ", not running");
  }
  int64_t budget = request.max_assets;
  if (request.max_active > 0) {
    budget = std::min<int64_t>(budget, request.max_active - CountActiveJobs(id));
  }
  // The start rate's bucket is kept in the database (under the backfill's row lock taken
  // above), so a driver taking over inherits it.
  PgRateStarts starts(c_);
  std::optional<TokenBucket> bucket;
  if (request.rate_per_second > 0) {
    auto stored = starts.LoadBucket(BackfillRateKey(id));
    if (!stored) return Fail(std::move(stored.error()));
    bucket = RefillBucket(*stored, request.rate_per_second, c_.now);
    budget = std::min(budget, static_cast<int64_t>(std::floor(bucket->tokens)));
  }
  // The plan rows of the next assets with pending items, in plan order.
  std::vector<PlanRow> rows;
  if (budget > 0) {
    for (const auto& row : Exec(c_.tx,
                                "SELECT seq, asset_id, items FROM backfill_plan"
                                " WHERE backfill_id = $1 AND pending > 0 ORDER BY seq LIMIT $2",
                                id, budget)) {
      auto items = DecodePlanItems(row[2].c_str());
      if (!items) return Fail(std::move(items.error()));
      rows.push_back({Int(row[0]), id, Text(row[1]), std::move(*items)});
    }
  }
  DispatchResult result;
  const int64_t newest_derivative =
      Int(Exec(c_.tx, "SELECT COALESCE(MAX(id), 0) FROM derivatives")[0][0]);
  PgJobs jobs(c_);
  PlanCountDeltas counts;
  for (auto& row : rows) {
    std::vector<PendingBackfillItem> pending;
    for (const auto& item : row.items) {
      if (item.outcome != ItemOutcome::kPending) continue;
      if (item.stage >= static_cast<int64_t>(backfill->stages.size())) {
        return Fail(ErrorCode::kInternal, Describe(id) + ": a plan item names no stage");
      }
      pending.push_back(
          {item.stage, backfill->stages[item.stage].stage, ForcedFor(request, item.reason)});
    }
    auto job = EnqueueBackfillItems([&](const NewJob& part) { return jobs.Enqueue(part); }, id,
                                    row.asset_id, pending, request);
    if (!job) return Fail(std::move(job.error()));
    for (auto& item : row.items) {
      if (item.outcome != ItemOutcome::kPending) continue;
      const std::string& stage = backfill->stages[item.stage].stage;
      const bool queued =
          std::find(job->enqueued.begin(), job->enqueued.end(), stage) != job->enqueued.end();
      const PlanItem before = item;
      item.outcome = queued ? ItemOutcome::kQueued : ItemOutcome::kSkipped;
      item.job_id = queued ? job->job_id : 0;
      item.skip_reason = queued ? "" : "already_active";
      item.updated_at = c_.now;
      item.after_derivative = newest_derivative;
      counts.Move(before, item);
      if (queued) {
        Exec(c_.tx,
             "INSERT INTO backfill_holds (seq, stage, backfill_id, job_id) VALUES ($1, $2, $3, $4)",
             row.seq, stage, id, job->job_id);
      }
      ++(queued ? result.items_queued : result.items_skipped);
    }
    StorePgPlanRow(c_, row);
    if (!job->enqueued.empty()) {
      ++result.jobs;
      if (request.mark_processing) {
        Exec(c_.tx, "UPDATE assets SET status = 'processing', updated_at = $1 WHERE id = $2",
             c_.now, row.asset_id);
      }
    }
  }
  ApplyPgPlanCounts(c_, id, counts);
  result.more_pending = !Exec(c_.tx,
                              "SELECT 1 FROM backfill_plan WHERE backfill_id = $1"
                              " AND pending > 0 LIMIT 1",
                              id)
                             .empty();
  result.active_jobs = CountActiveJobs(id);
  if (bucket) {
    bucket->tokens -= static_cast<double>(result.jobs);
    REPRISE_TRY(starts.StoreBucket(BackfillRateKey(id), *bucket));
  }
  return result;
}

Result<int64_t> PgBackfills::Withdraw(int64_t id, bool cancel) {
  REPRISE_TRY(Get(id, {}));
  // Queued jobs holding items of this backfill: the plan rows and stages they hold.
  std::map<int64_t, std::vector<std::pair<int64_t, std::string>>> held;
  std::set<int64_t> running;
  for (const auto& row : Exec(c_.tx,
                              "SELECT h.job_id, h.seq, h.stage, j.state FROM backfill_holds h"
                              " JOIN jobs j ON j.id = h.job_id WHERE h.backfill_id = $1"
                              " ORDER BY h.job_id FOR UPDATE OF j",
                              id)) {
    const std::string state = Text(row[3]);
    if (state == "queued") {
      held[Int(row[0])].emplace_back(Int(row[1]), Text(row[2]));
    } else if (state == "running") {
      running.insert(Int(row[0]));
    }
  }
  auto stages = PgBackfillStages(c_, id);
  if (!stages) return Fail(std::move(stages.error()));
  PlanCountDeltas counts;
  const ItemOutcome back = cancel ? ItemOutcome::kCancelled : ItemOutcome::kPending;
  for (const auto& [job_id, holds] : held) {
    // Only the backfill's stages leave the job: live work merged into it stays queued.
    std::vector<std::string> names;
    for (const auto& hold : holds) names.push_back(hold.second);
    Exec(c_.tx,
         "DELETE FROM job_stages WHERE job_id = $1 AND stage = ANY"
         " (ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))",
         job_id, JsonList(names));
    for (const auto& [seq, stage] : holds) {
      auto row = LoadPgPlanRow(c_, seq);
      if (!row) return Fail(std::move(row.error()));
      for (auto& item : row->items) {
        if (item.outcome != ItemOutcome::kQueued ||
            item.stage >= static_cast<int64_t>(stages->size()) ||
            (*stages)[item.stage].stage != stage) {
          continue;
        }
        const PlanItem before = item;
        item.outcome = back;
        item.job_id = 0;
        item.updated_at = c_.now;
        counts.Move(before, item);
      }
      StorePgPlanRow(c_, *row);
    }
    Exec(c_.tx, "DELETE FROM backfill_holds WHERE job_id = $1 AND backfill_id = $2", job_id, id);
    Exec(c_.tx,
         "DELETE FROM jobs WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM job_stages"
         " WHERE job_id = $1)",
         job_id);
  }
  if (cancel) {
    for (const auto& found : Exec(c_.tx,
                                  "SELECT seq, asset_id, items FROM backfill_plan"
                                  " WHERE backfill_id = $1 AND pending > 0 ORDER BY seq FOR UPDATE",
                                  id)) {
      auto items = DecodePlanItems(found[2].c_str());
      if (!items) return Fail(std::move(items.error()));
      PlanRow row{Int(found[0]), id, Text(found[1]), std::move(*items)};
      for (auto& item : row.items) {
        if (item.outcome != ItemOutcome::kPending) continue;
        const PlanItem before = item;
        item.outcome = ItemOutcome::kCancelled;
        item.updated_at = c_.now;
        counts.Move(before, item);
      }
      StorePgPlanRow(c_, row);
    }
    for (int64_t job_id : running) {
      Exec(c_.tx,
           "UPDATE jobs SET cancel_requested = 1 WHERE id = $1 AND backfill_id = $2"
           " AND state = 'running'",
           job_id, id);
    }
  }
  ApplyPgPlanCounts(c_, id, counts);
  return static_cast<int64_t>(held.size());
}

Result<std::map<int64_t, BackfillCounts>> PgBackfills::CountAll(const std::vector<int64_t>& ids) {
  std::map<int64_t, BackfillCounts> counts;
  for (int64_t id : ids) counts[id];
  const std::string id_list = JsonList(ids);
  const std::string in_ids =
      "backfill_id = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)::bigint))";
  for (const auto& row : Exec(c_.tx,
                              "SELECT backfill_id, outcome, detail, n FROM backfill_counts"
                              " WHERE " +
                                  in_ids + " AND n <> 0",
                              id_list)) {
    REPRISE_TRY(AddCountRow(counts[Int(row[0])], Text(row[1]), Text(row[2]), Int(row[3])));
  }
  // Up to three distinct assets per error code, in plan order, from the rows with failed
  // items, read in pages until every code has its examples.
  constexpr int64_t kPage = 200;
  for (auto& [id, c] : counts) {
    int64_t after = 0;
    bool done = c.failed_by_code.empty();
    while (!done) {
      auto rows = Exec(c_.tx,
                       "SELECT seq, asset_id, items FROM backfill_plan WHERE backfill_id = $1"
                       " AND failed > 0 AND seq > $2 ORDER BY seq LIMIT $3",
                       id, after, kPage);
      for (const auto& row : rows) {
        auto items = DecodePlanItems(row[2].c_str());
        if (!items) return Fail(std::move(items.error()));
        after = Int(row[0]);
        if (AddFailedExamples(c, Text(row[1]), *items)) {
          done = true;
          break;
        }
      }
      if (static_cast<int64_t>(rows.size()) < kPage) done = true;
    }
  }
  for (const auto& row : Exec(c_.tx,
                              "SELECT backfill_id, COUNT(DISTINCT job_id) FROM backfill_holds"
                              " WHERE " +
                                  in_ids + " GROUP BY backfill_id",
                              id_list)) {
    counts[Int(row[0])].active_jobs = Int(row[1]);
  }
  return counts;
}

Result<std::vector<BackfillBacklog>> PgBackfills::CountUndispatched(
    const std::vector<BackfillState>& states, const AssetFilter& scope) {
  std::vector<std::string> wanted;
  for (auto state : states) wanted.emplace_back(Name(state));
  std::vector<BackfillBacklog> backlog;
  for (const auto& row :
       Exec(c_.tx,
            "SELECT b.id, b.state, SUM(p.pending), COUNT(*) FROM backfills b"
            " JOIN backfill_plan p ON p.backfill_id = b.id AND p.pending > 0"
            " WHERE b.state = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))"
            " AND ($2::text IS NULL OR p.asset_id IN (SELECT id FROM assets WHERE owner = $2))"
            " GROUP BY b.id ORDER BY b.id",
            JsonList(wanted), scope.owner)) {
    auto state = ParseBackfillState(Text(row[1]));
    if (!state) return Fail(state.error().Wrap(Describe(Int(row[0]))));
    backlog.push_back({Int(row[0]), *state, Int(row[2]), Int(row[3])});
  }
  return backlog;
}

Result<std::vector<BackfillItem>> PgBackfills::ListItems(int64_t id,
                                                         std::optional<ItemOutcome> outcome,
                                                         int64_t offset, int limit) {
  auto stages = PgBackfillStages(c_, id);
  if (!stages) return Fail(std::move(stages.error()));
  if (stages->empty()) return std::vector<BackfillItem>{};
  // Rows in plan order, in pages: only those with pending or failed items when those are
  // asked for.
  std::string rows_sql =
      "SELECT seq, asset_id, items FROM backfill_plan WHERE backfill_id = $1 AND seq > $2";
  if (outcome == ItemOutcome::kPending) rows_sql += " AND pending > 0";
  if (outcome == ItemOutcome::kFailed) rows_sql += " AND failed > 0";
  rows_sql += " ORDER BY seq LIMIT $3";
  constexpr int64_t kPage = 500;
  PlanItemPage page(*stages, outcome, std::max<int64_t>(offset, 0), ClampedListLimit(limit));
  int64_t after = 0;
  for (bool more = true; more;) {
    auto rows = Exec(c_.tx, rows_sql, id, after, kPage);
    more = static_cast<int64_t>(rows.size()) == kPage;
    for (const auto& row : rows) {
      auto items = DecodePlanItems(row[2].c_str());
      if (!items) return Fail(std::move(items.error()));
      after = Int(row[0]);
      auto room = page.Add(after, Text(row[1]), *items);
      if (!room) return Fail(std::move(room.error()));
      if (!*room) {
        more = false;
        break;
      }
    }
  }
  // A queued item's job is the one holding it now (a merge may have moved it).
  for (auto& [seq, item] : page.Items()) {
    if (item.outcome != ItemOutcome::kQueued) continue;
    auto hold = Exec(c_.tx, "SELECT job_id FROM backfill_holds WHERE seq = $1 AND stage = $2", seq,
                     item.stage);
    item.job_id = hold.empty() ? 0 : Int(hold[0][0]);
  }
  return page.Take();
}

Result<StageHistory> PgBackfills::History(const StageHistoryQuery& query) {
  // Alone: no other attempt on the asset overlaps this one; looked for among the latest
  // kLookBack samples only (see the SQLite backend).
  constexpr int64_t kLookBack = 50;
  const int64_t samples = std::max(query.samples, 1);
  StageHistorySamples history;
  for (const auto& row :
       Exec(c_.tx,
            "SELECT d.finished_at - d.started_at, d.bytes, a.duration_seconds FROM"
            " (SELECT id, asset_id, started_at, finished_at, bytes FROM derivatives"
            "  WHERE stage = $1 AND ($2 = '' OR recipe = $2) AND state = 'done'"
            "  AND started_at IS NOT NULL AND finished_at IS NOT NULL ORDER BY id DESC"
            "  LIMIT $3) d JOIN assets a ON a.id = d.asset_id"
            " WHERE NOT $4 OR NOT EXISTS (SELECT 1 FROM derivatives o"
            " WHERE o.asset_id = d.asset_id AND o.id <> d.id AND o.started_at < d.finished_at"
            " AND COALESCE(o.finished_at, o.started_at) > d.started_at)"
            " ORDER BY d.id DESC LIMIT $5",
            query.stage, query.recipe, query.alone ? samples * kLookBack : samples,
            std::string(query.alone ? "true" : "false"), samples)) {
    history.Add(Int(row[0]), Int(row[1]), OptionalDouble(row[2]));
  }
  return history.Medians();
}

Result<RollbackResult> PgBackfills::Rollback(const RollbackRequest& request,
                                             const AssetFilter& filter) {
  REPRISE_TRY(CheckRollbackRequest(request));
  // Per asset: the current row C and the row to go back to, T: with a target recipe, its
  // newest successful row (other than C); without, the newest successful row before C
  // built by another recipe.
  PgQuery query;
  const std::string stage = query.Add(request.stage);
  const std::string to = query.Add(request.to_recipe);
  query.sql =
      "SELECT a.id, c.id, c.recipe, t.id, t.recipe FROM assets a"
      " LEFT JOIN derivatives c ON c.asset_id = a.id AND c.stage = " +
      stage +
      " AND c.is_current = 1"
      " LEFT JOIN derivatives t ON t.id = (SELECT d.id FROM derivatives d"
      " WHERE d.asset_id = a.id AND d.stage = " +
      stage + " AND d.state = 'done' AND d.id <> c.id AND CASE WHEN " + to +
      " = '' THEN d.recipe <> c.recipe AND d.id < c.id ELSE d.recipe = " + to +
      " END ORDER BY d.id DESC LIMIT 1) WHERE true";
  AddAssetConditions(filter, query);
  query.sql += " ORDER BY a.created_at, a.id";
  RollbackResult result;
  std::vector<RollbackItem> switches;
  for (const auto& row : Exec(c_.tx, query)) {
    ++result.assets;
    if (row[1].is_null()) {
      ++result.no_current;
    } else if (row[3].is_null()) {
      ++result.no_earlier;
    } else {
      RollbackItem item{Text(row[0]), Text(row[2]), Text(row[4]), Int(row[1]), Int(row[3])};
      if (static_cast<int>(result.items.size()) < request.preview) result.items.push_back(item);
      if (!request.dry_run) switches.push_back(std::move(item));
      ++result.rolled_back;
      ++result.to_recipes[Text(row[4])];
    }
  }
  for (const auto& item : switches) {
    // The old current row first: the partial unique index admits one per (asset, stage).
    Exec(c_.tx, "UPDATE derivatives SET is_current = 0 WHERE id = $1", item.from_id);
    Exec(c_.tx, "UPDATE derivatives SET is_current = 1 WHERE id = $1", item.to_id);
    Exec(c_.tx, "UPDATE assets SET updated_at = $1 WHERE id = $2", c_.now, item.asset_id);
  }
  return result;
}

Result<BackfillPage> PgBackfills::Page(const AssetFilter& scope, const PageRequest& page) {
  auto limit = CheckedPageLimit(page);
  if (!limit) return Fail(std::move(limit.error()));
  auto before = DecodeBackfillCursor(page.cursor);
  if (!before) return Fail(std::move(before.error()));
  // One id beyond the page says whether there is another.
  std::vector<int64_t> ids;
  for (const auto& row : Exec(c_.tx,
                              "SELECT id FROM backfills WHERE ($1::text IS NULL OR owner = $1)"
                              " AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
                              scope.owner, *before, *limit + 1)) {
    ids.push_back(Int(row[0]));
  }
  BackfillPage result;
  if (static_cast<int>(ids.size()) > *limit) {
    ids.resize(static_cast<size_t>(*limit));
    result.next_cursor = EncodeBackfillCursor(ids.back());
  }
  auto counts = CountAll(ids);
  if (!counts) return Fail(std::move(counts.error()));
  for (int64_t id : ids) {
    auto backfill = Get(id, {});
    if (!backfill) return Fail(std::move(backfill.error()));
    result.items.push_back({std::move(*backfill), std::move((*counts)[id])});
  }
  return result;
}

Result<void> SettlePgBackfillItems(PgContext& c, int64_t job_id,
                                   const std::vector<std::string>& stages, JobState job_state,
                                   std::string_view error_code) {
  // The plan rows the job holds items of, with the stages it holds there.
  std::map<int64_t, std::vector<std::string>> held;
  for (const auto& row :
       Exec(c.tx, "SELECT seq, stage FROM backfill_holds WHERE job_id = $1 ORDER BY seq", job_id)) {
    std::string stage = Text(row[1]);
    if (stages.empty() || std::find(stages.begin(), stages.end(), stage) != stages.end()) {
      held[Int(row[0])].push_back(std::move(stage));
    }
  }
  std::map<int64_t, std::vector<StageRecipe>> backfill_stages;
  std::map<int64_t, PlanCountDeltas> counts;
  for (const auto& [seq, held_stages] : held) {
    auto row = LoadPgPlanRow(c, seq);
    if (!row) return Fail(std::move(row.error()));
    auto known = backfill_stages.find(row->backfill_id);
    if (known == backfill_stages.end()) {
      auto parsed = PgBackfillStages(c, row->backfill_id);
      if (!parsed) return Fail(std::move(parsed.error()));
      known = backfill_stages.emplace(row->backfill_id, std::move(*parsed)).first;
    }
    auto look = [&](const StageRecipe& stage, const PlanItem& item) -> Result<HeldItemLook> {
      HeldItemLook seen;
      auto latest = Exec(c.tx,
                         "SELECT state, skip_reason, error_code FROM derivatives"
                         " WHERE asset_id = $1 AND stage = $2 AND id > $3"
                         " AND state IN ('done', 'failed', 'skipped') ORDER BY id DESC LIMIT 1",
                         row->asset_id, stage.stage, item.after_derivative);
      if (!latest.empty()) {
        seen.attempt = ItemAttempt{Text(latest[0][0]), Text(latest[0][1]), Text(latest[0][2])};
        return seen;
      }
      auto current = Exec(c.tx,
                          "SELECT recipe FROM derivatives WHERE asset_id = $1 AND stage = $2"
                          " AND is_current = 1",
                          row->asset_id, stage.stage);
      seen.is_current = !current.empty() && Text(current[0][0]) == stage.recipe;
      return seen;
    };
    REPRISE_TRY(SettleHeldItems(*row, known->second, held_stages, job_id, c.now, job_state,
                                error_code, look, counts[row->backfill_id]));
    StorePgPlanRow(c, *row);
    Exec(c.tx,
         "DELETE FROM backfill_holds WHERE seq = $1 AND stage = ANY"
         " (ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))",
         seq, JsonList(held_stages));
  }
  for (const auto& [backfill_id, changes] : counts) ApplyPgPlanCounts(c, backfill_id, changes);
  return {};
}

}  // namespace reprise::catalog
