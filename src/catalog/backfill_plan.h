// The compact frozen plan both catalog backends store (migration 13): one backfill_plan
// row per (backfill, asset) instead of one row per (asset, stage) item, so a plan over
// every stage of a million assets is a million short rows, not eight million indexed
// ones (docs/PERFORMANCE.md, "On PostgreSQL too, and frozen plans over every stage").
//
// A row holds the asset's items packed in one text column: a JSON array with one array
// per item, in stage order,
//   [stage, reason, from_recipe, outcome, updated_at, job_id, after_derivative,
//    skip_reason, error_code]
// where `stage` indexes the backfill's stage list (its recipe is the item's to_recipe),
// an empty from_recipe means none, and trailing members at their defaults (0, 0, "", "")
// are left out. JSON so that the migrations can convert backfill_items rows both ways in
// SQL on either backend. The row also carries how many of its items are pending and how
// many failed (PlanRowTally), which partial indexes over the backfill's rows use.
//
// backfill_counts keeps per backfill the number of items per (outcome, detail), the
// detail being the skip reason of a skipped item, the error code of a failed one and ""
// otherwise. Every change to an item's outcome goes through PlanCountDeltas in the same
// transaction, so counts are a few rows to read instead of a scan of the plan.
//
// The functions here do no I/O; the backends read and write the rows.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catalog/backfill_dispatch.h"
#include "catalog/backfill_types.h"
#include "catalog/types.h"
#include "core/error.h"

namespace reprise::catalog {

// One item of a plan row.
struct PlanItem {
  int64_t stage = 0;  // index into the backfill's stages
  std::string reason;
  std::string from_recipe;  // empty: none
  ItemOutcome outcome = ItemOutcome::kPending;
  int64_t updated_at = 0;
  // The job that held it last. While the item is queued, backfill_holds knows the job
  // holding it now (a merge may move the stage to another job); settling writes it here.
  int64_t job_id = 0;
  int64_t after_derivative = 0;  // derivatives newer than this id are the item's attempts
  std::string skip_reason;
  std::string error_code;
  friend bool operator==(const PlanItem&, const PlanItem&) = default;
};

// One backfill_plan row: an asset of a backfill, with its items in plan order `seq`.
struct PlanRow {
  int64_t seq = 0;
  int64_t backfill_id = 0;
  std::string asset_id;
  std::vector<PlanItem> items;
};

// The packed text of `items` (see the file comment).
std::string EncodePlanItems(const std::vector<PlanItem>& items);
// The items of a packed text, sorted by stage; kInternal for anything but the form
// EncodePlanItems writes (bad JSON, wrong member types, negative or repeated stages, an
// unknown outcome).
[[nodiscard]] Result<std::vector<PlanItem>> DecodePlanItems(std::string_view text);

// The columns a plan row keeps beside its items.
struct PlanRowTally {
  int64_t pending = 0;
  int64_t failed = 0;
};
PlanRowTally TallyPlanItems(const std::vector<PlanItem>& items);

// The backfill_counts detail of an item: its skip reason when skipped, its error code
// when failed, "" otherwise.
std::string_view CountDetail(const PlanItem& item);

// Changes to one backfill's counts, keyed by (outcome name, detail).
class PlanCountDeltas final {
 public:
  using Key = std::pair<std::string, std::string>;
  void Add(const PlanItem& item, int64_t n);
  // Counts `before` out and `after` in (an item whose outcome changed).
  void Move(const PlanItem& before, const PlanItem& after);
  [[nodiscard]] const std::map<Key, int64_t>& Changes() const { return changes_; }
  void Clear() { changes_.clear(); }

 private:
  std::map<Key, int64_t> changes_;
};

// What a backend reads for one held item while settling it: the newest finished attempt
// of its stage since the item was dispatched and, without one, whether a result of the
// item's recipe is current.
struct HeldItemLook {
  std::optional<ItemAttempt> attempt;
  bool is_current = false;
};
using LookAtHeldItem =
    std::function<Result<HeldItemLook>(const StageRecipe& stage, const PlanItem& item)>;

// Ends the queued items of `row` whose stage (in the backfill's `stages`) is one of
// `held_stages`, as the job `job_id` lets go of them (SettleBackfillItems): `look` reads
// each one, EndOfQueuedItem decides its outcome, the item records the job and `now`, and
// `counts` gets the change.
[[nodiscard]] Result<void> SettleHeldItems(PlanRow& row, const std::vector<StageRecipe>& stages,
                                           const std::vector<std::string>& held_stages,
                                           int64_t job_id, int64_t now, JobState job_state,
                                           std::string_view error_code, const LookAtHeldItem& look,
                                           PlanCountDeltas& counts);

// Adds a backfill_counts row to `counts` (rows with n = 0 add nothing).
[[nodiscard]] Result<void> AddCountRow(BackfillCounts& counts, std::string_view outcome,
                                       const std::string& detail, int64_t n);

// Adds the asset of a plan row to counts.failed_examples under each error code its
// failed items have (at most three distinct assets per code, rows given in plan order).
// True once every code of counts.failed_by_code has its examples.
bool AddFailedExamples(BackfillCounts& counts, const std::string& asset_id,
                       const std::vector<PlanItem>& items);

// Collects one page of Catalog::ListBackfillItems from plan rows given in plan order:
// the items with `outcome` (all when unset), skipping the first `offset` of them, at
// most `limit`. Each is kept with its row's seq.
class PlanItemPage final {
 public:
  PlanItemPage(std::vector<StageRecipe> stages, std::optional<ItemOutcome> outcome, int64_t offset,
               int64_t limit)
      : stages_(std::move(stages)), outcome_(outcome), skip_(offset), limit_(limit) {}
  // Takes the row's items; false once the page is full. kInternal for an item whose
  // stage the backfill does not have.
  [[nodiscard]] Result<bool> Add(int64_t seq, std::string_view asset_id,
                                 const std::vector<PlanItem>& items);
  [[nodiscard]] std::vector<std::pair<int64_t, BackfillItem>>& Items() { return items_; }
  [[nodiscard]] std::vector<BackfillItem> Take();

 private:
  std::vector<StageRecipe> stages_;
  std::optional<ItemOutcome> outcome_;
  int64_t skip_ = 0;
  int64_t limit_ = 0;
  std::vector<std::pair<int64_t, BackfillItem>> items_;
};

}  // namespace reprise::catalog
