// The backfill rules both catalog backends apply around their own SQL, written once:
// how a dispatch splits an asset's pending items into a normal and a forced job, how a
// queued item ends when its job lets go of it, and the medians of GetStageHistory. The
// backends read and write the rows; these functions decide. None does I/O except
// through the enqueue callback it is given.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/backfill_types.h"
#include "catalog/types.h"
#include "core/error.h"

namespace reprise::catalog {

// A pending item of a backfill as a dispatcher collects it: the backend's key for its
// row, its stage, and whether it runs forced (ForcedFor).
struct PendingBackfillItem {
  int64_t key = 0;
  std::string stage;
  bool forced = false;
};

// Whether an item selected for `reason` is enqueued forced: always with request.force,
// else when the reason is one of request.force_reasons.
bool ForcedFor(const DispatchRequest& request, std::string_view reason);

// One job for an asset's pending items: the unforced stages, then the forced ones merged
// into the same job (NewJob::force covers every stage of one call), both carrying the
// backfill's id, priority, attempts and status rule from `request`. `enqueue` is the
// backend's Enqueue in the caller's transaction. The result's job_id is the job holding
// the stages (0 when none was enqueued) and `enqueued` every stage that went into it.
using EnqueueJob = std::function<Result<EnqueueResult>(const NewJob&)>;
[[nodiscard]] Result<EnqueueResult> EnqueueBackfillItems(
    const EnqueueJob& enqueue, int64_t backfill_id, const std::string& asset_id,
    const std::vector<PendingBackfillItem>& items, const DispatchRequest& request);

// The stored outcome of an item: its ItemOutcome name with the reason or code.
struct ItemEnd {
  std::string outcome;  // Name(ItemOutcome)
  std::string skip_reason;
  std::string error_code;
};

// The newest finished attempt of the item's stage made after it was dispatched.
struct ItemAttempt {
  std::string state;  // done, failed or skipped (DerivativeState names)
  std::string skip_reason;
  std::string error_code;
};

// How a queued item ends when its job lets go of it (SettleBackfillItems): the attempt
// decides when there is one (done -> processed, skipped with its reason, failed with its
// code). Without one: skipped "current" when a result of the item's recipe is current
// (`is_current`) unless the job was cancelled; cancelled for a cancelled job; failed
// with `error_code` ("internal" when empty) for a failed one; else skipped "not_due".
ItemEnd EndOfQueuedItem(const std::optional<ItemAttempt>& attempt, bool is_current,
                        JobState job_state, std::string_view error_code);

// Collects the runs GetStageHistory reads and gives their medians.
class StageHistorySamples final {
 public:
  // One successful attempt: its run time, its bytes and its asset's media duration.
  void Add(int64_t run_micros, int64_t bytes, std::optional<double> duration_seconds);
  [[nodiscard]] StageHistory Medians() const;

 private:
  std::vector<double> seconds_;
  std::vector<double> per_minute_;
  std::vector<double> bytes_;
};

// The middle value (the upper middle of an even count); 0 for none.
double Median(std::vector<double> values);

}  // namespace reprise::catalog
