#include "catalog/backfill_dispatch.h"

#include <algorithm>
#include <utility>

namespace reprise::catalog {

bool ForcedFor(const DispatchRequest& request, std::string_view reason) {
  return request.force || std::find(request.force_reasons.begin(), request.force_reasons.end(),
                                    reason) != request.force_reasons.end();
}

Result<EnqueueResult> EnqueueBackfillItems(const EnqueueJob& enqueue, int64_t backfill_id,
                                           const std::string& asset_id,
                                           const std::vector<PendingBackfillItem>& items,
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
    auto part = enqueue(job);
    if (!part) return Fail(std::move(part.error()));
    if (part->job_id != 0) enqueued.job_id = part->job_id;
    enqueued.enqueued.insert(enqueued.enqueued.end(), part->enqueued.begin(), part->enqueued.end());
  }
  return enqueued;
}

ItemEnd EndOfQueuedItem(const std::optional<ItemAttempt>& attempt, bool is_current,
                        JobState job_state, std::string_view error_code) {
  if (attempt) {
    return {attempt->state == "done" ? "processed" : attempt->state, attempt->skip_reason,
            attempt->error_code};
  }
  // Nothing ran for it: current by now (built meanwhile), or the job ended first.
  if (is_current && job_state != JobState::kCancelled) return {"skipped", "current", ""};
  if (job_state == JobState::kCancelled) return {"cancelled", "", ""};
  if (job_state == JobState::kFailed) {
    return {"failed", "", std::string(error_code.empty() ? "internal" : error_code)};
  }
  return {"skipped", "not_due", ""};  // quarantined or otherwise not run by the worker
}

void StageHistorySamples::Add(int64_t run_micros, int64_t bytes,
                              std::optional<double> duration_seconds) {
  const double run = static_cast<double>(run_micros) / 1e6;
  seconds_.push_back(run);
  bytes_.push_back(static_cast<double>(bytes));
  if (duration_seconds && *duration_seconds > 0) {
    per_minute_.push_back(run / (*duration_seconds / 60.0));
  }
}

StageHistory StageHistorySamples::Medians() const {
  StageHistory history;
  history.samples = static_cast<int64_t>(seconds_.size());
  history.median_seconds = Median(seconds_);
  history.median_seconds_per_media_minute = Median(per_minute_);
  history.median_bytes = Median(bytes_);
  return history;
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

}  // namespace reprise::catalog
