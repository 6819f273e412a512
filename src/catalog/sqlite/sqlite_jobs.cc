#include "catalog/sqlite/sqlite_jobs.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "catalog/limited_claim.h"
#include "catalog/sqlite/sqlite_backfills.h"
#include "catalog/sqlite/sqlite_events.h"
#include "catalog/sqlite/sqlite_queries.h"
#include "catalog/sqlite/sqlite_rate_starts.h"

namespace reprise::catalog {
namespace {

// Reads every row of a statement selecting kJobColumns.
Result<std::vector<Job>> ReadJobs(Statement& select) {
  std::vector<Job> jobs;
  while (true) {
    auto row = select.Step();
    if (!row) return Fail(std::move(row.error()));
    if (!*row) return jobs;
    auto job = ReadJob(select);
    if (!job) return Fail(std::move(job.error()));
    jobs.push_back(std::move(*job));
  }
}

std::string Describe(int64_t job_id) { return "job " + std::to_string(job_id); }

// An asset's active stages: the job holding each, and the stages of its queued jobs.
struct ActiveStages {
  std::map<std::string, int64_t> holder;
  std::map<int64_t, std::vector<std::string>> queued;  // by job id, so the first is oldest
};

Result<ActiveStages> ReadActiveStages(SqliteConnection& db, const std::string& asset_id) {
  auto select = db.Prepare(
      "SELECT s.stage, s.job_id, j.state = 'queued' FROM job_stages s JOIN jobs j"
      " ON j.id = s.job_id WHERE s.asset_id = ? AND s.active = 1");
  if (!select) return Fail(std::move(select.error()));
  select->BindText(asset_id);
  ActiveStages active;
  REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
    active.holder[row.Text(0)] = row.Int64(1);
    if (row.Int64(2) != 0) active.queued[row.Int64(1)].push_back(row.Text(0));
    return true;
  }));
  return active;
}

// Moves a queued job's stage to another job of the asset: its row (with its force flag)
// and the hold of the backfill item it serves follow it.
Result<void> MoveStage(SqliteConnection& db, const std::string& stage, int64_t from, int64_t to) {
  for (const char* sql : {"UPDATE job_stages SET job_id = ? WHERE job_id = ? AND stage = ?",
                          "UPDATE backfill_holds SET job_id = ? WHERE job_id = ? AND stage = ?"}) {
    auto move = db.Prepare(sql);
    if (!move) return Fail(std::move(move.error()));
    move->BindInt64(to).BindInt64(from).BindText(stage);
    REPRISE_TRY(move->Run());
  }
  return {};
}

}  // namespace

Result<EnqueueResult> SqliteJobs::Enqueue(const NewJob& job) {
  auto stages = CheckNewJob(job);
  if (!stages) return Fail(std::move(stages.error()));
  {
    auto exists = db_.Prepare("SELECT 1 FROM assets WHERE id = ?");
    if (!exists) return Fail(std::move(exists.error()));
    exists->BindText(job.asset_id);
    auto row = exists->Step();
    if (!row) return Fail(std::move(row.error()));
    if (!*row) return Fail(ErrorCode::kNotFound, "asset " + job.asset_id + " not found");
  }
  // The explicit check that gives merge semantics; the unique index behind it turns a
  // bug here into kConflict instead of a duplicate.
  auto active = ReadActiveStages(db_, job.asset_id);
  if (!active) return Fail(std::move(active.error()));
  std::map<std::string, int64_t>& holder = active->holder;
  std::map<int64_t, std::vector<std::string>>& queued_jobs = active->queued;
  // separate: a queued job holding a stage not asked for cannot take this job's stages.
  auto only_asked = [&](const std::vector<std::string>& held) {
    return std::all_of(held.begin(), held.end(), [&](const std::string& stage) {
      return std::find(stages->begin(), stages->end(), stage) != stages->end();
    });
  };
  EnqueueResult result;
  for (auto& stage : *stages) {
    if (holder.count(stage) == 0) {
      result.enqueued.push_back(stage);
    } else if (job.separate && queued_jobs.count(holder[stage]) != 0 &&
               !only_asked(queued_jobs[holder[stage]])) {
      result.moved.push_back(stage);
    } else {
      result.already_active.push_back(stage);
    }
  }
  if (result.enqueued.empty() && result.moved.empty()) return result;

  const int64_t run_after = job.run_after == 0 ? now_ : job.run_after;
  if (job.separate) {
    for (const auto& [id, held] : queued_jobs) {
      if (only_asked(held)) {
        result.job_id = id;
        break;
      }
    }
  } else {
    // By asset: through jobs_claim this would walk every queued job of a large backfill.
    auto queued = db_.Prepare(
        "SELECT id FROM jobs INDEXED BY jobs_asset WHERE asset_id = ? AND state = 'queued'"
        " ORDER BY id LIMIT 1");
    if (!queued) return Fail(std::move(queued.error()));
    queued->BindText(job.asset_id);
    auto row = queued->Step();
    if (!row) return Fail(std::move(row.error()));
    if (*row) result.job_id = queued->Int64(0);
  }
  if (result.job_id != 0) {
    // Merging: the job keeps its backfill and max_attempts; it runs as soon and as urgently
    // as the more demanding of the two asks, and keeps the asset's status only if both
    // asked for that.
    auto merge = db_.Prepare(
        "UPDATE jobs SET priority = MAX(priority, ?), run_after = MIN(run_after, ?),"
        " keep_status = MIN(keep_status, ?), updated_at = ? WHERE id = ?");
    if (!merge) return Fail(std::move(merge.error()));
    merge->BindInt64(job.priority)
        .BindInt64(run_after)
        .BindInt64(job.keep_status ? 1 : 0)
        .BindInt64(now_)
        .BindInt64(result.job_id);
    REPRISE_TRY(merge->Run());
  } else {
    auto insert = db_.Prepare(
        "INSERT INTO jobs (asset_id, priority, state, attempts, max_attempts, run_after,"
        " backfill_id, keep_status, created_at, updated_at)"
        " VALUES (?, ?, 'queued', 0, ?, ?, ?, ?, ?, ?) RETURNING id");
    if (!insert) return Fail(std::move(insert.error()));
    insert->BindText(job.asset_id)
        .BindInt64(job.priority)
        .BindInt64(job.max_attempts)
        .BindInt64(run_after)
        .BindOptionalInt64(job.backfill_id)
        .BindInt64(job.keep_status ? 1 : 0)
        .BindInt64(now_)
        .BindInt64(now_);
    auto row = insert->Step();
    if (!row) {
      // The asset was just seen, so a foreign key can only be the backfill's.
      if (row.error().origin == "sqlite:" + std::to_string(SQLITE_CONSTRAINT_FOREIGNKEY)) {
        return Fail(ErrorCode::kNotFound,
                    "backfill " + std::to_string(job.backfill_id.value_or(0)) + " not found");
      }
      return Fail(std::move(row.error()));
    }
    if (!*row) return Fail(ErrorCode::kInternal, "INSERT ... RETURNING gave no id");
    result.job_id = insert->Int64(0);
    result.created = true;
    REPRISE_TRY(insert->Run());
  }
  for (const auto& stage : result.moved) {
    REPRISE_TRY(MoveStage(db_, stage, holder[stage], result.job_id));
  }
  for (const auto& stage : result.enqueued) {
    auto insert = db_.Prepare(
        "INSERT INTO job_stages (job_id, asset_id, stage, active, force) VALUES (?, ?, ?, 1, ?)");
    if (!insert) return Fail(std::move(insert.error()));
    insert->BindInt64(result.job_id)
        .BindText(job.asset_id)
        .BindText(stage)
        .BindInt64(job.force ? 1 : 0);
    REPRISE_TRY(insert->Run());
  }
  db_.NoteChange(ChangeTopic::kJobs);
  return result;
}

// The queries of a claim with stage limits. BEGIN IMMEDIATE already makes every claim
// wait for the one before, so LockLimits has nothing to do.
class SqliteJobs::LimitStore final : public LimitedClaimStore {
 public:
  LimitStore(SqliteJobs& jobs, const ClaimRequest& request)
      : jobs_(jobs), request_(request), starts_(jobs.db_, jobs.now_) {}

  Result<std::vector<Job>> SelectDue(int limit, const std::vector<std::string>& excluded) override {
    SqlQuery query = ClaimJobsQuery(request_, jobs_.now_, limit, excluded);
    auto select = jobs_.db_.Prepare(query.sql);
    if (!select) return Fail(std::move(select.error()));
    select->BindAll(query.binds);
    auto due = ReadJobs(*select);
    if (!due) return Fail(std::move(due.error()));
    REPRISE_TRY(jobs_.FillStages(*due));
    return due;
  }

  Result<std::vector<Job>> Lease(const std::vector<Job>& jobs) override {
    std::vector<Job> leased = jobs;
    REPRISE_TRY(jobs_.LeaseJobs(request_, leased));
    return leased;
  }

  Result<void> LockLimits(const std::vector<std::string>& /*stages*/) override { return {}; }

  Result<std::map<std::string, int64_t>> CountRunning(
      const std::vector<std::string>& stages) override {
    // Running jobs are few (one per worker slot): walk them by the partial index.
    auto select = jobs_.db_.Prepare(
        "SELECT s.stage, COUNT(*) FROM jobs j INDEXED BY jobs_lease"
        " JOIN job_stages s ON s.job_id = j.id WHERE j.state = 'running' AND s.active = 1"
        " AND s.stage IN (SELECT value FROM json_each(?)) GROUP BY s.stage");
    if (!select) return Fail(std::move(select.error()));
    select->BindText(nlohmann::json(stages).dump());
    std::map<std::string, int64_t> running;
    REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
      running[row.Text(0)] = row.Int64(1);
      return true;
    }));
    return running;
  }

  RateStarts& starts() override { return starts_; }

 private:
  SqliteJobs& jobs_;
  const ClaimRequest& request_;
  SqliteRateStarts starts_;
};

Result<std::vector<Job>> SqliteJobs::Claim(const ClaimRequest& request) {
  REPRISE_TRY(CheckClaimRequest(request));
  const int limit = std::min(request.max_jobs, kMaxPageLimit);
  if (!request.limits.empty()) {
    LimitStore store(*this, request);
    return ClaimWithinLimits(request, limit, now_, store);
  }
  std::vector<Job> jobs;
  {
    SqlQuery query = ClaimJobsQuery(request, now_, limit);
    auto select = db_.Prepare(query.sql);
    if (!select) return Fail(std::move(select.error()));
    select->BindAll(query.binds);
    auto read = ReadJobs(*select);
    if (!read) return Fail(std::move(read.error()));
    jobs = std::move(*read);
  }
  if (jobs.empty()) return jobs;
  REPRISE_TRY(LeaseJobs(request, jobs));
  REPRISE_TRY(FillStages(jobs));
  return jobs;
}

Result<void> SqliteJobs::LeaseJobs(const ClaimRequest& request, std::vector<Job>& jobs) {
  const int64_t expires = now_ + request.lease_micros;
  for (auto& job : jobs) {
    auto update = db_.Prepare(
        "UPDATE jobs SET state = 'running', lease_owner = ?, lease_expires_at = ?,"
        " attempts = attempts + 1, started_at = COALESCE(started_at, ?), updated_at = ?"
        " WHERE id = ?");
    if (!update) return Fail(std::move(update.error()));
    update->BindText(request.worker_id)
        .BindInt64(expires)
        .BindInt64(now_)
        .BindInt64(now_)
        .BindInt64(job.id);
    REPRISE_TRY(update->Run());
    job.state = JobState::kRunning;
    job.lease_owner = request.worker_id;
    job.lease_expires_at = expires;
    job.attempts += 1;
    if (job.started_at == 0) job.started_at = now_;
    job.updated_at = now_;
  }
  return {};
}

Result<SqliteJobs::Lease> SqliteJobs::CheckHeld(int64_t job_id, std::string_view worker_id) {
  auto select = db_.Prepare("SELECT state, lease_owner, cancel_requested FROM jobs WHERE id = ?");
  if (!select) return Fail(std::move(select.error()));
  select->BindInt64(job_id);
  auto row = select->Step();
  if (!row) return Fail(std::move(row.error()));
  // A job that no longer exists is not held either: the worker's answer is the same.
  if (!*row) {
    return Fail(ErrorCode::kConflict, Describe(job_id) + " is not leased by worker " +
                                          std::string(worker_id) + ": it no longer exists");
  }
  Lease lease;
  auto state = ParseJobState(select->Text(0));
  if (!state) return Fail(state.error().Wrap(Describe(job_id)));
  lease.state = *state;
  lease.owner = select->OptionalText(1).value_or("");
  lease.cancel_requested = select->Int64(2) != 0;
  if (lease.state != JobState::kRunning || lease.owner != worker_id) {
    std::string now_is = lease.state == JobState::kRunning
                             ? "it is leased by worker " + lease.owner
                             : "it is " + std::string(Name(lease.state));
    return Fail(ErrorCode::kConflict, Describe(job_id) + " is not leased by worker " +
                                          std::string(worker_id) + ": " + now_is);
  }
  return lease;
}

Result<bool> SqliteJobs::Renew(int64_t job_id, std::string_view worker_id, int64_t lease_micros) {
  REPRISE_TRY(CheckLease(lease_micros));
  {
    // Heartbeats do not touch updated_at: it keeps the time of the claim (RunningJob).
    auto renew = db_.Prepare(
        "UPDATE jobs SET lease_expires_at = ? WHERE id = ? AND state = 'running'"
        " AND lease_owner = ? RETURNING cancel_requested");
    if (!renew) return Fail(std::move(renew.error()));
    renew->BindInt64(now_ + lease_micros).BindInt64(job_id).BindText(worker_id);
    auto row = renew->Step();
    if (!row) return Fail(std::move(row.error()));
    if (*row) {
      bool cancel = renew->Int64(0) != 0;
      REPRISE_TRY(renew->Run());
      return cancel;
    }
  }
  auto held = CheckHeld(job_id, worker_id);  // explains why not
  if (!held) return Fail(std::move(held.error()));
  return Fail(ErrorCode::kInternal, Describe(job_id) + ": lease renewal matched no row");
}

Result<void> SqliteJobs::End(int64_t job_id, JobState state, const std::string& error_code,
                             const std::string& error_message) {
  {
    // A failed or cancelled job keeps the last error it met when it ends without one of
    // its own; a succeeded job keeps none (an earlier attempt's "lease expired" is history,
    // not a detail of a job that worked).
    auto update = db_.Prepare(
        "UPDATE jobs SET state = ?, lease_owner = NULL, lease_expires_at = NULL,"
        " finished_at = ?, updated_at = ?,"
        " last_error_code = CASE WHEN ? THEN '' WHEN ? = '' THEN last_error_code ELSE ? END,"
        " last_error_message = CASE WHEN ? THEN '' WHEN ? = '' THEN last_error_message"
        " ELSE ? END WHERE id = ?");
    if (!update) return Fail(std::move(update.error()));
    const int64_t succeeded = state == JobState::kSucceeded ? 1 : 0;
    update->BindText(Name(state))
        .BindInt64(now_)
        .BindInt64(now_)
        .BindInt64(succeeded)
        .BindText(error_code)
        .BindText(error_code)
        .BindInt64(succeeded)
        .BindText(error_code)
        .BindText(error_message)
        .BindInt64(job_id);
    REPRISE_TRY(update->Run());
  }
  // Items of a backfill that this job held end with it, in this transaction.
  REPRISE_TRY(SettleBackfillItems(db_, now_, job_id, {}, state, error_code));
  auto deactivate = db_.Prepare("UPDATE job_stages SET active = 0 WHERE job_id = ?");
  if (!deactivate) return Fail(std::move(deactivate.error()));
  deactivate->BindInt64(job_id);
  REPRISE_TRY(deactivate->Run());
  return AppendJobFinished(db_, now_, job_id, state);
}

Result<void> SqliteJobs::Finish(int64_t job_id, std::string_view worker_id,
                                const JobOutcome& outcome) {
  REPRISE_TRY(CheckJobOutcome(outcome));
  auto lease = CheckHeld(job_id, worker_id);
  if (!lease) return Fail(std::move(lease.error()));
  auto [error_code, error_message] = ErrorColumns(outcome.error);
  if (outcome.state != JobState::kQueued) {
    return End(job_id, outcome.state, error_code, error_message);
  }

  auto retry = CheckedStages(outcome.retry_stages, "a queued outcome");
  if (!retry) return Fail(std::move(retry.error()));
  auto stages = LoadStages({job_id});
  if (!stages) return Fail(std::move(stages.error()));
  const std::vector<std::string>& held = (*stages)[job_id];
  for (const auto& stage : *retry) {
    if (std::find(held.begin(), held.end(), stage) == held.end()) {
      return Fail(ErrorCode::kInvalidArgument,
                  Describe(job_id) + " cannot retry stage " + stage + ": it is not one of its");
    }
  }
  if (lease->cancel_requested) return End(job_id, JobState::kCancelled, error_code, error_message);
  std::vector<std::string> ending;
  for (const auto& stage : held) {
    if (std::find(retry->begin(), retry->end(), stage) == retry->end()) ending.push_back(stage);
  }
  if (!ending.empty()) {
    REPRISE_TRY(SettleBackfillItems(db_, now_, job_id, ending, JobState::kSucceeded, ""));
    auto backfill = db_.Prepare("SELECT backfill_id FROM jobs WHERE id = ?");
    if (!backfill) return Fail(std::move(backfill.error()));
    backfill->BindInt64(job_id);
    auto row = backfill->Step();
    if (!row) return Fail(std::move(row.error()));
    std::optional<int64_t> backfill_id = *row ? backfill->OptionalInt64(0) : std::nullopt;
    REPRISE_TRY(backfill->Run());
    if (backfill_id) REPRISE_TRY(AppendBackfillProgress(db_, now_, *backfill_id));
  }
  {
    // Stages that finished leave the job, so they can be enqueued again at once.
    auto drop = db_.Prepare(
        "DELETE FROM job_stages WHERE job_id = ? AND stage NOT IN"
        " (SELECT value FROM json_each(?))");
    if (!drop) return Fail(std::move(drop.error()));
    drop->BindInt64(job_id).BindText(nlohmann::json(*retry).dump());
    REPRISE_TRY(drop->Run());
  }
  // attempts stays as it is: it counts claims. A job at max_attempts is still queued when
  // the worker says so; the worker, not the catalog, decides when to give up.
  auto update = db_.Prepare(
      "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL,"
      " run_after = ?, updated_at = ?,"
      " last_error_code = CASE WHEN ? = '' THEN last_error_code ELSE ? END,"
      " last_error_message = CASE WHEN ? = '' THEN last_error_message ELSE ? END"
      " WHERE id = ?");
  if (!update) return Fail(std::move(update.error()));
  update->BindInt64(outcome.run_after == 0 ? now_ : outcome.run_after)
      .BindInt64(now_)
      .BindText(error_code)
      .BindText(error_code)
      .BindText(error_code)
      .BindText(error_message)
      .BindInt64(job_id);
  db_.NoteChange(ChangeTopic::kJobs);
  return update->Run();
}

Result<void> SqliteJobs::Release(int64_t job_id, std::string_view worker_id) {
  auto lease = CheckHeld(job_id, worker_id);
  if (!lease) return Fail(std::move(lease.error()));
  if (lease->cancel_requested) return End(job_id, JobState::kCancelled, "", "");
  auto update = db_.Prepare(
      "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL,"
      " run_after = ?, attempts = MAX(attempts - 1, 0), updated_at = ? WHERE id = ?");
  if (!update) return Fail(std::move(update.error()));
  update->BindInt64(now_).BindInt64(now_).BindInt64(job_id);
  db_.NoteChange(ChangeTopic::kJobs);
  return update->Run();
}

Result<int64_t> SqliteJobs::ReapExpired() {
  struct Expired {
    int64_t id = 0;
    std::string worker;
    bool exhausted = false;
    bool cancel_requested = false;
  };
  std::vector<Expired> expired;
  {
    auto select = db_.Prepare(
        "SELECT id, lease_owner, attempts >= max_attempts, cancel_requested FROM jobs"
        " INDEXED BY jobs_lease WHERE state = 'running' AND lease_expires_at < ?");
    if (!select) return Fail(std::move(select.error()));
    select->BindInt64(now_);
    while (true) {
      auto row = select->Step();
      if (!row) return Fail(std::move(row.error()));
      if (!*row) break;
      expired.push_back({select->Int64(0), select->OptionalText(1).value_or(""),
                         select->Int64(2) != 0, select->Int64(3) != 0});
    }
  }
  const std::string code(ErrorCodeName(ErrorCode::kUnavailable));
  for (const auto& job : expired) {
    const std::string message = "lease of worker " + job.worker + " expired";
    if (job.cancel_requested || job.exhausted) {
      REPRISE_TRY(End(job.id, job.cancel_requested ? JobState::kCancelled : JobState::kFailed, code,
                      message));
      continue;
    }
    auto update = db_.Prepare(
        "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL,"
        " run_after = ?, updated_at = ?, last_error_code = ?, last_error_message = ?"
        " WHERE id = ?");
    if (!update) return Fail(std::move(update.error()));
    update->BindInt64(now_).BindInt64(now_).BindText(code).BindText(message).BindInt64(job.id);
    REPRISE_TRY(update->Run());
    db_.NoteChange(ChangeTopic::kJobs);
  }
  return static_cast<int64_t>(expired.size());
}

Result<std::map<int64_t, std::vector<std::string>>> SqliteJobs::LoadStages(
    const std::vector<int64_t>& job_ids, std::map<int64_t, std::vector<std::string>>* forced) {
  std::map<int64_t, std::vector<std::string>> stages;
  if (job_ids.empty()) return stages;
  // One parameter for any number of jobs: a page or a claimed batch is one query.
  auto select = job_ids.size() == 1
                    ? db_.Prepare("SELECT job_id, stage, force FROM job_stages WHERE job_id = ?")
                    : db_.Prepare(
                          "SELECT job_id, stage, force FROM job_stages"
                          " WHERE job_id IN (SELECT value FROM json_each(?))");
  if (!select) return Fail(std::move(select.error()));
  if (job_ids.size() == 1) {
    select->BindInt64(job_ids.front());
  } else {
    select->BindText(nlohmann::json(job_ids).dump());
  }
  while (true) {
    auto row = select->Step();
    if (!row) return Fail(std::move(row.error()));
    if (!*row) break;
    stages[select->Int64(0)].push_back(select->Text(1));
    if (forced != nullptr && select->Int64(2) != 0) {
      (*forced)[select->Int64(0)].push_back(select->Text(1));
    }
  }
  for (auto& [id, names] : stages) std::sort(names.begin(), names.end());
  if (forced != nullptr) {
    for (auto& [id, names] : *forced) std::sort(names.begin(), names.end());
  }
  return stages;
}

Result<void> SqliteJobs::FillStages(std::vector<Job>& jobs) {
  std::vector<int64_t> ids;
  ids.reserve(jobs.size());
  for (const auto& job : jobs) ids.push_back(job.id);
  std::map<int64_t, std::vector<std::string>> forced;
  auto stages = LoadStages(ids, &forced);
  if (!stages) return Fail(std::move(stages.error()));
  for (auto& job : jobs) {
    auto it = stages->find(job.id);
    if (it != stages->end()) job.stages = std::move(it->second);
    auto forced_it = forced.find(job.id);
    if (forced_it != forced.end()) job.forced = std::move(forced_it->second);
  }
  return {};
}

Result<Job> SqliteJobs::Get(int64_t job_id, const AssetFilter& scope) {
  SqlQuery query = AssetConditions(scope);
  query.sql = "SELECT " + std::string(kJobColumns) +
              " FROM jobs j JOIN assets a ON a.id = j.asset_id WHERE j.id = ?" + query.sql;
  query.binds.insert(query.binds.begin(), SqlValue(job_id));
  std::vector<Job> jobs;
  {
    auto select = db_.Prepare(query.sql);
    if (!select) return Fail(std::move(select.error()));
    select->BindAll(query.binds);
    auto read = ReadJobs(*select);
    if (!read) return Fail(std::move(read.error()));
    jobs = std::move(*read);
  }
  if (jobs.empty()) return Fail(ErrorCode::kNotFound, Describe(job_id) + " not found");
  REPRISE_TRY(FillStages(jobs));
  return std::move(jobs.front());
}

Result<JobPage> SqliteJobs::List(const JobFilter& filter, std::string_view cursor, int limit) {
  auto query = ListJobsQuery(filter, cursor, limit);
  if (!query) return Fail(std::move(query.error()));
  JobPage page;
  {
    auto select = db_.Prepare(query->sql);
    if (!select) return Fail(std::move(select.error()));
    select->BindAll(query->binds);
    auto read = ReadJobs(*select);
    if (!read) return Fail(std::move(read.error()));
    page.items = std::move(*read);
  }
  if (static_cast<int>(page.items.size()) > limit) {
    // One row beyond the page: there is more, after the last item returned.
    page.items.resize(static_cast<size_t>(limit));
    page.next_cursor = EncodeJobCursor(page.items.back().id);
  }
  REPRISE_TRY(FillStages(page.items));
  return page;
}

Result<int64_t> SqliteJobs::Retry(const JobFilter& filter) {
  std::vector<std::pair<int64_t, std::string>> candidates;  // (job id, asset id)
  {
    SqlQuery query = JobConditions(filter);
    query.sql =
        "SELECT j.id, j.asset_id FROM jobs j INDEXED BY jobs_ended"
        " JOIN assets a ON a.id = j.asset_id WHERE " +
        std::string(kEndedJobsTerm) + query.sql + " ORDER BY j.id";
    auto select = db_.Prepare(query.sql);
    if (!select) return Fail(std::move(select.error()));
    select->BindAll(query.binds);
    while (true) {
      auto row = select->Step();
      if (!row) return Fail(std::move(row.error()));
      if (!*row) break;
      candidates.emplace_back(select->Int64(0), select->Text(1));
    }
  }
  int64_t requeued = 0;
  for (const auto& [job_id, asset_id] : candidates) {
    auto stages = LoadStages({job_id});
    if (!stages) return Fail(std::move(stages.error()));
    std::vector<std::string> busy;
    size_t free = 0;
    for (const auto& stage : (*stages)[job_id]) {
      auto active =
          db_.Prepare("SELECT 1 FROM job_stages WHERE asset_id = ? AND stage = ? AND active = 1");
      if (!active) return Fail(std::move(active.error()));
      active->BindText(asset_id).BindText(stage);
      auto row = active->Step();
      if (!row) return Fail(std::move(row.error()));
      if (*row) {
        busy.push_back(stage);
      } else {
        ++free;
      }
    }
    // Every stage is queued elsewhere: nothing left to retry; the job stays as it is.
    if (free == 0) continue;
    for (const auto& stage : busy) {
      auto drop = db_.Prepare("DELETE FROM job_stages WHERE job_id = ? AND stage = ?");
      if (!drop) return Fail(std::move(drop.error()));
      drop->BindInt64(job_id).BindText(stage);
      REPRISE_TRY(drop->Run());
    }
    {
      auto activate = db_.Prepare("UPDATE job_stages SET active = 1 WHERE job_id = ?");
      if (!activate) return Fail(std::move(activate.error()));
      activate->BindInt64(job_id);
      REPRISE_TRY(activate->Run());
    }
    auto update = db_.Prepare(
        "UPDATE jobs SET state = 'queued', attempts = 0, run_after = ?, lease_owner = NULL,"
        " lease_expires_at = NULL, cancel_requested = 0, finished_at = NULL, updated_at = ?"
        " WHERE id = ?");
    if (!update) return Fail(std::move(update.error()));
    update->BindInt64(now_).BindInt64(now_).BindInt64(job_id);
    REPRISE_TRY(update->Run());
    db_.NoteChange(ChangeTopic::kJobs);
    ++requeued;
  }
  return requeued;
}

Result<JobState> SqliteJobs::LoadState(int64_t job_id, const AssetFilter& scope) {
  SqlQuery query = AssetConditions(scope);
  query.sql =
      "SELECT j.state FROM jobs j JOIN assets a ON a.id = j.asset_id WHERE j.id = ?" + query.sql;
  query.binds.insert(query.binds.begin(), SqlValue(job_id));
  auto select = db_.Prepare(query.sql);
  if (!select) return Fail(std::move(select.error()));
  select->BindAll(query.binds);
  auto row = select->Step();
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return Fail(ErrorCode::kNotFound, Describe(job_id) + " not found");
  auto state = ParseJobState(select->Text(0));
  if (!state) return Fail(state.error().Wrap(Describe(job_id)));
  return state;
}

Result<JobState> SqliteJobs::Cancel(int64_t job_id, const AssetFilter& scope) {
  auto state = LoadState(job_id, scope);
  if (!state) return Fail(std::move(state.error()));
  switch (*state) {
    case JobState::kQueued:
      REPRISE_TRY(End(job_id, JobState::kCancelled, "", ""));
      return JobState::kCancelled;
    case JobState::kRunning: {
      // Not a state change yet (updated_at keeps the claim time): the worker ends it.
      auto flag = db_.Prepare("UPDATE jobs SET cancel_requested = 1 WHERE id = ?");
      if (!flag) return Fail(std::move(flag.error()));
      flag->BindInt64(job_id);
      REPRISE_TRY(flag->Run());
      return JobState::kRunning;
    }
    case JobState::kSucceeded:
    case JobState::kFailed:
    case JobState::kCancelled:
      break;
  }
  return Fail(ErrorCode::kConflict, Describe(job_id) + " is already " + std::string(Name(*state)));
}

Result<QueueStats> SqliteJobs::Stats(const AssetFilter& scope) {
  const SqlQuery conditions = AssetConditions(scope);
  QueueStats stats;
  // One state at a time, each walking the partial index that holds just that state's jobs
  // (no index covers every state any more: see migration 2).
  struct Depth {
    JobState state;
    std::string_view index;
    std::string where;
  };
  const Depth depths[] = {
      {JobState::kQueued, "jobs_claim", "j.state = 'queued'"},
      {JobState::kRunning, "jobs_lease", "j.state = 'running'"},
      {JobState::kFailed, "jobs_ended", std::string(kEndedJobsTerm) + " AND j.state = 'failed'"},
  };
  for (const auto& [state, index, where] : depths) {
    auto select =
        db_.Prepare("SELECT s.stage, COUNT(*) FROM jobs j INDEXED BY " + std::string(index) +
                    " JOIN assets a ON a.id = j.asset_id"
                    " JOIN job_stages s ON s.job_id = j.id WHERE " +
                    where + conditions.sql + " GROUP BY s.stage");
    if (!select) return Fail(std::move(select.error()));
    select->BindAll(conditions.binds);
    while (true) {
      auto row = select->Step();
      if (!row) return Fail(std::move(row.error()));
      if (!*row) break;
      stats.depth.push_back({select->Text(0), state, select->Int64(1)});
    }
  }
  std::sort(stats.depth.begin(), stats.depth.end(), [](const auto& x, const auto& y) {
    return std::tie(x.stage, x.state) < std::tie(y.stage, y.state);
  });
  {
    auto select = db_.Prepare(
        "SELECT MIN(j.created_at) FROM jobs j INDEXED BY jobs_claim"
        " JOIN assets a ON a.id = j.asset_id WHERE j.state = 'queued' AND j.run_after <= ?" +
        conditions.sql);
    if (!select) return Fail(std::move(select.error()));
    select->BindInt64(now_).BindAll(conditions.binds);
    auto row = select->Step();
    if (!row) return Fail(std::move(row.error()));
    if (*row) stats.oldest_queued_at = select->OptionalInt64(0).value_or(0);
  }
  {
    std::vector<int64_t> ids;
    {
      auto select = db_.Prepare(
          "SELECT j.id, j.asset_id, j.lease_owner, j.updated_at, j.lease_expires_at"
          " FROM jobs j INDEXED BY jobs_lease JOIN assets a ON a.id = j.asset_id"
          " WHERE j.state = 'running'" +
          conditions.sql + " ORDER BY j.id");
      if (!select) return Fail(std::move(select.error()));
      select->BindAll(conditions.binds);
      while (true) {
        auto row = select->Step();
        if (!row) return Fail(std::move(row.error()));
        if (!*row) break;
        RunningJob running;
        running.job_id = select->Int64(0);
        running.asset_id = select->Text(1);
        running.worker = select->OptionalText(2).value_or("");
        running.started_at = select->Int64(3);
        running.lease_expires_at = select->OptionalInt64(4).value_or(0);
        ids.push_back(running.job_id);
        stats.running.push_back(std::move(running));
      }
    }
    auto stages = LoadStages(ids);
    if (!stages) return Fail(std::move(stages.error()));
    for (auto& running : stats.running) running.stages = std::move((*stages)[running.job_id]);
  }
  {
    SqlQuery count = CountQuarantineQuery(scope);
    auto select = db_.Prepare(count.sql);
    if (!select) return Fail(std::move(select.error()));
    select->BindAll(count.binds);
    auto row = select->Step();
    if (!row) return Fail(std::move(row.error()));
    if (*row) stats.quarantined = select->Int64(0);
  }
  return stats;
}

Result<bool> SqliteJobs::QuarantineIfRepeated(std::string_view asset_id, std::string_view stage,
                                              std::string_view recipe, int threshold) {
  REPRISE_TRY(CheckQuarantineRequest(stage, recipe, threshold));
  std::string sha256;
  {
    auto select = db_.Prepare("SELECT sha256 FROM assets WHERE id = ?");
    if (!select) return Fail(std::move(select.error()));
    select->BindText(asset_id);
    auto row = select->Step();
    if (!row) return Fail(std::move(row.error()));
    if (!*row) return Fail(ErrorCode::kNotFound, "asset " + std::string(asset_id) + " not found");
    sha256 = select->Text(0);
  }
  int64_t failures = 0;
  int64_t latest = 0;
  {
    auto count = db_.Prepare(kQuarantineFailuresSql);
    if (!count) return Fail(std::move(count.error()));
    count->BindText(stage).BindText(recipe).BindText(sha256);
    auto row = count->Step();
    if (!row) return Fail(std::move(row.error()));
    if (*row) {
      failures = count->Int64(0);
      latest = count->OptionalInt64(1).value_or(0);
    }
  }
  if (failures < threshold) return false;
  std::string error_code;
  std::string error_message;
  {
    auto select = db_.Prepare("SELECT error_code, error_message FROM derivatives WHERE id = ?");
    if (!select) return Fail(std::move(select.error()));
    select->BindInt64(latest);
    auto row = select->Step();
    if (!row) return Fail(std::move(row.error()));
    if (*row) {
      error_code = select->Text(0);
      error_message = select->Text(1);
    }
  }
  // created_at stays the time content was first quarantined; the count and the error
  // follow the latest failure.
  auto upsert = db_.Prepare(
      "INSERT INTO quarantine (sha256, stage, recipe, failures, error_code, error_message,"
      " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
      " ON CONFLICT (sha256, stage, recipe) DO UPDATE SET failures = excluded.failures,"
      " error_code = excluded.error_code, error_message = excluded.error_message");
  if (!upsert) return Fail(std::move(upsert.error()));
  upsert->BindText(sha256)
      .BindText(stage)
      .BindText(recipe)
      .BindInt64(failures)
      .BindText(error_code)
      .BindText(error_message)
      .BindInt64(now_);
  REPRISE_TRY(upsert->Run());
  return true;
}

Result<std::vector<QuarantineEntry>> SqliteJobs::ListQuarantine(const AssetFilter& scope) {
  SqlQuery query = ListQuarantineQuery(scope);
  auto select = db_.Prepare(query.sql);
  if (!select) return Fail(std::move(select.error()));
  select->BindAll(query.binds);
  std::vector<QuarantineEntry> entries;
  while (true) {
    auto row = select->Step();
    if (!row) return Fail(std::move(row.error()));
    if (!*row) return entries;
    QuarantineEntry entry;
    entry.sha256_hex = select->Text(0);
    entry.stage = select->Text(1);
    entry.recipe = select->Text(2);
    entry.failures = static_cast<int>(select->Int64(3));
    entry.error_code = select->Text(4);
    entry.error_message = select->Text(5);
    entry.created_at = select->Int64(6);
    entries.push_back(std::move(entry));
  }
}

}  // namespace reprise::catalog
