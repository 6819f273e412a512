#include "catalog/sqlite/sqlite_backfills.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include "catalog/backfill_dispatch.h"
#include "catalog/pair_chunk.h"
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
  std::optional<Error> failed;
  REPRISE_TRY(ScanPairs(backfill.stages, filter, [&](const StagePair& pair) {
    PairDecision decision = select(pair);
    if (decision.action == PairDecision::kStop) return false;
    if (decision.action != PairDecision::kSelect) return true;
    const StageRecipe& stage = backfill.stages[pair.stage_index];
    std::optional<std::string> from;
    if (std::string recipe = pair.FromRecipe(stage.recipe); !recipe.empty()) from = recipe;
    // Prepared per row: a cached statement, bound afresh each time.
    auto insert_item = db_.Prepare(
        "INSERT INTO backfill_items (backfill_id, asset_id, stage, reason, from_recipe,"
        " to_recipe, outcome, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)");
    if (!insert_item) {
      failed = std::move(insert_item.error());
      return false;
    }
    insert_item->BindInt64(id)
        .BindText(pair.asset_id)
        .BindText(stage.stage)
        .BindText(decision.reason)
        .BindOptionalText(from)
        .BindText(stage.recipe)
        .BindInt64(now_);
    if (auto inserted = insert_item->Run(); !inserted) {
      failed = std::move(inserted.error());
      return false;
    }
    return true;
  }));
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
  // The pending items of the next assets, collected before anything changes (the scan
  // walks the index the updates below rewrite).
  std::vector<std::pair<std::string, std::vector<PendingBackfillItem>>> assets;
  {
    auto select = db_.Prepare(
        "SELECT rowid, asset_id, stage, reason FROM backfill_items"
        " WHERE backfill_id = ? AND outcome = 'pending' ORDER BY rowid");
    if (!select) return Fail(std::move(select.error()));
    select->BindInt64(id);
    while (budget > 0) {
      auto row = select->Step();
      if (!row) return Fail(std::move(row.error()));
      if (!*row) break;
      std::string asset_id = select->Text(1);
      if (assets.empty() || assets.back().first != asset_id) {
        if (static_cast<int64_t>(assets.size()) >= budget) break;
        assets.emplace_back(asset_id, std::vector<PendingBackfillItem>{});
      }
      assets.back().second.push_back(
          {select->Int64(0), select->Text(2), ForcedFor(request, select->TextView(3))});
    }
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
  for (const auto& [asset_id, items] : assets) {
    auto job = EnqueueBackfillItems([&](const NewJob& part) { return jobs.Enqueue(part); }, id,
                                    asset_id, items, request);
    if (!job) return Fail(std::move(job.error()));
    const EnqueueResult& enqueued = *job;
    for (const auto& item : items) {
      bool queued = std::find(enqueued.enqueued.begin(), enqueued.enqueued.end(), item.stage) !=
                    enqueued.enqueued.end();
      auto update = db_.Prepare(
          "UPDATE backfill_items SET outcome = ?, job_id = ?, skip_reason = ?, updated_at = ?,"
          " after_derivative = ? WHERE rowid = ?");
      if (!update) return Fail(std::move(update.error()));
      std::optional<int64_t> job_id;
      if (queued) job_id = enqueued.job_id;
      update->BindText(queued ? "queued" : "skipped")
          .BindOptionalInt64(job_id)
          .BindText(queued ? "" : "already_active")
          .BindInt64(now_)
          .BindInt64(newest_derivative)
          .BindInt64(item.key);
      REPRISE_TRY(update->Run());
      ++(queued ? result.items_queued : result.items_skipped);
    }
    if (!enqueued.enqueued.empty()) {
      ++result.jobs;
      if (request.mark_processing) {
        auto mark =
            db_.Prepare("UPDATE assets SET status = 'processing', updated_at = ? WHERE id = ?");
        if (!mark) return Fail(std::move(mark.error()));
        mark->BindInt64(now_).BindText(asset_id);
        REPRISE_TRY(mark->Run());
      }
    }
  }
  auto left = db_.Prepare(
      "SELECT EXISTS (SELECT 1 FROM backfill_items WHERE backfill_id = ? AND outcome = 'pending')");
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
  // Queued jobs holding items of this backfill, with the stages that are its.
  std::map<int64_t, std::vector<std::string>> held;
  std::set<int64_t> running;
  {
    auto select = db_.Prepare(
        "SELECT i.job_id, i.stage, j.state FROM backfill_items i JOIN jobs j ON j.id = i.job_id"
        " WHERE i.backfill_id = ? AND i.outcome = 'queued'");
    if (!select) return Fail(std::move(select.error()));
    select->BindInt64(id);
    REPRISE_TRY(select->ForEachRow([&](const Statement&) -> Result<bool> {
      if (select->Text(2) == "queued") {
        held[select->Int64(0)].push_back(select->Text(1));
      } else if (select->Text(2) == "running") {
        running.insert(select->Int64(0));
      }
      return true;
    }));
  }
  for (const auto& [job_id, stages] : held) {
    // Only the backfill's stages leave the job: live work merged into it stays queued.
    auto drop = db_.Prepare(
        "DELETE FROM job_stages WHERE job_id = ? AND stage IN (SELECT value FROM json_each(?))");
    if (!drop) return Fail(std::move(drop.error()));
    drop->BindInt64(job_id).BindText(nlohmann::json(stages).dump());
    REPRISE_TRY(drop->Run());
    // Items first: deleting the job would clear their job_id (ON DELETE SET NULL).
    auto items = db_.Prepare(
        "UPDATE backfill_items SET outcome = ?, job_id = NULL, updated_at = ?"
        " WHERE backfill_id = ? AND job_id = ? AND outcome = 'queued'");
    if (!items) return Fail(std::move(items.error()));
    items->BindText(cancel ? "cancelled" : "pending")
        .BindInt64(now_)
        .BindInt64(id)
        .BindInt64(job_id);
    REPRISE_TRY(items->Run());
    auto empty = db_.Prepare(
        "DELETE FROM jobs WHERE id = ? AND NOT EXISTS"
        " (SELECT 1 FROM job_stages WHERE job_id = ?)");
    if (!empty) return Fail(std::move(empty.error()));
    empty->BindInt64(job_id).BindInt64(job_id);
    REPRISE_TRY(empty->Run());
  }
  if (cancel) {
    auto pending = db_.Prepare(
        "UPDATE backfill_items SET outcome = 'cancelled', updated_at = ?"
        " WHERE backfill_id = ? AND outcome = 'pending'");
    if (!pending) return Fail(std::move(pending.error()));
    pending->BindInt64(now_).BindInt64(id);
    REPRISE_TRY(pending->Run());
    for (int64_t job_id : running) {
      auto stop = db_.Prepare(
          "UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND backfill_id = ?"
          " AND state = 'running'");
      if (!stop) return Fail(std::move(stop.error()));
      stop->BindInt64(job_id).BindInt64(id);
      REPRISE_TRY(stop->Run());
    }
  }
  return static_cast<int64_t>(held.size());
}

Result<int64_t> SqliteBackfills::CountActiveJobs(int64_t id) {
  auto select = db_.Prepare(
      "SELECT COUNT(DISTINCT job_id) FROM backfill_items"
      " WHERE backfill_id = ? AND outcome = 'queued'");
  if (!select) return Fail(std::move(select.error()));
  select->BindInt64(id);
  auto row = select->Step();
  if (!row) return Fail(std::move(row.error()));
  return *row ? select->Int64(0) : 0;
}

Result<BackfillCounts> SqliteBackfills::Count(int64_t id) {
  BackfillCounts counts;
  {
    auto select = db_.Prepare(
        "SELECT outcome, skip_reason, error_code, COUNT(*) FROM backfill_items"
        " WHERE backfill_id = ? GROUP BY outcome, skip_reason, error_code");
    if (!select) return Fail(std::move(select.error()));
    select->BindInt64(id);
    REPRISE_TRY(select->ForEachRow([&](const Statement&) -> Result<bool> {
      auto outcome = ParseItemOutcome(select->Text(0));
      if (!outcome) return Fail(std::move(outcome.error()));
      int64_t n = select->Int64(3);
      counts.total += n;
      counts.by_outcome[*outcome] += n;
      if (*outcome == ItemOutcome::kSkipped) counts.skipped_by_reason[select->Text(1)] += n;
      if (*outcome == ItemOutcome::kFailed) counts.failed_by_code[select->Text(2)] += n;
      return true;
    }));
  }
  for (const auto& [code, n] : counts.failed_by_code) {
    // Distinct assets: one failing in several stages has an item per stage.
    auto select = db_.Prepare(
        "SELECT asset_id FROM backfill_items WHERE backfill_id = ? AND outcome = 'failed'"
        " AND error_code = ? GROUP BY asset_id ORDER BY MIN(rowid) LIMIT 3");
    if (!select) return Fail(std::move(select.error()));
    select->BindInt64(id).BindText(code);
    REPRISE_TRY(select->ForEachRow([&](const Statement&) -> Result<bool> {
      counts.failed_examples[code].push_back(select->Text(0));
      return true;
    }));
  }
  auto active = CountActiveJobs(id);
  if (!active) return Fail(std::move(active.error()));
  counts.active_jobs = *active;
  return counts;
}

Result<std::vector<BackfillBacklog>> SqliteBackfills::CountUndispatched(
    const std::vector<BackfillState>& states, const AssetFilter& scope) {
  nlohmann::json wanted = nlohmann::json::array();
  for (auto state : states) wanted.push_back(Name(state));
  auto select = db_.Prepare(
      "SELECT b.id, b.state, COUNT(*), COUNT(DISTINCT i.asset_id) FROM backfills b"
      " JOIN backfill_items i ON i.backfill_id = b.id AND i.outcome = 'pending'"
      " WHERE b.state IN (SELECT value FROM json_each(?))"
      " AND (? IS NULL OR i.asset_id IN (SELECT id FROM assets WHERE owner = ?))"
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
  auto select = db_.Prepare(
      "SELECT asset_id, stage, reason, from_recipe, to_recipe, outcome, skip_reason,"
      " error_code, job_id, updated_at FROM backfill_items"
      " WHERE backfill_id = ? AND (? IS NULL OR outcome = ?) ORDER BY rowid LIMIT ? OFFSET ?");
  if (!select) return Fail(std::move(select.error()));
  std::optional<std::string> wanted;
  if (outcome) wanted = std::string(Name(*outcome));
  select->BindInt64(id)
      .BindOptionalText(wanted)
      .BindOptionalText(wanted)
      .BindInt64(ClampedListLimit(limit))
      .BindInt64(std::max<int64_t>(offset, 0));
  std::vector<BackfillItem> items;
  REPRISE_TRY(select->ForEachRow([&](const Statement&) -> Result<bool> {
    BackfillItem item;
    item.asset_id = select->Text(0);
    item.stage = select->Text(1);
    item.reason = select->Text(2);
    item.from_recipe = select->OptionalText(3).value_or("");
    item.to_recipe = select->Text(4);
    auto parsed = ParseItemOutcome(select->Text(5));
    if (!parsed) return Fail(std::move(parsed.error()));
    item.outcome = *parsed;
    item.skip_reason = select->Text(6);
    item.error_code = select->Text(7);
    item.job_id = select->OptionalInt64(8).value_or(0);
    item.updated_at = select->Int64(9);
    items.push_back(std::move(item));
    return true;
  }));
  return items;
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
  struct Held {
    int64_t rowid;
    std::string asset_id;
    std::string stage;
    int64_t after_derivative;
    std::string to_recipe;
  };
  std::vector<Held> held;
  {
    auto select = db.Prepare(
        "SELECT rowid, asset_id, stage, after_derivative, to_recipe FROM backfill_items"
        " WHERE job_id = ? AND outcome = 'queued'");
    if (!select) return Fail(std::move(select.error()));
    select->BindInt64(job_id);
    REPRISE_TRY(select->ForEachRow([&](const Statement&) -> Result<bool> {
      std::string stage = select->Text(2);
      if (!stages.empty() && std::find(stages.begin(), stages.end(), stage) == stages.end()) {
        return true;
      }
      held.push_back(
          {select->Int64(0), select->Text(1), std::move(stage), select->Int64(3), select->Text(4)});
      return true;
    }));
  }
  for (const auto& item : held) {
    std::optional<ItemAttempt> attempt;
    auto latest = db.Prepare(
        "SELECT state, skip_reason, error_code FROM derivatives WHERE asset_id = ? AND stage = ?"
        " AND id > ? AND state IN ('done', 'failed', 'skipped') ORDER BY id DESC LIMIT 1");
    if (!latest) return Fail(std::move(latest.error()));
    latest->BindText(item.asset_id).BindText(item.stage).BindInt64(item.after_derivative);
    auto row = latest->Step();
    if (!row) return Fail(std::move(row.error()));
    if (*row) attempt = ItemAttempt{latest->Text(0), latest->Text(1), latest->Text(2)};
    REPRISE_TRY(latest->Run());
    bool is_current = false;
    if (!attempt) {
      auto current = db.Prepare(
          "SELECT recipe FROM derivatives WHERE asset_id = ? AND stage = ? AND is_current = 1");
      if (!current) return Fail(std::move(current.error()));
      current->BindText(item.asset_id).BindText(item.stage);
      auto found = current->Step();
      if (!found) return Fail(std::move(found.error()));
      is_current = *found && current->Text(0) == item.to_recipe;
      REPRISE_TRY(current->Run());
    }
    const ItemEnd end = EndOfQueuedItem(attempt, is_current, job_state, error_code);
    auto update = db.Prepare(
        "UPDATE backfill_items SET outcome = ?, skip_reason = ?, error_code = ?, updated_at = ?"
        " WHERE rowid = ?");
    if (!update) return Fail(std::move(update.error()));
    update->BindText(end.outcome)
        .BindText(end.skip_reason)
        .BindText(end.error_code)
        .BindInt64(now)
        .BindInt64(item.rowid);
    REPRISE_TRY(update->Run());
  }
  return {};
}

}  // namespace reprise::catalog
