#include "catalog/sqlite/sqlite_backfills.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

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
// the assets_created index gives without a sort. It is cut into chunks of kScanChunk
// assets, and for each chunk one lookup per table fetches what decides each (asset,
// stage) pair's status (types.h StageStatus): the derivative rows — the current row C,
// the latest finished attempt R of any recipe and L of today's recipe —, the active
// job stages, and quarantine entries. Each lookup descends its index once per asset (or
// content), not once per pair, and takes the keys sorted so neighbouring descents share
// pages. derivatives_history covers every column read here (migration 4), so no table
// row is fetched: those fetches, at random rowids, were most of a million-asset dry run.
// C++ sorts the rows out to the pairs. Pairs are visited in plan order and stage order;
// memory is bounded by the chunk.
constexpr size_t kScanChunk = 4096;

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

class PairScanner {
 public:
  PairScanner(SqliteConnection& db, const std::vector<StageRecipe>& stages,
              const Catalog::PairVisitor& visit)
      : db_(db), stages_(stages), visit_(visit) {}

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
      chunk_.push_back(
          ChunkAsset{asset.Text(0), asset.Int64(1), asset.OptionalDouble(2), asset.Text(3)});
      if (chunk_.size() < kScanChunk) return true;
      auto flushed = Flush();
      if (flushed) more = *flushed;
      return flushed;
    }));
    if (more && !chunk_.empty()) {
      auto flushed = Flush();
      if (!flushed) return Fail(std::move(flushed.error()));
      more = *flushed;
    }
    return more;
  }

 private:
  struct ChunkAsset {
    std::string id;
    int64_t created_at = 0;
    std::optional<double> duration_seconds;
    std::string sha256;
  };

  // What the lookups found for one pair; turned into a StagePair when visited.
  struct Slot {
    static constexpr int kNone = -1;
    static constexpr int kTodays = -2;
    int current = kNone;  // kTodays, or an index into other_recipes_
    int result = kNone;   // the same, for the latest result of any recipe
    int64_t result_id = 0;
    std::optional<DerivativeState> latest;
    int64_t latest_id = 0;
    std::string latest_skip_reason;
    std::string latest_error_code;
    bool quarantined = false;
    bool active = false;
  };

  // Keys sorted for one lookup: `keys` the JSON array sent, `runs[n]..runs[n+1]` the
  // positions in `order` (chunk indexes) that share key n.
  struct SortedKeys {
    std::string keys;
    std::vector<size_t> order;
    std::vector<size_t> runs;
  };

  SortedKeys Sort(std::string ChunkAsset::*key) const {
    SortedKeys sorted;
    sorted.order.reserve(chunk_.size());
    for (size_t i = 0; i < chunk_.size(); ++i) sorted.order.push_back(i);
    std::sort(sorted.order.begin(), sorted.order.end(),
              [&](size_t x, size_t y) { return chunk_[x].*key < chunk_[y].*key; });
    std::vector<std::string_view> keys;
    for (size_t i = 0; i < sorted.order.size(); ++i) {
      const std::string& value = chunk_[sorted.order[i]].*key;
      if (!keys.empty() && value == keys.back()) continue;
      keys.emplace_back(value);
      sorted.runs.push_back(i);
    }
    sorted.runs.push_back(sorted.order.size());
    sorted.keys = nlohmann::json(keys).dump();
    return sorted;
  }

  // Looks the chunk's pairs up and visits them; false when the visitor stopped.
  Result<bool> Flush() {
    slots_.assign(chunk_.size() * stages_.size(), Slot{});
    other_recipes_.clear();
    SortedKeys ids = Sort(&ChunkAsset::id);
    REPRISE_TRY(
        Lookup(kChunkDerivatives, ids, [this](Slot& slot, size_t stage, const Statement& row) {
          return AddDerivative(slot, stage, row);
        }));
    if (any_active_) {
      REPRISE_TRY(
          Lookup(kChunkActive, ids, [](Slot& slot, size_t, const Statement&) -> Result<void> {
            slot.active = true;
            return {};
          }));
    }
    if (any_quarantine_) {
      REPRISE_TRY(Lookup(kChunkQuarantine, Sort(&ChunkAsset::sha256),
                         [this](Slot& slot, size_t stage, const Statement& row) -> Result<void> {
                           if (row.Text(2) == stages_[stage].recipe) slot.quarantined = true;
                           return {};
                         }));
    }
    for (size_t i = 0; i < chunk_.size(); ++i) {
      visiting_.asset_id.assign(chunk_[i].id);
      visiting_.created_at = chunk_[i].created_at;
      visiting_.duration_seconds = chunk_[i].duration_seconds;
      for (size_t s = 0; s < stages_.size(); ++s) {
        const Slot& slot = slots_[i * stages_.size() + s];
        visiting_.stage_index = s;
        AssignRecipe(visiting_.current_recipe, slot.current, s);
        AssignRecipe(visiting_.result_recipe, slot.result, s);
        visiting_.latest = slot.latest;
        visiting_.latest_skip_reason.assign(slot.latest_skip_reason);
        visiting_.latest_error_code.assign(slot.latest_error_code);
        visiting_.quarantined = slot.quarantined;
        visiting_.active = slot.active;
        if (!visit_(visiting_)) return false;
      }
    }
    chunk_.clear();
    return true;
  }

  // Runs one chunk lookup; `apply` gets, per row and per asked stage the row's stage
  // names (a stage may be asked twice), the slot of every asset with the row's key.
  template <class Apply>
  Result<void> Lookup(std::string_view sql, const SortedKeys& sorted, Apply&& apply) {
    auto select = db_.Prepare(sql);
    if (!select) return Fail(std::move(select.error()));
    select->BindText(sorted.keys);
    const size_t stage_count = stages_.size();
    return select->ForEachRow([&](const Statement& row) -> Result<bool> {
      auto n = static_cast<size_t>(row.Int64(0));
      if (n + 1 >= sorted.runs.size()) {
        return Fail(ErrorCode::kInternal, "backfill scan: a lookup row out of range");
      }
      std::string_view stage = row.TextView(1);
      for (size_t s = 0; s < stage_count; ++s) {
        if (stages_[s].stage != stage) continue;
        for (size_t i = sorted.runs[n]; i < sorted.runs[n + 1]; ++i) {
          REPRISE_TRY(apply(slots_[sorted.order[i] * stage_count + s], s, row));
        }
      }
      return true;
    });
  }

  // Sets `recipe` from a Slot's recipe reference (kNone, kTodays or an index).
  void AssignRecipe(std::string& recipe, int ref, size_t stage) const {
    if (ref == Slot::kTodays) {
      recipe.assign(stages_[stage].recipe);
    } else if (ref >= 0) {
      recipe.assign(other_recipes_[static_cast<size_t>(ref)]);
    } else {
      recipe.clear();
    }
  }

  // A row of kChunkDerivatives: C sets the current recipe whatever its state; the finished
  // attempt with the highest id so far is the latest result R (any recipe), and among
  // those of today's recipe L.
  Result<void> AddDerivative(Slot& slot, size_t stage, const Statement& row) {
    std::string_view recipe = row.TextView(3);
    const bool todays = recipe == stages_[stage].recipe;
    int ref = Slot::kNone;  // the row's recipe, kept once for C and R
    auto recipe_ref = [&] {
      if (ref == Slot::kNone) {
        ref = todays ? Slot::kTodays : static_cast<int>(other_recipes_.size());
        if (!todays) other_recipes_.emplace_back(recipe);
      }
      return ref;
    };
    if (row.Int64(4) != 0) slot.current = recipe_ref();
    const int64_t id = row.Int64(2);
    if (id <= slot.result_id && (!todays || id <= slot.latest_id)) return {};
    auto state = ParseDerivativeState(row.TextView(5));
    if (!state) return Fail(std::move(state.error()));
    if (*state != DerivativeState::kDone && *state != DerivativeState::kFailed &&
        *state != DerivativeState::kSkipped) {
      return {};
    }
    if (id > slot.result_id) {
      slot.result_id = id;
      slot.result = recipe_ref();
    }
    if (!todays || id <= slot.latest_id) return {};
    slot.latest_id = id;
    slot.latest = *state;
    slot.latest_skip_reason.assign(row.TextView(6));
    slot.latest_error_code.assign(row.TextView(7));
    return {};
  }

  SqliteConnection& db_;
  const std::vector<StageRecipe>& stages_;
  const Catalog::PairVisitor& visit_;
  bool any_quarantine_ = false;
  bool any_active_ = false;
  std::vector<ChunkAsset> chunk_;
  std::vector<Slot> slots_;                 // chunk_.size() x stages_.size(), asset-major
  std::vector<std::string> other_recipes_;  // C's and R's recipes other than today's
  StagePair visiting_;                      // reused: its strings keep their buffers
};

// A pending item of a backfill, as Dispatch collects it.
struct PendingItem {
  int64_t rowid = 0;
  std::string stage;
  bool forced = false;
};

// One job for an asset's pending items: the unforced stages, then the forced ones merged
// into the same job (NewJob::force covers every stage of one call).
Result<EnqueueResult> EnqueueItems(SqliteJobs& jobs, int64_t backfill_id,
                                   const std::string& asset_id,
                                   const std::vector<PendingItem>& items,
                                   const DispatchRequest& request) {
  EnqueueResult enqueued;
  for (bool forced : {false, true}) {
    NewJob job;
    job.asset_id = asset_id;
    for (const auto& item : items) {
      if (item.forced == forced) job.stages.push_back(item.stage);
    }
    if (job.stages.empty()) continue;
    job.priority = request.priority;
    job.max_attempts = request.max_attempts;
    job.backfill_id = backfill_id;
    job.force = forced;
    job.keep_status = !request.mark_processing;
    auto part = jobs.Enqueue(job);
    if (!part) return Fail(std::move(part.error()));
    if (part->job_id != 0) enqueued.job_id = part->job_id;
    enqueued.enqueued.insert(enqueued.enqueued.end(), part->enqueued.begin(), part->enqueued.end());
  }
  return enqueued;
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

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
  std::vector<std::pair<std::string, std::vector<PendingItem>>> assets;
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
        assets.emplace_back(asset_id, std::vector<PendingItem>{});
      }
      const std::string reason = select->Text(3);
      bool forced = request.force ||
                    std::find(request.force_reasons.begin(), request.force_reasons.end(), reason) !=
                        request.force_reasons.end();
      assets.back().second.push_back({select->Int64(0), select->Text(2), forced});
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
    auto job = EnqueueItems(jobs, id, asset_id, items, request);
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
          .BindInt64(item.rowid);
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
  std::vector<double> seconds;
  std::vector<double> per_minute;
  std::vector<double> bytes;
  REPRISE_TRY(select->ForEachRow([&](const Statement&) -> Result<bool> {
    double run = static_cast<double>(select->Int64(0)) / 1e6;
    seconds.push_back(run);
    bytes.push_back(static_cast<double>(select->Int64(1)));
    if (auto duration = select->OptionalDouble(2); duration && *duration > 0) {
      per_minute.push_back(run / (*duration / 60.0));
    }
    return true;
  }));
  StageHistory history;
  history.samples = static_cast<int64_t>(seconds.size());
  history.median_seconds = Median(seconds);
  history.median_seconds_per_media_minute = Median(per_minute);
  history.median_bytes = Median(bytes);
  return history;
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
    std::string outcome;
    std::string skip_reason;
    std::string code;
    auto latest = db.Prepare(
        "SELECT state, skip_reason, error_code FROM derivatives WHERE asset_id = ? AND stage = ?"
        " AND id > ? AND state IN ('done', 'failed', 'skipped') ORDER BY id DESC LIMIT 1");
    if (!latest) return Fail(std::move(latest.error()));
    latest->BindText(item.asset_id).BindText(item.stage).BindInt64(item.after_derivative);
    auto row = latest->Step();
    if (!row) return Fail(std::move(row.error()));
    if (*row) {
      std::string state = latest->Text(0);
      outcome = state == "done" ? "processed" : state;
      skip_reason = latest->Text(1);
      code = latest->Text(2);
    }
    REPRISE_TRY(latest->Run());
    if (outcome.empty()) {
      // Nothing ran for it: current by now (built meanwhile), or the job ended first.
      auto current = db.Prepare(
          "SELECT recipe FROM derivatives WHERE asset_id = ? AND stage = ? AND is_current = 1");
      if (!current) return Fail(std::move(current.error()));
      current->BindText(item.asset_id).BindText(item.stage);
      auto found = current->Step();
      if (!found) return Fail(std::move(found.error()));
      bool is_current = *found && current->Text(0) == item.to_recipe;
      REPRISE_TRY(current->Run());
      if (is_current && job_state != JobState::kCancelled) {
        outcome = "skipped";
        skip_reason = "current";
      } else if (job_state == JobState::kCancelled) {
        outcome = "cancelled";
      } else if (job_state == JobState::kFailed) {
        outcome = "failed";
        code = std::string(error_code.empty() ? "internal" : error_code);
      } else {
        outcome = "skipped";
        skip_reason = "not_due";  // quarantined or otherwise not run by the worker
      }
    }
    auto update = db.Prepare(
        "UPDATE backfill_items SET outcome = ?, skip_reason = ?, error_code = ?, updated_at = ?"
        " WHERE rowid = ?");
    if (!update) return Fail(std::move(update.error()));
    update->BindText(outcome)
        .BindText(skip_reason)
        .BindText(code)
        .BindInt64(now)
        .BindInt64(item.rowid);
    REPRISE_TRY(update->Run());
  }
  return {};
}

}  // namespace reprise::catalog
