// Plain records of the backfill engine as the catalog stores them: a backfill, its
// frozen plan (one item per selected (asset, stage) pair) and what the catalog tells the
// planner about each pair. The rules that decide which pairs a backfill selects live in
// backfill/ (the catalog stores and counts; it does not decide).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/types.h"
#include "core/error.h"

namespace reprise::catalog {

// outdated: missing, or built by another recipe than today's; missing: no result at
// all; failed: the latest attempt with today's recipe failed; all: every pair selected,
// current ones rebuilt.
enum class BackfillMode { kOutdated, kMissing, kFailed, kAll };
std::string_view Name(BackfillMode mode);
Result<BackfillMode> ParseBackfillMode(std::string_view text);

// planned -> running <-> paused; running/paused -> cancelling -> cancelled;
// running -> succeeded (every item ended processed or skipped), completed_with_failures
// (every item ended, and some failed or were cancelled on their own) or failed (the run
// itself could not go on: a stage vanished, the health check failed).
enum class BackfillState {
  kPlanned,
  kRunning,
  kPaused,
  kCancelling,
  kCancelled,
  kSucceeded,
  kFailed,
  kCompletedWithFailures
};
std::string_view Name(BackfillState state);
Result<BackfillState> ParseBackfillState(std::string_view text);
bool IsFinal(BackfillState state);

// How one item of a plan stands: pending (not dispatched yet), queued (a job holds it),
// then processed, skipped (with a reason), failed (with an error code) or cancelled.
enum class ItemOutcome { kPending, kQueued, kProcessed, kSkipped, kFailed, kCancelled };
std::string_view Name(ItemOutcome outcome);
Result<ItemOutcome> ParseItemOutcome(std::string_view text);

// What the catalog knows about one (asset, stage) pair when a backfill is planned.
struct StagePair {
  std::string asset_id;
  int64_t created_at = 0;
  std::optional<double> duration_seconds;
  size_t stage_index = 0;      // into the stages that were asked for
  std::string current_recipe;  // recipe of the current result; empty when there is none
  // The latest finished attempt with today's recipe (kDone, kFailed or kSkipped).
  std::optional<DerivativeState> latest;
  std::string latest_skip_reason;
  std::string latest_error_code;
  // Recipe of the latest result of any recipe (the finished attempt with the highest
  // id, whatever its outcome); empty when the pair was never attempted.
  std::string result_recipe;
  bool quarantined = false;  // the content is quarantined for (stage, today's recipe)
  bool active = false;       // a queued or running job holds the pair now

  // The recipe a rebuild moves away from: the current result's, or, without one, the
  // latest result's when another recipe than today's made it (an older recipe's skip or
  // failure); empty when neither.
  [[nodiscard]] std::string FromRecipe(std::string_view today_recipe) const {
    if (!current_recipe.empty()) return current_recipe;
    return result_recipe == today_recipe ? std::string() : result_recipe;
  }
};

// The StageStatus rule of types.h applied to a scanned pair, with the same precedence
// as Catalog::GetStageStatuses and CountStageStatuses (the contract tests hold all three
// to the same answers). `active` is not a status: the planner looks at it first.
StageStatus StatusOf(const StagePair& pair, std::string_view today_recipe);

// What a planner makes of a pair: leave it out, put it in the plan with a reason, or
// stop the scan (a limit was reached).
struct PairDecision {
  enum Action { kLeave, kSelect, kStop };
  Action action = kLeave;
  std::string reason;           // kSelect: missing, outdated, failed, quarantined, rebuild
  bool not_applicable = false;  // kLeave: the stage does not apply; reason: its skip reason
};

struct NewBackfill {
  std::string owner;  // whose assets it may select; empty: every owner's (operator)
  std::vector<StageRecipe> stages;
  BackfillMode mode = BackfillMode::kOutdated;
  nlohmann::json filter = nlohmann::json::object();   // as given, for audit and diff
  nlohmann::json options = nlohmann::json::object();  // limit, concurrency, rate, ...
  nlohmann::json plan = nlohmann::json::object();     // the summary shown when created
  BackfillState state = BackfillState::kPlanned;
};

struct Backfill {
  int64_t id = 0;
  std::string owner;
  std::vector<StageRecipe> stages;
  BackfillMode mode = BackfillMode::kOutdated;
  nlohmann::json filter = nlohmann::json::object();
  nlohmann::json options = nlohmann::json::object();
  nlohmann::json plan = nlohmann::json::object();
  BackfillState state = BackfillState::kPlanned;
  std::string stop_reason;  // why it failed or was cancelled
  std::string driver;       // who dispatches its items now (empty: nobody)
  int64_t driver_expires_at = 0;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  int64_t started_at = 0;
  int64_t finished_at = 0;
};

struct BackfillItem {
  std::string asset_id;
  std::string stage;
  std::string reason;
  std::string from_recipe;
  std::string to_recipe;
  ItemOutcome outcome = ItemOutcome::kPending;
  std::string skip_reason;
  std::string error_code;
  int64_t job_id = 0;
  int64_t updated_at = 0;
};

struct BackfillCounts {
  int64_t total = 0;
  std::map<ItemOutcome, int64_t> by_outcome;
  std::map<std::string, int64_t> skipped_by_reason;
  std::map<std::string, int64_t> failed_by_code;
  // Up to three asset ids per error code, for the summary.
  std::map<std::string, std::vector<std::string>> failed_examples;
  int64_t active_jobs = 0;  // queued or running jobs holding its items

  [[nodiscard]] int64_t Count(ItemOutcome outcome) const {
    auto it = by_outcome.find(outcome);
    return it == by_outcome.end() ? 0 : it->second;
  }
  // Items done: processed, or skipped because nothing had to run.
  [[nodiscard]] int64_t Done() const {
    return Count(ItemOutcome::kProcessed) + Count(ItemOutcome::kSkipped);
  }
  // Items that ended (processed, skipped, failed, cancelled).
  [[nodiscard]] int64_t Ended() const {
    return total - Count(ItemOutcome::kPending) - Count(ItemOutcome::kQueued);
  }
};

// Items of one backfill not dispatched yet (pending), and over how many assets.
struct BackfillBacklog {
  int64_t backfill_id = 0;
  BackfillState state = BackfillState::kRunning;
  int64_t items = 0;
  int64_t assets = 0;
};

struct DispatchRequest {
  // Jobs to enqueue at most (one per asset); 0 dispatches nothing and only reports.
  int max_assets = 1;
  // The backfill's concurrency cap: no more jobs than this hold its items at once
  // (queued or running); 0: no cap.
  int max_active = 0;
  int priority = kBackfillPriority;
  int max_attempts = 5;
  bool force = false;  // mode all: the stages run even when current
  // Items selected for one of these reasons run forced as well (with include_quarantined:
  // "quarantined", so content selected explicitly runs despite its quarantine).
  std::vector<std::string> force_reasons;
  bool mark_processing = true;  // the asset shows as processing until its job ends
  // The backfill's start rate (jobs per second; 0: none): a token bucket holding at most
  // max(1, rate) starts, kept in the database (rate_buckets, key "backfill:ID") so a
  // driver taking over from another cannot exceed it. max_assets is lowered to the whole
  // tokens left, and each job dispatched spends one.
  double rate_per_second = 0;
};

struct DispatchResult {
  int64_t jobs = 0;  // assets whose pending items went into a job
  int64_t items_queued = 0;
  int64_t items_skipped = 0;  // already queued or running elsewhere
  int64_t active_jobs = 0;    // jobs holding its items after this call
  bool more_pending = false;  // items still waiting to be dispatched
};

// Making an earlier successful result of a stage current again (rollback).
struct RollbackRequest {
  std::string stage;
  // The result to go back to: the newest successful one built by this recipe; empty: the
  // newest successful one built by another recipe than the current result's, before it.
  std::string to_recipe;
  bool dry_run = false;
  int preview = 10;  // items reported
};

struct RollbackItem {
  std::string asset_id;
  std::string from_recipe;
  std::string to_recipe;
  int64_t from_id = 0;  // derivative rows
  int64_t to_id = 0;
};

struct RollbackResult {
  int64_t assets = 0;               // matching the filter
  int64_t rolled_back = 0;          // switched (or, in a dry run, that would be)
  int64_t no_current = 0;           // nothing current to roll back from
  int64_t no_earlier = 0;           // no earlier successful result to go back to
  std::vector<RollbackItem> items;  // the first `preview`
  // rolled_back by the recipe of the result gone back to.
  std::map<std::string, int64_t> to_recipes;
};

// Which past runs of a stage GetStageHistory takes.
struct StageHistoryQuery {
  std::string stage;
  std::string recipe;  // empty: any recipe
  // Only attempts during which no other derivative of the asset was running: a job runs
  // all its stages in one pass and each is recorded over the whole pass, so an attempt
  // made beside other stages also holds their work. Looked for among the latest
  // 50 x `samples` attempts.
  bool alone = false;
  int samples = 200;  // the latest ones
};

// Past runs of a stage, for estimates: medians over the latest successful attempts.
struct StageHistory {
  int64_t samples = 0;
  double median_seconds = 0;                   // per run
  double median_seconds_per_media_minute = 0;  // 0 when no sample had a duration
  double median_bytes = 0;
};

// A backfill with its counters (Catalog::ListBackfillsWithCounts).
struct BackfillWithCounts {
  Backfill backfill;
  BackfillCounts counts;
};

// A page of backfills, newest first.
struct BackfillPage {
  std::vector<BackfillWithCounts> items;
  std::string next_cursor;  // empty when there is no more
};

}  // namespace reprise::catalog
