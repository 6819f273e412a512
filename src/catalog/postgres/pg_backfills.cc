// Backfills in the PostgreSQL catalog. So far: the items a job's end settles, called by
// the queue in its transaction (the rule is SettleBackfillItems' in
// catalog/sqlite/sqlite_backfills.h; plan order is `seq`).

#include <algorithm>

#include "catalog/postgres/pg_internal.h"

namespace reprise::catalog {

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
    std::string outcome;
    std::string skip_reason;
    std::string code;
    auto latest = Exec(c.tx,
                       "SELECT state, skip_reason, error_code FROM derivatives WHERE asset_id = $1"
                       " AND stage = $2 AND id > $3 AND state IN ('done', 'failed', 'skipped')"
                       " ORDER BY id DESC LIMIT 1",
                       asset_id, stage, Int(item[3]));
    if (!latest.empty()) {
      const std::string state = Text(latest[0][0]);
      outcome = state == "done" ? "processed" : state;
      skip_reason = Text(latest[0][1]);
      code = Text(latest[0][2]);
    } else {
      // Nothing ran for it: current by now (built meanwhile), or the job ended first.
      auto current = Exec(c.tx,
                          "SELECT recipe FROM derivatives WHERE asset_id = $1 AND stage = $2"
                          " AND is_current = 1",
                          asset_id, stage);
      const bool is_current = !current.empty() && Text(current[0][0]) == Text(item[4]);
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
    Exec(c.tx,
         "UPDATE backfill_items SET outcome = $1, skip_reason = $2, error_code = $3,"
         " updated_at = $4 WHERE seq = $5",
         outcome, skip_reason, code, c.now, Int(item[0]));
  }
  return {};
}

}  // namespace reprise::catalog
