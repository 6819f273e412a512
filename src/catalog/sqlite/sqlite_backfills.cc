#include "catalog/sqlite/sqlite_backfills.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include "catalog/backfill_dispatch.h"
#include "catalog/pair_chunk.h"
#include "catalog/sqlite/sqlite_backfill_plan.h"
#include "catalog/sqlite/sqlite_events.h"
#include "catalog/sqlite/sqlite_jobs.h"
#include "catalog/sqlite/sqlite_queries.h"
#include "catalog/sqlite/sqlite_rate_starts.h"

namespace reprise::catalog {
namespace {

std::string Describe(int64_t id) { return "backfill " + std::to_string(id); }

// How a backfill scan reads the catalog (bench/backfill_plan.cc, docs/PERFORMANCE.md).
//
// The outer walk reads the assets of the filter in plan order, (created_at, id), which
// the assets_created index gives without a sort. It is cut into PairChunks, and for each
// chunk one lookup per table fetches what decides each (asset, stage) pair's status: the
// derivative rows, the active job stages, and quarantine entries. Each lookup descends
// its index once per asset (or content), not once per pair, and takes the keys sorted
// so neighbouring descents share pages. derivatives_history covers every column read
// here (migration 4), so no table row is fetched: those fetches, at random rowids, were
// most of a million-asset dry run. PairChunk sorts the rows out to the pairs.

SqlQuery ScanAssetsQuery(const AssetFilter& filter) {
  SqlQuery conditions = AssetConditions(filter);
  SqlQuery query;
  query.sql = "SELECT a.id, a.created_at, a.duration_seconds, a.sha256 FROM assets a WHERE 1 = 1" +
              conditions.sql + " ORDER BY a.created_at, a.id";
  query.binds = std::move(conditions.binds);
  return query;
}

// Chunk lookups: parameter 1 is a JSON array of the chunk's sorted keys (asset ids or
// sha256), column 0 the key's position in it, column 1 the stage.
constexpr std::string_view kChunkDerivatives =
    "WITH keys (n, key) AS MATERIALIZED (SELECT key, value FROM json_each(?1))"
    " SELECT keys.n, d.stage, d.id, d.recipe, d.is_current, d.state, d.skip_reason,"
    " d.error_code FROM keys CROSS JOIN derivatives d INDEXED BY derivatives_history"
    " WHERE d.asset_id = keys.key";
constexpr std::string_view kChunkActive =
    "WITH keys (n, key) AS MATERIALIZED (SELECT key, value FROM json_each(?1))"
    " SELECT keys.n, s.stage FROM keys CROSS JOIN job_stages s INDEXED BY job_stages_active"
    " WHERE s.asset_id = keys.key AND s.active = 1";
constexpr std::string_view kChunkQuarantine =
    "WITH keys (n, key) AS MATERIALIZED (SELECT key, value FROM json_each(?1))"
    " SELECT keys.n, q.stage, q.recipe FROM keys CROSS JOIN quarantine q"
    " WHERE q.sha256 = keys.key";

// Columns 5..7 of a kChunkDerivatives row, read only when PairChunk asks.
class RowDetails final : public PairChunk::Details {
 public:
  explicit RowDetails(const Statement& row) : row_(row) {}
  [[nodiscard]] std::string_view State() const override { return row_.TextView(5); }
  [[nodiscard]] std::string_view SkipReason() const override { return row_.TextView(6); }
  [[nodiscard]] std::string_view ErrorCode() const override { return row_.TextView(7); }

 private:
  const Statement& row_;
};

class PairScanner {
 public:
  PairScanner(SqliteConnection& db, const std::vector<StageRecipe>& stages,
              const Catalog::PairVisitor& visit)
      : db_(db), chunk_(stages), visit_(visit) {}

  // False when the visitor stopped the scan.
  Result<bool> Run(const AssetFilter& filter) {
    auto any = db_.Prepare(
        "SELECT EXISTS (SELECT 1 FROM quarantine),"
        " EXISTS (SELECT 1 FROM job_stages WHERE active = 1)");
    if (!any) return Fail(std::move(any.error()));
    auto row = any->Step();
    if (!row) return Fail(std::move(row.error()));
    any_quarantine_ = any->Int64(0) != 0;
    any_active_ = any->Int64(1) != 0;

    SqlQuery query = ScanAssetsQuery(filter);
    auto select = db_.Prepare(query.sql);
    if (!select) return Fail(std::move(select.error()));
    select->BindAll(query.binds);
    bool more = true;
    REPRISE_TRY(select->ForEachRow([&](const Statement& asset) -> Result<bool> {
      chunk_.Add({asset.Text(0), asset.Int64(1), asset.OptionalDouble(2), asset.Text(3)});
      if (!chunk_.Full()) return true;
      auto flushed = Flush();
      if (flushed) more = *flushed;
      return flushed;
    }));
    if (more && !chunk_.Empty()) {
      auto flushed = Flush();
      if (!flushed) return Fail(std::move(flushed.error()));
      more = *flushed;
    }
    return more;
  }

 private:
  // Looks the chunk's pairs up and visits them; false when the visitor stopped.
  Result<bool> Flush() {
    const PairChunk::Keys ids = chunk_.AssetIds();
    REPRISE_TRY(Lookup(kChunkDerivatives, ids, [&](size_t n, const Statement& row) {
      const RowDetails details(row);
      return chunk_.AddDerivative(ids, n, row.TextView(1), row.Int64(2), row.TextView(3),
                                  row.Int64(4) != 0, details);
    }));
    if (any_active_) {
      REPRISE_TRY(Lookup(kChunkActive, ids, [&](size_t n, const Statement& row) {
        return chunk_.MarkActive(ids, n, row.TextView(1));
      }));
    }
    if (any_quarantine_) {
      const PairChunk::Keys contents = chunk_.Contents();
      REPRISE_TRY(Lookup(kChunkQuarantine, contents, [&](size_t n, const Statement& row) {
        return chunk_.MarkQuarantined(contents, n, row.TextView(1), row.TextView(2));
      }));
    }
    return chunk_.Visit(visit_);
  }

  // Runs one chunk lookup, handing each row with its key position to `apply`.
  template <class Apply>
  Result<void> Lookup(std::string_view sql, const PairChunk::Keys& keys, Apply&& apply) {
    auto select = db_.Prepare(sql);
    if (!select) return Fail(std::move(select.error()));
    select->BindText(keys.json);
    return select->ForEachRow([&](const Statement& row) -> Result<bool> {
      REPRISE_TRY(apply(static_cast<size_t>(row.Int64(0)), row));
      return true;
    });
  }

  SqliteConnection& db_;
  PairChunk chunk_;
  const Catalog::PairVisitor& visit_;
  bool any_quarantine_ = false;
  bool any_active_ = false;
};

}  // namespace

Result<void> SqliteBackfills::ScanPairs(const std::vector<StageRecipe>& stages,
                                        const AssetFilter& filter,
                                        const Catalog::PairVisitor& visit) {
  REPRISE_TRY(CheckBackfillStages(stages));
  PairScanner scanner(db_, stages, visit);
  auto scanned = scanner.Run(filter);
  if (!scanned) return Fail(std::move(scanned.error()));
  return {};
}

Result<Backfill> SqliteBackfills::Create(const NewBackfill& backfill, const AssetFilter& filter,
                                         const Catalog::PairSelector& select) {
  REPRISE_TRY(CheckBackfillStages(backfill.stages));
  int64_t id = 0;
  {
    auto insert = db_.Prepare(
        "INSERT INTO backfills (owner, stages, mode, filter, options, plan, state, created_at,"
        " updated_at, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
    if (!insert) return Fail(std::move(insert.error()));
    std::optional<std::string> owner;
    if (!backfill.owner.empty()) owner = backfill.owner;
    std::optional<int64_t> started;
    if (backfill.state == BackfillState::kRunning) started = now_;
    insert->BindOptionalText(owner)
        .BindText(StagesJson(backfill.stages).dump())
        .BindText(Name(backfill.mode))
        .BindText(backfill.filter.dump())
        .BindText(backfill.options.dump())
        .BindText(backfill.plan.dump())
        .BindText(Name(backfill.state))
        .BindInt64(now_)
        .BindInt64(now_)
        .BindOptionalInt64(started);
    auto row = insert->Step();
    if (!row) return Fail(std::move(row.error()));
    if (!*row) return Fail(ErrorCode::kInternal, "INSERT ... RETURNING gave no id");
    id = insert->Int64(0);
    REPRISE_TRY(insert->Run());
  }
  // One backfill_plan row per asset: the scan gives an asset's pairs one after another
  // (plan order), so its items are collected until the next asset comes.
  std::optional<Error> failed;
  std::string asset_id;
  std::vector<PlanItem> items;
  int64_t planned = 0;
  auto flush = [&]() -> Result<void> {
    if (items.empty()) return {};
    auto insert = db_.Prepare(
        "INSERT INTO backfill_plan (backfill_id, asset_id, pending, items) VALUES (?, ?, ?, ?)");
    if (!insert) return Fail(std::move(insert.error()));
    insert->BindInt64(id)
        .BindText(asset_id)
        .BindInt64(static_cast<int64_t>(items.size()))
        .BindText(EncodePlanItems(items));
    REPRISE_TRY(insert->Run());
    planned += static_cast<int64_t>(items.size());
    items.clear();
    return {};
  };
  REPRISE_TRY(ScanPairs(backfill.stages, filter, [&](const StagePair& pair) {
    PairDecision decision = select(pair);
    if (decision.action == PairDecision::kStop) return false;
    if (decision.action != PairDecision::kSelect) return true;
    if (pair.asset_id != asset_id) {
      if (auto flushed = flush(); !flushed) {
        failed = std::move(flushed.error());
        return false;
      }
      asset_id = pair.asset_id;
    }
    PlanItem item;
    item.stage = static_cast<int64_t>(pair.stage_index);
    item.reason = std::move(decision.reason);
    item.from_recipe = pair.FromRecipe(backfill.stages[pair.stage_index].recipe);
    item.updated_at = now_;
    items.push_back(std::move(item));
    return true;
  }));
  if (failed) return Fail(std::move(*failed));
  REPRISE_TRY(flush());
  PlanCountDeltas counts;
  counts.Add(PlanItem{}, planned);
  REPRISE_TRY(ApplyPlanCounts(db_, id, counts));
  if (failed) return Fail(std::move(*failed));
  return Get(id, {});
}

Result<Backfill> SqliteBackfills::Get(int64_t id, const AssetFilter& scope) {
  auto select = db_.Prepare("SELECT " + std::string(kBackfillColumns) +
                            " FROM backfills WHERE id = ? AND (? IS NULL OR owner = ?)");
  if (!select) return Fail(std::move(select.error()));
  select->BindInt64(id).BindOptionalText(scope.owner).BindOptionalText(scope.owner);
  auto row = select->Step();
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return Fail(ErrorCode::kNotFound, Describe(id) + " not found");
  return ReadBackfill(*select);
}

Result<std::vector<Backfill>> SqliteBackfills::List(const AssetFilter& scope, int limit) {
  auto select = db_.Prepare("SELECT " + std::string(kBackfillColumns) +
                            " FROM backfills WHERE (? IS NULL OR owner = ?) ORDER BY id DESC"
                            " LIMIT ?");
  if (!select) return Fail(std::move(select.error()));
  select->BindOptionalText(scope.owner)
      .BindOptionalText(scope.owner)
      .BindInt64(ClampedListLimit(limit));
  std::vector<Backfill> backfills;
  REPRISE_TRY(select->ForEachRow([&](const Statement&) -> Result<bool> {
    auto backfill = ReadBackfill(*select);
    if (!backfill) return Fail(std::move(backfill.error()));
    backfills.push_back(std::move(*backfill));
    return true;
  }));
  return backfills;
}

Result<Backfill> SqliteBackfills::SetState(int64_t id, const std::vector<BackfillState>& from,
                                           BackfillState to, std::string_view reason) {
  auto current = Get(id, {});
  if (!current) return Fail(std::move(current.error()));
  if (std::find(from.begin(), from.end(), current->state) == from.end()) {
    return Fail(ErrorCode::kConflict, Describe(id) + " is " + std::string(Name(current->state)) +
                                          ", so it cannot become " + std::string(Name(to)));
  }
  auto update = db_.Prepare(
      "UPDATE backfills SET state = ?, updated_at = ?,"
      " started_at = CASE WHEN ? = 'running' THEN COALESCE(started_at, ?) ELSE started_at END,"
      " finished_at = CASE WHEN ? THEN ? ELSE finished_at END,"
      " stop_reason = CASE WHEN ? = '' THEN stop_reason ELSE ? END WHERE id = ?");
  if (!update) return Fail(std::move(update.error()));
  update->BindText(Name(to))
      .BindInt64(now_)
      .BindText(Name(to))
      .BindInt64(now_)
      .BindInt64(IsFinal(to) ? 1 : 0)
      .BindInt64(now_)
      .BindText(reason)
      .BindText(reason)
      .BindInt64(id);
  REPRISE_TRY(update->Run());
  auto moved = Get(id, {});
  if (!moved) return Fail(std::move(moved.error()));
  if (IsFinal(to) && !IsFinal(current->state)) {
    REPRISE_TRY(AppendBackfillFinished(db_, now_, *moved));
  }
  return moved;
}

Result<bool> SqliteBackfills::ClaimDriver(int64_t id, std::string_view driver,
                                          int64_t lease_micros) {
  REPRISE_TRY(CheckDriverClaim(driver, lease_micros));
  auto update = db_.Prepare(
      "UPDATE backfills SET driver = ?, driver_expires_at = ? WHERE id = ?"
      " AND (driver IS NULL OR driver = ? OR driver_expires_at < ?) RETURNING id");
  if (!update) return Fail(std::move(update.error()));
  update->BindText(driver)
      .BindInt64(now_ + lease_micros)
      .BindInt64(id)
      .BindText(driver)
      .BindInt64(now_);
  auto row = update->Step();
  if (!row) return Fail(std::move(row.error()));
  bool held = *row;
  REPRISE_TRY(update->Run());
  if (!held) {
    auto exists = Get(id, {});
    if (!exists) return Fail(std::move(exists.error()));
  }
  return held;
}

Result<void> SqliteBackfills::ReleaseDriver(int64_t id, std::string_view driver) {
  auto update = db_.Prepare(
      "UPDATE backfills SET driver = NULL, driver_expires_at = NULL WHERE id = ? AND driver = ?");
  if (!update) return Fail(std::move(update.error()));
  update->BindInt64(id).BindText(driver);
  return update->Run();
}

Result<std::vector<int64_t>> SqliteBackfills::ListUndriven() {
  auto select = db_.Prepare(
      "SELECT id FROM backfills WHERE state IN ('running', 'cancelling')"
      " AND (driver IS NULL OR driver_expires_at < ?) ORDER BY id");
  if (!select) return Fail(std::move(select.error()));
  select->BindInt64(now_);
  std::vector<int64_t> ids;
  REPRISE_TRY(select->ForEachRow([&](const Statement&) -> Result<bool> {
    ids.push_back(select->Int64(0));
    return true;
  }));
  return ids;
}

Result<DispatchResult> SqliteBackfills::Dispatch(int64_t id, const DispatchRequest& request) {
  auto backfill = Get(id, {});
  if (!backfill) return Fail(std::move(backfill.error()));
  if (request.max_assets > 0 && backfill->state != BackfillState::kRunning) {
    return Fail(ErrorCode::kConflict,
                Describe(id) + " is " + std::string(Name(backfill->state)) + ", not running");
  }
  auto active = CountActiveJobs(id);
  if (!active) return Fail(std::move(active.error()));
  int64_t budget = request.max_assets;
  if (request.max_active > 0) budget = std::min<int64_t>(budget, request.max_active - *active);
  // The start rate's bucket is kept in the database, so a driver taking over inherits it.
  SqliteRateStarts starts(db_, now_);
  std::optional<TokenBucket> bucket;
  if (request.rate_per_second > 0) {
    auto stored = starts.LoadBucket(BackfillRateKey(id));
    if (!stored) return Fail(std::move(stored.error()));
    bucket = RefillBucket(*stored, request.rate_per_second, now_);
    budget = std::min(budget, static_cast<int64_t>(std::floor(bucket->tokens)));
  }
  // The plan rows of the next assets with pending items, collected before anything
  // changes (the scan walks the index the updates below rewrite).
  std::vector<PlanRow> rows;
  if (budget > 0) {
    auto select = db_.Prepare(
        "SELECT seq, asset_id, items FROM backfill_plan WHERE backfill_id = ? AND pending > 0"
        " ORDER BY seq LIMIT ?");
    if (!select) return Fail(std::move(select.error()));
    select->BindInt64(id).BindInt64(budget);
    REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
      auto items = DecodePlanItems(row.TextView(2));
      if (!items) return Fail(std::move(items.error()));
      rows.push_back({row.Int64(0), id, row.Text(1), std::move(*items)});
      return true;
    }));
  }
  DispatchResult result;
  int64_t newest_derivative = 0;
  {
    auto newest = db_.Prepare("SELECT COALESCE(MAX(id), 0) FROM derivatives");
    if (!newest) return Fail(std::move(newest.error()));
    auto row = newest->Step();
    if (!row) return Fail(std::move(row.error()));
    newest_derivative = *row ? newest->Int64(0) : 0;
    REPRISE_TRY(newest->Run());
  }
  SqliteJobs jobs(db_, now_);
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
    const EnqueueResult& enqueued = *job;
    for (auto& item : row.items) {
      if (item.outcome != ItemOutcome::kPending) continue;
      const std::string& stage = backfill->stages[item.stage].stage;
      const bool queued = std::find(enqueued.enqueued.begin(), enqueued.enqueued.end(), stage) !=
                          enqueued.enqueued.end();
      const PlanItem before = item;
      item.outcome = queued ? ItemOutcome::kQueued : ItemOutcome::kSkipped;
      item.job_id = queued ? enqueued.job_id : 0;
      item.skip_reason = queued ? "" : "already_active";
      item.updated_at = now_;
      item.after_derivative = newest_derivative;
      counts.Move(before, item);
      if (queued) {
        auto hold = db_.Prepare(
            "INSERT INTO backfill_holds (seq, stage, backfill_id, job_id) VALUES (?, ?, ?, ?)");
        if (!hold) return Fail(std::move(hold.error()));
        hold->BindInt64(row.seq).BindText(stage).BindInt64(id).BindInt64(enqueued.job_id);
        REPRISE_TRY(hold->Run());
      }
      ++(queued ? result.items_queued : result.items_skipped);
    }
    REPRISE_TRY(StorePlanRow(db_, row));
    if (!enqueued.enqueued.empty()) {
      ++result.jobs;
      if (request.mark_processing) {
        auto mark =
            db_.Prepare("UPDATE assets SET status = 'processing', updated_at = ? WHERE id = ?");
        if (!mark) return Fail(std::move(mark.error()));
        mark->BindInt64(now_).BindText(row.asset_id);
        REPRISE_TRY(mark->Run());
      }
    }
  }
  REPRISE_TRY(ApplyPlanCounts(db_, id, counts));
  auto left = db_.Prepare(
      "SELECT EXISTS (SELECT 1 FROM backfill_plan WHERE backfill_id = ? AND pending > 0)");
  if (!left) return Fail(std::move(left.error()));
  left->BindInt64(id);
  auto row = left->Step();
  if (!row) return Fail(std::move(row.error()));
  result.more_pending = *row && left->Int64(0) != 0;
  REPRISE_TRY(left->Run());
  auto after = CountActiveJobs(id);
  if (!after) return Fail(std::move(after.error()));
  result.active_jobs = *after;
  if (bucket) {
    bucket->tokens -= static_cast<double>(result.jobs);
    REPRISE_TRY(starts.StoreBucket(BackfillRateKey(id), *bucket));
  }
  return result;
}

Result<int64_t> SqliteBackfills::Withdraw(int64_t id, bool cancel) {
  if (auto exists = Get(id, {}); !exists) return Fail(std::move(exists.error()));
  // Queued jobs holding items of this backfill: the plan rows and stages they hold.
  std::map<int64_t, std::vector<std::pair<int64_t, std::string>>> held;
  std::set<int64_t> running;
  {
    auto select = db_.Prepare(
        "SELECT h.job_id, h.seq, h.stage, j.state FROM backfill_holds h"
        " JOIN jobs j ON j.id = h.job_id WHERE h.backfill_id = ?");
    if (!select) return Fail(std::move(select.error()));
    select->BindInt64(id);
    REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
      if (row.TextView(3) == "queued") {
        held[row.Int64(0)].emplace_back(row.Int64(1), row.Text(2));
      } else if (row.TextView(3) == "running") {
        running.insert(row.Int64(0));
      }
      return true;
    }));
  }
  auto stages = BackfillStageIndex(id);
  if (!stages) return Fail(std::move(stages.error()));
  PlanCountDeltas counts;
  const ItemOutcome back = cancel ? ItemOutcome::kCancelled : ItemOutcome::kPending;
  for (const auto& [job_id, holds] : held) {
    // Only the backfill's stages leave the job: live work merged into it stays queued.
    nlohmann::json names = nlohmann::json::array();
    for (const auto& hold : holds) names.push_back(hold.second);
    auto drop = db_.Prepare(
        "DELETE FROM job_stages WHERE job_id = ? AND stage IN (SELECT value FROM json_each(?))");
    if (!drop) return Fail(std::move(drop.error()));
    drop->BindInt64(job_id).BindText(names.dump());
    REPRISE_TRY(drop->Run());
    for (const auto& [seq, stage] : holds) {
      auto row = LoadPlanRow(db_, seq);
      if (!row) return Fail(std::move(row.error()));
      for (auto& item : row->items) {
        if (item.outcome != ItemOutcome::kQueued ||
            static_cast<size_t>(item.stage) >= stages->size() || (*stages)[item.stage] != stage) {
          continue;
        }
        const PlanItem before = item;
        item.outcome = back;
        item.job_id = 0;
        item.updated_at = now_;
        counts.Move(before, item);
      }
      REPRISE_TRY(StorePlanRow(db_, *row));
    }
    auto release = db_.Prepare("DELETE FROM backfill_holds WHERE job_id = ? AND backfill_id = ?");
    if (!release) return Fail(std::move(release.error()));
    release->BindInt64(job_id).BindInt64(id);
    REPRISE_TRY(release->Run());
    auto empty = db_.Prepare(
        "DELETE FROM jobs WHERE id = ? AND NOT EXISTS"
        " (SELECT 1 FROM job_stages WHERE job_id = ?)");
    if (!empty) return Fail(std::move(empty.error()));
    empty->BindInt64(job_id).BindInt64(job_id);
    REPRISE_TRY(empty->Run());
  }
  if (cancel) {
    std::vector<PlanRow> rows;
    auto select = db_.Prepare(
        "SELECT seq, asset_id, items FROM backfill_plan WHERE backfill_id = ? AND pending > 0");
    if (!select) return Fail(std::move(select.error()));
    select->BindInt64(id);
    REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
      auto items = DecodePlanItems(row.TextView(2));
      if (!items) return Fail(std::move(items.error()));
      rows.push_back({row.Int64(0), id, row.Text(1), std::move(*items)});
      return true;
    }));
    for (auto& row : rows) {
      for (auto& item : row.items) {
        if (item.outcome != ItemOutcome::kPending) continue;
        const PlanItem before = item;
        item.outcome = ItemOutcome::kCancelled;
        item.updated_at = now_;
        counts.Move(before, item);
      }
      REPRISE_TRY(StorePlanRow(db_, row));
    }
    for (int64_t job_id : running) {
      auto stop = db_.Prepare(
          "UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND backfill_id = ?"
          " AND state = 'running'");
      if (!stop) return Fail(std::move(stop.error()));
      stop->BindInt64(job_id).BindInt64(id);
      REPRISE_TRY(stop->Run());
    }
  }
  REPRISE_TRY(ApplyPlanCounts(db_, id, counts));
  return static_cast<int64_t>(held.size());
}

Result<std::vector<std::string>> SqliteBackfills::BackfillStageIndex(int64_t id) {
  auto select = db_.Prepare("SELECT stages FROM backfills WHERE id = ?");
  if (!select) return Fail(std::move(select.error()));
  select->BindInt64(id);
  auto row = select->Step();
  if (!row) return Fail(std::move(row.error()));
  std::vector<std::string> names;
  if (!*row) return names;
  auto stages = StagesFromJson(select->TextView(0));
  if (!stages) return Fail(std::move(stages.error()));
  REPRISE_TRY(select->Run());
  for (const auto& stage : *stages) names.push_back(stage.stage);
  return names;
}

Result<int64_t> SqliteBackfills::CountActiveJobs(int64_t id) {
  auto select =
      db_.Prepare("SELECT COUNT(DISTINCT job_id) FROM backfill_holds WHERE backfill_id = ?");
  if (!select) return Fail(std::move(select.error()));
  select->BindInt64(id);
  auto row = select->Step();
  if (!row) return Fail(std::move(row.error()));
  return *row ? select->Int64(0) : 0;
}

Result<BackfillCounts> SqliteBackfills::Count(int64_t id) {
  auto counts = CountPlans(db_, {id});
  if (!counts) return Fail(std::move(counts.error()));
  return std::move((*counts)[id]);
}

Result<std::vector<BackfillBacklog>> SqliteBackfills::CountUndispatched(
    const std::vector<BackfillState>& states, const AssetFilter& scope) {
  nlohmann::json wanted = nlohmann::json::array();
  for (auto state : states) wanted.push_back(Name(state));
  auto select = db_.Prepare(
      "SELECT b.id, b.state, SUM(p.pending), COUNT(*) FROM backfills b"
      " JOIN backfill_plan p ON p.backfill_id = b.id AND p.pending > 0"
      " WHERE b.state IN (SELECT value FROM json_each(?))"
      " AND (? IS NULL OR p.asset_id IN (SELECT id FROM assets WHERE owner = ?))"
      " GROUP BY b.id ORDER BY b.id");
  if (!select) return Fail(std::move(select.error()));
  select->BindText(wanted.dump()).BindOptionalText(scope.owner).BindOptionalText(scope.owner);
  std::vector<BackfillBacklog> backlog;
  REPRISE_TRY(select->ForEachRow([&](const Statement&) -> Result<bool> {
    auto state = ParseBackfillState(select->Text(1));
    if (!state) return Fail(state.error().Wrap(Describe(select->Int64(0))));
    backlog.push_back({select->Int64(0), *state, select->Int64(2), select->Int64(3)});
    return true;
  }));
  return backlog;
}

Result<std::vector<BackfillItem>> SqliteBackfills::ListItems(int64_t id,
                                                             std::optional<ItemOutcome> outcome,
                                                             int64_t offset, int limit) {
  std::vector<BackfillItem> items;
  auto select = db_.Prepare("SELECT stages FROM backfills WHERE id = ?");
  if (!select) return Fail(std::move(select.error()));
  select->BindInt64(id);
  auto found = select->Step();
  if (!found) return Fail(std::move(found.error()));
  if (!*found) return items;
  auto stages = StagesFromJson(select->TextView(0));
  if (!stages) return Fail(std::move(stages.error()));
  REPRISE_TRY(select->Run());
  // Rows in plan order: only those with pending or failed items when those are asked for.
  std::string rows_sql = "SELECT seq, asset_id, items FROM backfill_plan WHERE backfill_id = ?";
  if (outcome == ItemOutcome::kPending) rows_sql += " AND pending > 0";
  if (outcome == ItemOutcome::kFailed) rows_sql += " AND failed > 0";
  auto rows = db_.Prepare(rows_sql + " ORDER BY seq");
  if (!rows) return Fail(std::move(rows.error()));
  rows->BindInt64(id);
  PlanItemPage page(*stages, outcome, offset, ClampedListLimit(limit));
  REPRISE_TRY(rows->ForEachRow([&](const Statement& row) -> Result<bool> {
    auto decoded = DecodePlanItems(row.TextView(2));
    if (!decoded) return Fail(std::move(decoded.error()));
    return page.Add(row.Int64(0), row.TextView(1), *decoded);
  }));
  // A queued item's job is the one holding it now (a merge may have moved it).
  for (auto& [seq, item] : page.Items()) {
    if (item.outcome != ItemOutcome::kQueued) continue;
    auto hold = db_.Prepare("SELECT job_id FROM backfill_holds WHERE seq = ? AND stage = ?");
    if (!hold) return Fail(std::move(hold.error()));
    hold->BindInt64(seq).BindText(item.stage);
    auto held = hold->Step();
    if (!held) return Fail(std::move(held.error()));
    item.job_id = *held ? hold->Int64(0) : 0;
    REPRISE_TRY(hold->Run());
  }
  return page.Take();
}

Result<StageHistory> SqliteBackfills::History(const StageHistoryQuery& query) {
  // Alone: no other attempt on the asset overlaps this one (the stages of one pass all
  // start before it and end after it). Looked for among the latest kLookBack samples
  // only, so that a library processed in full passes (none alone) costs a bounded number
  // of lookups.
  constexpr int64_t kLookBack = 50;
  const int64_t samples = std::max(query.samples, 1);
  auto select = db_.Prepare(
      "SELECT d.finished_at - d.started_at, d.bytes, a.duration_seconds FROM"
      " (SELECT id, asset_id, started_at, finished_at, bytes FROM derivatives"
      "  WHERE stage = ? AND (? = '' OR recipe = ?) AND state = 'done'"
      "  AND started_at IS NOT NULL AND finished_at IS NOT NULL ORDER BY id DESC LIMIT ?) d"
      " JOIN assets a ON a.id = d.asset_id"
      " WHERE ? = 0 OR NOT EXISTS (SELECT 1 FROM derivatives o WHERE o.asset_id = d.asset_id"
      " AND o.id <> d.id AND o.started_at < d.finished_at"
      " AND COALESCE(o.finished_at, o.started_at) > d.started_at)"
      " ORDER BY d.id DESC LIMIT ?");
  if (!select) return Fail(std::move(select.error()));
  select->BindText(query.stage)
      .BindText(query.recipe)
      .BindText(query.recipe)
      .BindInt64(query.alone ? samples * kLookBack : samples)
      .BindInt64(query.alone ? 1 : 0)
      .BindInt64(samples);
  StageHistorySamples history;
  REPRISE_TRY(select->ForEachRow([&](const Statement&) -> Result<bool> {
    history.Add(select->Int64(0), select->Int64(1), select->OptionalDouble(2));
    return true;
  }));
  return history.Medians();
}

Result<void> SettleBackfillItems(SqliteConnection& db, int64_t now, int64_t job_id,
                                 const std::vector<std::string>& stages, JobState job_state,
                                 std::string_view error_code) {
  // The plan rows the job holds items of, with the stages it holds there.
  std::map<int64_t, std::vector<std::string>> held;
  {
    auto select = db.Prepare("SELECT seq, stage FROM backfill_holds WHERE job_id = ?");
    if (!select) return Fail(std::move(select.error()));
    select->BindInt64(job_id);
    REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
      std::string stage = row.Text(1);
      if (stages.empty() || std::find(stages.begin(), stages.end(), stage) != stages.end()) {
        held[row.Int64(0)].push_back(std::move(stage));
      }
      return true;
    }));
  }
  std::map<int64_t, std::vector<StageRecipe>> backfill_stages;
  std::map<int64_t, PlanCountDeltas> counts;
  for (const auto& [seq, held_stages] : held) {
    auto row = LoadPlanRow(db, seq);
    if (!row) return Fail(std::move(row.error()));
    auto known = backfill_stages.find(row->backfill_id);
    if (known == backfill_stages.end()) {
      auto select = db.Prepare("SELECT stages FROM backfills WHERE id = ?");
      if (!select) return Fail(std::move(select.error()));
      select->BindInt64(row->backfill_id);
      auto found = select->Step();
      if (!found) return Fail(std::move(found.error()));
      if (!*found) return Fail(ErrorCode::kInternal, "a plan row of no backfill");
      auto parsed = StagesFromJson(select->TextView(0));
      if (!parsed) return Fail(std::move(parsed.error()));
      REPRISE_TRY(select->Run());
      known = backfill_stages.emplace(row->backfill_id, std::move(*parsed)).first;
    }
    auto look = [&](const StageRecipe& stage, const PlanItem& item) -> Result<HeldItemLook> {
      HeldItemLook seen;
      auto latest = db.Prepare(
          "SELECT state, skip_reason, error_code FROM derivatives WHERE asset_id = ?"
          " AND stage = ? AND id > ? AND state IN ('done', 'failed', 'skipped')"
          " ORDER BY id DESC LIMIT 1");
      if (!latest) return Fail(std::move(latest.error()));
      latest->BindText(row->asset_id).BindText(stage.stage).BindInt64(item.after_derivative);
      auto found = latest->Step();
      if (!found) return Fail(std::move(found.error()));
      if (*found) seen.attempt = ItemAttempt{latest->Text(0), latest->Text(1), latest->Text(2)};
      REPRISE_TRY(latest->Run());
      if (seen.attempt) return seen;
      auto current = db.Prepare(
          "SELECT recipe FROM derivatives WHERE asset_id = ? AND stage = ? AND is_current = 1");
      if (!current) return Fail(std::move(current.error()));
      current->BindText(row->asset_id).BindText(stage.stage);
      auto present = current->Step();
      if (!present) return Fail(std::move(present.error()));
      seen.is_current = *present && current->Text(0) == stage.recipe;
      REPRISE_TRY(current->Run());
      return seen;
    };
    REPRISE_TRY(SettleHeldItems(*row, known->second, held_stages, job_id, now, job_state,
                                error_code, look, counts[row->backfill_id]));
    REPRISE_TRY(StorePlanRow(db, *row));
    for (const auto& stage : held_stages) {
      auto release = db.Prepare("DELETE FROM backfill_holds WHERE seq = ? AND stage = ?");
      if (!release) return Fail(std::move(release.error()));
      release->BindInt64(seq).BindText(stage);
      REPRISE_TRY(release->Run());
    }
  }
  for (const auto& [backfill_id, changes] : counts) {
    REPRISE_TRY(ApplyPlanCounts(db, backfill_id, changes));
  }
  return {};
}

}  // namespace reprise::catalog
