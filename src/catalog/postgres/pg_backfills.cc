// Backfills in the PostgreSQL catalog (the contract is the backfill section of
// catalog.h; the storage and rules are the SQLite backend's, see
// catalog/sqlite/sqlite_backfills.h). Plan order is backfill_items.seq.
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
  // Items are written in batches of rows collected from the scan (the scan's cursor is
  // open meanwhile, so the inserts go between its pages, never while it is mid-page).
  std::vector<std::string> batch_assets;
  std::vector<std::string> batch_stages;
  std::vector<std::string> batch_reasons;
  std::vector<std::optional<std::string>> batch_from;
  std::vector<std::string> batch_to;
  auto flush = [&] {
    if (batch_assets.empty()) return;
    json from = json::array();
    for (const auto& recipe : batch_from) from.push_back(recipe ? json(*recipe) : json(nullptr));
    Exec(c_.tx,
         "INSERT INTO backfill_items (backfill_id, asset_id, stage, reason, from_recipe,"
         " to_recipe, outcome, updated_at)"
         " SELECT $1, x.asset_id, x.stage, x.reason, x.from_recipe, x.to_recipe, 'pending', $2"
         " FROM ROWS FROM (jsonb_array_elements_text($3::jsonb),"
         " jsonb_array_elements_text($4::jsonb), jsonb_array_elements_text($5::jsonb),"
         " jsonb_array_elements_text($6::jsonb), jsonb_array_elements_text($7::jsonb))"
         " WITH ORDINALITY x(asset_id, stage, reason, from_recipe, to_recipe, n) ORDER BY x.n",
         id, c_.now, JsonList(batch_assets), JsonList(batch_stages), JsonList(batch_reasons),
         DumpJson(from), JsonList(batch_to));
    batch_assets.clear();
    batch_stages.clear();
    batch_reasons.clear();
    batch_from.clear();
    batch_to.clear();
  };
  std::vector<StagePair> selected;
  REPRISE_TRY(ScanPairs(backfill.stages, filter, [&](const StagePair& pair) {
    PairDecision decision = select(pair);
    if (decision.action == PairDecision::kStop) return false;
    if (decision.action != PairDecision::kSelect) return true;
    const StageRecipe& stage = backfill.stages[pair.stage_index];
    std::optional<std::string> from;
    if (std::string recipe = pair.FromRecipe(stage.recipe); !recipe.empty()) from = recipe;
    batch_assets.push_back(pair.asset_id);
    batch_stages.push_back(stage.stage);
    batch_reasons.push_back(decision.reason);
    batch_from.push_back(std::move(from));
    batch_to.push_back(stage.recipe);
    if (batch_assets.size() >= static_cast<size_t>(kPgScanPage)) flush();
    return true;
  }));
  flush();
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
  return Int(Exec(c_.tx,
                  "SELECT COUNT(DISTINCT job_id) FROM backfill_items WHERE backfill_id = $1"
                  " AND outcome = 'queued'",
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
  // The pending items of the next assets in plan order: the first `budget` assets that
  // have any, with all their pending items.
  std::vector<std::pair<std::string, std::vector<PendingBackfillItem>>> assets;
  if (budget > 0) {
    for (const auto& row :
         Exec(c_.tx,
              "WITH next AS (SELECT asset_id, MIN(seq) AS first"
              " FROM backfill_items WHERE backfill_id = $1 AND outcome = 'pending'"
              " GROUP BY asset_id ORDER BY first LIMIT $2)"
              " SELECT i.seq, i.asset_id, i.stage, i.reason FROM backfill_items i"
              " JOIN next ON next.asset_id = i.asset_id WHERE i.backfill_id = $1"
              " AND i.outcome = 'pending' ORDER BY next.first, i.seq",
              id, budget)) {
      std::string asset_id = Text(row[1]);
      if (assets.empty() || assets.back().first != asset_id) {
        assets.emplace_back(asset_id, std::vector<PendingBackfillItem>{});
      }
      assets.back().second.push_back({Int(row[0]), Text(row[2]), ForcedFor(request, Text(row[3]))});
    }
  }
  DispatchResult result;
  const int64_t newest_derivative =
      Int(Exec(c_.tx, "SELECT COALESCE(MAX(id), 0) FROM derivatives")[0][0]);
  PgJobs jobs(c_);
  for (const auto& [asset_id, items] : assets) {
    auto job = EnqueueBackfillItems([&](const NewJob& part) { return jobs.Enqueue(part); }, id,
                                    asset_id, items, request);
    if (!job) return Fail(std::move(job.error()));
    for (const auto& item : items) {
      const bool queued =
          std::find(job->enqueued.begin(), job->enqueued.end(), item.stage) != job->enqueued.end();
      std::optional<int64_t> job_id;
      if (queued) job_id = job->job_id;
      Exec(c_.tx,
           "UPDATE backfill_items SET outcome = $1, job_id = $2, skip_reason = $3,"
           " updated_at = $4, after_derivative = $5 WHERE seq = $6",
           std::string(queued ? "queued" : "skipped"), job_id,
           std::string(queued ? "" : "already_active"), c_.now, newest_derivative, item.key);
      ++(queued ? result.items_queued : result.items_skipped);
    }
    if (!job->enqueued.empty()) {
      ++result.jobs;
      if (request.mark_processing) {
        Exec(c_.tx, "UPDATE assets SET status = 'processing', updated_at = $1 WHERE id = $2",
             c_.now, asset_id);
      }
    }
  }
  result.more_pending = !Exec(c_.tx,
                              "SELECT 1 FROM backfill_items WHERE backfill_id = $1"
                              " AND outcome = 'pending' LIMIT 1",
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
  // Queued jobs holding items of this backfill, with the stages that are its.
  std::map<int64_t, std::vector<std::string>> held;
  std::set<int64_t> running;
  for (const auto& row : Exec(c_.tx,
                              "SELECT i.job_id, i.stage, j.state FROM backfill_items i"
                              " JOIN jobs j ON j.id = i.job_id WHERE i.backfill_id = $1"
                              " AND i.outcome = 'queued' ORDER BY i.job_id FOR UPDATE OF j",
                              id)) {
    const std::string state = Text(row[2]);
    if (state == "queued") {
      held[Int(row[0])].push_back(Text(row[1]));
    } else if (state == "running") {
      running.insert(Int(row[0]));
    }
  }
  for (const auto& [job_id, stages] : held) {
    // Only the backfill's stages leave the job: live work merged into it stays queued.
    Exec(c_.tx,
         "DELETE FROM job_stages WHERE job_id = $1 AND stage = ANY"
         " (ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))",
         job_id, JsonList(stages));
    // Items first: deleting the job would clear their job_id (ON DELETE SET NULL).
    Exec(c_.tx,
         "UPDATE backfill_items SET outcome = $1, job_id = NULL, updated_at = $2"
         " WHERE backfill_id = $3 AND job_id = $4 AND outcome = 'queued'",
         std::string(cancel ? "cancelled" : "pending"), c_.now, id, job_id);
    Exec(c_.tx,
         "DELETE FROM jobs WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM job_stages"
         " WHERE job_id = $1)",
         job_id);
  }
  if (cancel) {
    Exec(c_.tx,
         "UPDATE backfill_items SET outcome = 'cancelled', updated_at = $1"
         " WHERE backfill_id = $2 AND outcome = 'pending'",
         c_.now, id);
    for (int64_t job_id : running) {
      Exec(c_.tx,
           "UPDATE jobs SET cancel_requested = 1 WHERE id = $1 AND backfill_id = $2"
           " AND state = 'running'",
           job_id, id);
    }
  }
  return static_cast<int64_t>(held.size());
}

Result<std::map<int64_t, BackfillCounts>> PgBackfills::CountAll(const std::vector<int64_t>& ids) {
  std::map<int64_t, BackfillCounts> counts;
  for (int64_t id : ids) counts[id];
  const std::string id_list = JsonList(ids);
  const std::string in_ids =
      "backfill_id = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)::bigint))";
  for (const auto& row :
       Exec(c_.tx,
            "SELECT backfill_id, outcome, skip_reason, error_code, COUNT(*) FROM backfill_items"
            " WHERE " +
                in_ids + " GROUP BY backfill_id, outcome, skip_reason, error_code",
            id_list)) {
    auto outcome = ParseItemOutcome(Text(row[1]));
    if (!outcome) return Fail(std::move(outcome.error()));
    BackfillCounts& c = counts[Int(row[0])];
    const int64_t n = Int(row[4]);
    c.total += n;
    c.by_outcome[*outcome] += n;
    if (*outcome == ItemOutcome::kSkipped) c.skipped_by_reason[Text(row[2])] += n;
    if (*outcome == ItemOutcome::kFailed) c.failed_by_code[Text(row[3])] += n;
  }
  // Up to three distinct assets per error code, in plan order (an asset failing in
  // several stages has an item per stage but is one example).
  for (const auto& row :
       Exec(c_.tx,
            "SELECT backfill_id, error_code, asset_id FROM (SELECT backfill_id, error_code,"
            " asset_id, ROW_NUMBER() OVER (PARTITION BY backfill_id, error_code"
            " ORDER BY MIN(seq)) AS n FROM backfill_items WHERE " +
                in_ids +
                " AND outcome = 'failed' GROUP BY backfill_id, error_code, asset_id) e"
                " WHERE n <= 3 ORDER BY backfill_id, error_code, n",
            id_list)) {
    counts[Int(row[0])].failed_examples[Text(row[1])].push_back(Text(row[2]));
  }
  for (const auto& row : Exec(c_.tx,
                              "SELECT backfill_id, COUNT(DISTINCT job_id) FROM backfill_items"
                              " WHERE " +
                                  in_ids + " AND outcome = 'queued' GROUP BY backfill_id",
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
            "SELECT b.id, b.state, COUNT(*), COUNT(DISTINCT i.asset_id) FROM backfills b"
            " JOIN backfill_items i ON i.backfill_id = b.id AND i.outcome = 'pending'"
            " WHERE b.state = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))"
            " AND ($2::text IS NULL OR i.asset_id IN (SELECT id FROM assets WHERE owner = $2))"
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
  std::optional<std::string> wanted;
  if (outcome) wanted = std::string(Name(*outcome));
  std::vector<BackfillItem> items;
  for (const auto& row : Exec(c_.tx,
                              "SELECT asset_id, stage, reason, from_recipe, to_recipe, outcome,"
                              " skip_reason, error_code, job_id, updated_at FROM backfill_items"
                              " WHERE backfill_id = $1 AND ($2::text IS NULL OR outcome = $2)"
                              " ORDER BY seq LIMIT $3 OFFSET $4",
                              id, wanted, ClampedListLimit(limit), std::max<int64_t>(offset, 0))) {
    BackfillItem item;
    item.asset_id = Text(row[0]);
    item.stage = Text(row[1]);
    item.reason = Text(row[2]);
    item.from_recipe = Text(row[3]);
    item.to_recipe = Text(row[4]);
    auto parsed = ParseItemOutcome(Text(row[5]));
    if (!parsed) return Fail(std::move(parsed.error()));
    item.outcome = *parsed;
    item.skip_reason = Text(row[6]);
    item.error_code = Text(row[7]);
    item.job_id = Int(row[8]);
    item.updated_at = Int(row[9]);
    items.push_back(std::move(item));
  }
  return items;
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
  const auto held = Exec(c.tx,
                         "SELECT seq, asset_id, stage, after_derivative, to_recipe"
                         " FROM backfill_items WHERE job_id = $1 AND outcome = 'queued'"
                         " ORDER BY seq FOR UPDATE",
                         job_id);
  for (const auto& item : held) {
    const std::string asset_id = Text(item[1]);
    const std::string stage = Text(item[2]);
    if (!stages.empty() && std::find(stages.begin(), stages.end(), stage) == stages.end()) {
      continue;
    }
    std::optional<ItemAttempt> attempt;
    auto latest = Exec(c.tx,
                       "SELECT state, skip_reason, error_code FROM derivatives WHERE asset_id = $1"
                       " AND stage = $2 AND id > $3 AND state IN ('done', 'failed', 'skipped')"
                       " ORDER BY id DESC LIMIT 1",
                       asset_id, stage, Int(item[3]));
    if (!latest.empty()) {
      attempt = ItemAttempt{Text(latest[0][0]), Text(latest[0][1]), Text(latest[0][2])};
    }
    bool is_current = false;
    if (!attempt) {
      auto current = Exec(c.tx,
                          "SELECT recipe FROM derivatives WHERE asset_id = $1 AND stage = $2"
                          " AND is_current = 1",
                          asset_id, stage);
      is_current = !current.empty() && Text(current[0][0]) == Text(item[4]);
    }
    const ItemEnd end = EndOfQueuedItem(attempt, is_current, job_state, error_code);
    Exec(c.tx,
         "UPDATE backfill_items SET outcome = $1, skip_reason = $2, error_code = $3,"
         " updated_at = $4 WHERE seq = $5",
         end.outcome, end.skip_reason, end.error_code, c.now, Int(item[0]));
  }
  return {};
}

}  // namespace reprise::catalog
