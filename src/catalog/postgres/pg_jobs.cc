// The durable queue of the PostgreSQL catalog (the contract is the queue section of
// catalog/catalog.h; the storage is SQLite's, see catalog/sqlite/sqlite_jobs.h). What
// SQLite got from its single writer, PostgreSQL gets from row locks taken at READ
// COMMITTED: a claim takes due jobs FOR UPDATE SKIP LOCKED, so concurrent workers neither
// wait for nor take the same job; a lease holder (finish, renew, release), a canceller
// and the reaper lock the job row before deciding from it; an enqueue locks its asset
// row, so two enqueues for one asset merge instead of colliding on job_stages_active.

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "catalog/cursor.h"
#include "catalog/postgres/pg_internal.h"
#include "catalog/rules.h"

namespace reprise::catalog {

namespace {

constexpr std::string_view kEndedJobsTerm = "j.state IN ('failed', 'cancelled')";

// An ANY() over a JSON list parameter.
std::string AnyOf(const std::string& placeholder) {
  return "ANY (ARRAY(SELECT jsonb_array_elements_text(" + placeholder + "::jsonb)))";
}

Result<std::vector<Job>> ReadJobs(const pqxx::result& rows) {
  std::vector<Job> jobs;
  for (const auto& row : rows) {
    auto job = ReadJob(PgRow(row));
    if (!job) return Fail(std::move(job.error()));
    jobs.push_back(std::move(*job));
  }
  return jobs;
}

std::string Describe(int64_t job_id) { return "job " + std::to_string(job_id); }

// After kJobColumns: the job's stages as a JSON list of [stage, force] pairs.
constexpr std::string_view kStagesColumn =
    "(SELECT COALESCE(jsonb_agg(jsonb_build_array(s.stage, s.force)), '[]')"
    " FROM job_stages s WHERE s.job_id = j.id)::text";
constexpr int kStagesColumnIndex = 19;

// Fills job.stages and job.forced from kStagesColumn, as FillStages would.
void ReadStagesColumn(const pqxx::field& field, Job& job) {
  for (const auto& pair : nlohmann::json::parse(Text(field))) {
    job.stages.push_back(pair[0].get<std::string>());
    if (pair[1].get<int64_t>() != 0) job.forced.push_back(job.stages.back());
  }
  // Sorted by name in the byte order the contract means, whatever the database collation.
  std::sort(job.stages.begin(), job.stages.end());
  std::sort(job.forced.begin(), job.forced.end());
}

// The filter as " AND ..." conditions over aliases j and a.
void AddJobConditions(const JobFilter& filter, PgQuery& query) {
  if (filter.job_id) query.sql += " AND j.id = " + query.Add(*filter.job_id);
  if (filter.owner) query.sql += " AND a.owner = " + query.Add(*filter.owner);
  if (filter.state) query.sql += " AND j.state = " + query.Add(Name(*filter.state));
  if (filter.asset_id) query.sql += " AND j.asset_id = " + query.Add(*filter.asset_id);
  if (filter.backfill_id) query.sql += " AND j.backfill_id = " + query.Add(*filter.backfill_id);
  if (filter.stage) {
    query.sql += " AND EXISTS (SELECT 1 FROM job_stages s WHERE s.job_id = j.id AND s.stage = " +
                 query.Add(*filter.stage) + ")";
  }
}

// Quarantine entries (alias q) for content that some asset matching `scope` has.
void AddQuarantineScope(const AssetFilter& scope, PgQuery& query) {
  PgQuery scoped{"", {}};
  AddAssetConditions(scope, scoped);
  if (scoped.sql.empty()) return;
  query.sql += " AND EXISTS (SELECT 1 FROM assets a WHERE a.sha256 = q.sha256";
  query.Append(scoped);
  query.sql += ")";
}

}  // namespace

Result<EnqueueResult> PgJobs::Enqueue(const NewJob& job) {
  auto stages = CheckNewJob(job);
  if (!stages) return Fail(std::move(stages.error()));
  // The asset's row lock makes enqueues for one asset take turns (see the file comment).
  if (ExecPrepared(c_.tx, "SELECT 1 FROM assets WHERE id = $1 FOR UPDATE", job.asset_id).empty()) {
    return Fail(ErrorCode::kNotFound, "asset " + job.asset_id + " not found");
  }
  if (job.backfill_id &&
      ExecPrepared(c_.tx, "SELECT 1 FROM backfills WHERE id = $1", *job.backfill_id).empty()) {
    return Fail(ErrorCode::kNotFound,
                "backfill " + std::to_string(*job.backfill_id) + " not found");
  }
  std::map<std::string, int64_t> holder;
  std::map<int64_t, std::vector<std::string>> queued_jobs;  // by id: the first is oldest
  for (const auto& row :
       ExecPrepared(c_.tx,
                    "SELECT s.stage, s.job_id, j.state = 'queued' FROM job_stages s"
                    " JOIN jobs j ON j.id = s.job_id WHERE s.asset_id = $1"
                    " AND s.active = 1",
                    job.asset_id)) {
    holder[Text(row[0])] = Int(row[1]);
    if (row[2].as<bool>()) queued_jobs[Int(row[1])].push_back(Text(row[0]));
  }
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

  const int64_t run_after = job.run_after == 0 ? c_.now : job.run_after;
  if (job.separate) {
    for (const auto& [id, held] : queued_jobs) {
      if (only_asked(held)) {
        result.job_id = id;
        break;
      }
    }
  } else {
    auto queued = ExecPrepared(c_.tx,
                               "SELECT id FROM jobs WHERE asset_id = $1 AND state = 'queued'"
                               " ORDER BY id LIMIT 1",
                               job.asset_id);
    if (!queued.empty()) result.job_id = Int(queued[0][0]);
  }
  if (result.job_id != 0) {
    // Merging: the job keeps its backfill and max_attempts; it runs as soon and as urgently
    // as the more demanding of the two asks, and keeps the asset's status only if both
    // asked for that.
    ExecPrepared(
        c_.tx,
        "UPDATE jobs SET priority = GREATEST(priority, $1), run_after = LEAST(run_after, $2),"
        " keep_status = LEAST(keep_status, $3), updated_at = $4 WHERE id = $5",
        job.priority, run_after, job.keep_status, c_.now, result.job_id);
  } else {
    auto inserted =
        ExecPrepared(c_.tx,
                     "INSERT INTO jobs (asset_id, priority, state, attempts, max_attempts,"
                     " run_after, backfill_id, keep_status, created_at, updated_at)"
                     " VALUES ($1, $2, 'queued', 0, $3, $4, $5, $6, $7, $7) RETURNING id",
                     job.asset_id, job.priority, job.max_attempts, run_after, job.backfill_id,
                     job.keep_status, c_.now);
    result.job_id = Int(inserted[0][0]);
    result.created = true;
  }
  for (const auto& stage : result.moved) {
    // The stage's row (with its force flag) and the hold of the backfill item it serves
    // follow it.
    ExecPrepared(c_.tx, "UPDATE job_stages SET job_id = $1 WHERE job_id = $2 AND stage = $3",
                 result.job_id, holder[stage], stage);
    ExecPrepared(c_.tx, "UPDATE backfill_holds SET job_id = $1 WHERE job_id = $2 AND stage = $3",
                 result.job_id, holder[stage], stage);
  }
  for (const auto& stage : result.enqueued) {
    ExecPrepared(
        c_.tx,
        "INSERT INTO job_stages (job_id, asset_id, stage, active, force) VALUES ($1, $2, $3, 1, "
        "$4)",
        result.job_id, job.asset_id, stage, job.force);
  }
  c_.change.Add(ChangeTopic::kJobs);
  return result;
}

namespace {

// The class of the advisory locks that serialise limit checks ("RPLM"), beside the hash
// of the stage's name.
constexpr int kLimitLockClass = 0x52504c4d;

// Due queued jobs `request` may take, best first, at most `limit`, none holding a stage
// of `excluded`: their ids, locked (SKIP LOCKED: rows another claim holds are passed).
PgQuery PickQuery(const ClaimRequest& request, int64_t now, int limit,
                  const std::vector<std::string>& excluded) {
  PgQuery pick;
  pick.sql = "SELECT j.id FROM jobs j WHERE j.state = 'queued' AND j.run_after <= " + pick.Add(now);
  if (request.min_priority != std::numeric_limits<int>::min()) {
    pick.sql += " AND j.priority >= " + pick.Add(request.min_priority);
  }
  if (!request.stages.empty()) {
    pick.sql +=
        " AND NOT EXISTS (SELECT 1 FROM job_stages s WHERE s.job_id = j.id AND s.active = 1"
        " AND NOT s.stage = " +
        AnyOf(pick.Add(JsonList(request.stages))) + ")";
  }
  if (!excluded.empty()) {
    pick.sql +=
        " AND NOT EXISTS (SELECT 1 FROM job_stages s WHERE s.job_id = j.id AND s.active = 1"
        " AND s.stage = " +
        AnyOf(pick.Add(JsonList(excluded))) + ")";
  }
  pick.sql += " ORDER BY j.priority DESC, j.run_after, j.id LIMIT " + pick.Add(limit) +
              " FOR UPDATE OF j SKIP LOCKED";
  return pick;
}

}  // namespace

Result<int64_t> PgRateStarts::CountStarts(const std::string& key, int64_t expired) {
  Exec(c_.tx, "DELETE FROM rate_starts WHERE key = $1 AND started_at <= $2", key, expired);
  return Int(Exec(c_.tx, "SELECT COUNT(*) FROM rate_starts WHERE key = $1", key)[0][0]);
}

Result<void> PgRateStarts::RecordStarts(const std::string& key, int64_t count) {
  if (count <= 0) return {};
  Exec(c_.tx, "INSERT INTO rate_starts (key, started_at) SELECT $1, $2 FROM generate_series(1, $3)",
       key, c_.now, count);
  return {};
}

Result<std::optional<TokenBucket>> PgRateStarts::LoadBucket(const std::string& key) {
  auto rows = Exec(c_.tx, "SELECT tokens, updated_at FROM rate_buckets WHERE key = $1", key);
  if (rows.empty()) return std::optional<TokenBucket>();
  return std::optional<TokenBucket>(TokenBucket{rows[0][0].as<double>(), Int(rows[0][1])});
}

Result<void> PgRateStarts::StoreBucket(const std::string& key, const TokenBucket& bucket) {
  Exec(c_.tx,
       "INSERT INTO rate_buckets (key, tokens, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key)"
       " DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at",
       key, bucket.tokens, bucket.at);
  return {};
}

// The queries of a claim with stage limits (catalog/limited_claim.h).
class PgJobs::LimitStore final : public LimitedClaimStore {
 public:
  LimitStore(PgJobs& jobs, const ClaimRequest& request)
      : jobs_(jobs), request_(request), starts_(jobs.c_) {}

  Result<std::vector<Job>> SelectDue(int limit, const std::vector<std::string>& excluded) override {
    std::vector<Job> due;
    std::vector<int64_t> ids;
    for (const auto& row : Exec(jobs_.c_.tx, PickQuery(request_, jobs_.c_.now, limit, excluded))) {
      ids.push_back(Int(row[0]));
      due.emplace_back().id = ids.back();
    }
    auto stages = jobs_.LoadStages(ids);
    for (auto& job : due) job.stages = std::move(stages[job.id]);
    return due;
  }

  Result<std::vector<Job>> Lease(const std::vector<Job>& jobs) override {
    std::vector<int64_t> ids;
    for (const auto& job : jobs) ids.push_back(job.id);
    // Locked by SelectDue in this transaction: nobody else can have taken them since.
    PgQuery pick;
    pick.sql =
        "SELECT j.id FROM jobs j WHERE j.id = ANY (ARRAY(SELECT "
        "jsonb_array_elements_text(" +
        pick.Add(JsonList(ids)) + "::jsonb)::bigint))";
    return jobs_.LeasePicked(request_, pick);
  }

  Result<void> LockLimits(const std::vector<std::string>& stages) override {
    // Sorted and all at once: two claims never wait for each other's second lock.
    for (const auto& stage : stages) {
      Exec(jobs_.c_.tx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", kLimitLockClass, stage);
    }
    return {};
  }

  Result<std::map<std::string, int64_t>> CountRunning(
      const std::vector<std::string>& stages) override {
    // A statement after the lock: at READ COMMITTED it sees every claim committed before.
    std::map<std::string, int64_t> running;
    for (const auto& row : Exec(jobs_.c_.tx,
                                "SELECT s.stage, COUNT(*) FROM jobs j JOIN job_stages s"
                                " ON s.job_id = j.id WHERE j.state = 'running' AND s.active = 1"
                                " AND s.stage = " +
                                    AnyOf("$1") + " GROUP BY s.stage",
                                JsonList(stages))) {
      running[Text(row[0])] = Int(row[1]);
    }
    return running;
  }

  RateStarts& starts() override { return starts_; }

 private:
  PgJobs& jobs_;
  const ClaimRequest& request_;
  PgRateStarts starts_;
};

Result<std::vector<Job>> PgJobs::Claim(const ClaimRequest& request) {
  REPRISE_TRY(CheckClaimRequest(request));
  const int limit = std::min(request.max_jobs, kMaxPageLimit);
  if (!request.limits.empty()) {
    LimitStore store(*this, request);
    return ClaimWithinLimits(request, limit, c_.now, store);
  }
  return LeasePicked(request, PickQuery(request, c_.now, limit, {}));
}

Result<std::vector<Job>> PgJobs::LeasePicked(const ClaimRequest& request, const PgQuery& pick) {
  const int64_t expires = c_.now + request.lease_micros;
  PgQuery claim;
  claim.sql = "WITH picked AS (";
  claim.Append(pick);
  claim.sql += "), claimed AS (UPDATE jobs SET state = 'running', lease_owner = " +
               claim.Add(request.worker_id) + ", lease_expires_at = " + claim.Add(expires) +
               ", attempts = attempts + 1, started_at = COALESCE(started_at, " + claim.Add(c_.now) +
               "), updated_at = " + claim.Add(c_.now) +
               " FROM picked WHERE jobs.id = picked.id RETURNING jobs.*) SELECT " +
               std::string(kJobColumns) + ", " + std::string(kStagesColumn) +
               " FROM claimed j JOIN assets a ON a.id = j.asset_id"
               " ORDER BY j.priority DESC, j.run_after, j.id";
  // The stages come with the jobs: a claim is one statement.
  const auto rows = ExecPrepared(c_.tx, claim);
  auto jobs = ReadJobs(rows);
  if (!jobs) return Fail(std::move(jobs.error()));
  for (size_t i = 0; i < jobs->size(); ++i) {
    ReadStagesColumn(rows[static_cast<int>(i)][kStagesColumnIndex], (*jobs)[i]);
  }
  return jobs;
}

Result<PgJobs::Lease> PgJobs::CheckHeld(int64_t job_id, std::string_view worker_id) {
  auto rows = ExecPrepared(
      c_.tx, "SELECT state, lease_owner, cancel_requested FROM jobs WHERE id = $1 FOR UPDATE",
      job_id);
  if (rows.empty()) {
    return Fail(ErrorCode::kConflict, Describe(job_id) + " is not leased by worker " +
                                          std::string(worker_id) + ": it no longer exists");
  }
  Lease lease;
  auto state = ParseJobState(Text(rows[0][0]));
  if (!state) return Fail(state.error().Wrap(Describe(job_id)));
  lease.state = *state;
  lease.owner = Text(rows[0][1]);
  lease.cancel_requested = Int(rows[0][2]) != 0;
  if (lease.state != JobState::kRunning || lease.owner != worker_id) {
    std::string now_is = lease.state == JobState::kRunning
                             ? "it is leased by worker " + lease.owner
                             : "it is " + std::string(Name(lease.state));
    return Fail(ErrorCode::kConflict, Describe(job_id) + " is not leased by worker " +
                                          std::string(worker_id) + ": " + now_is);
  }
  return lease;
}

Result<bool> PgJobs::Renew(int64_t job_id, std::string_view worker_id, int64_t lease_micros) {
  REPRISE_TRY(CheckLease(lease_micros));
  // Heartbeats do not touch updated_at: it keeps the time of the claim (RunningJob).
  auto rows = Exec(c_.tx,
                   "UPDATE jobs SET lease_expires_at = $1 WHERE id = $2 AND state = 'running'"
                   " AND lease_owner = $3 RETURNING cancel_requested",
                   c_.now + lease_micros, job_id, worker_id);
  if (!rows.empty()) return Int(rows[0][0]) != 0;
  auto held = CheckHeld(job_id, worker_id);  // explains why not
  if (!held) return Fail(std::move(held.error()));
  return Fail(ErrorCode::kInternal, Describe(job_id) + ": lease renewal matched no row");
}

Result<void> PgJobs::End(int64_t job_id, JobState state, const std::string& error_code,
                         const std::string& error_message) {
  auto ended = EndIfHeld(job_id, "", state, error_code, error_message);
  if (!ended) return Fail(std::move(ended.error()));
  if (!*ended) return Fail(ErrorCode::kInternal, Describe(job_id) + " vanished");
  return {};
}

Result<bool> PgJobs::EndIfHeld(int64_t job_id, std::string_view holder, JobState state,
                               const std::string& error_code, const std::string& error_message) {
  // One statement ends the job (if `holder` still holds it), retires its stages and reads
  // what the job.finished event says. A failed or cancelled job keeps the last error it
  // met when it ends without one of its own; a succeeded job keeps none.
  auto rows =
      Exec(c_.tx,
           "WITH ended AS (UPDATE jobs SET state = $1, lease_owner = NULL, lease_expires_at = NULL,"
           " finished_at = $2, updated_at = $2,"
           " last_error_code = CASE WHEN $3 THEN '' WHEN $4 = '' THEN last_error_code ELSE $4 END,"
           " last_error_message = CASE WHEN $3 THEN '' WHEN $4 = '' THEN last_error_message"
           " ELSE $5 END WHERE id = $6"
           " AND ($7::text = '' OR (state = 'running' AND lease_owner = $7::text))"
           " RETURNING asset_id, attempts, backfill_id, last_error_code, last_error_message),"
           " retired AS (UPDATE job_stages SET active = 0 WHERE job_id = $6"
           " AND EXISTS (SELECT 1 FROM ended) RETURNING stage)"
           " SELECT e.asset_id, a.owner, e.attempts, e.backfill_id, e.last_error_code,"
           " e.last_error_message, (SELECT COALESCE(jsonb_agg(r.stage ORDER BY r.stage"
           " COLLATE \"C\"), '[]') FROM retired r)::text, a.id IS NOT NULL"
           " FROM ended e LEFT JOIN assets a ON a.id = e.asset_id",
           Name(state), c_.now, std::string(state == JobState::kSucceeded ? "true" : "false"),
           error_code, error_message, job_id, holder);
  if (rows.empty()) return false;
  const auto& row = rows[0];
  if (!row[7].as<bool>()) return Fail(ErrorCode::kInternal, Describe(job_id) + " vanished");
  PgFinishedJob finished{job_id,       Text(row[0]), Text(row[1]), Int(row[2]), OptionalInt(row[3]),
                         Text(row[4]), Text(row[5]), Text(row[6])};
  // Only a backfill's job has items to settle.
  if (finished.backfill_id) {
    REPRISE_TRY(SettlePgBackfillItems(c_, job_id, {}, state, error_code));
  }
  REPRISE_TRY(AppendPgJobFinished(c_, finished, state));
  return true;
}

Result<void> PgJobs::Finish(int64_t job_id, std::string_view worker_id, const JobOutcome& outcome) {
  REPRISE_TRY(CheckJobOutcome(outcome));
  auto [error_code, error_message] = ErrorColumns(outcome.error);
  if (outcome.state != JobState::kQueued) {
    // The lease is checked as the job ends; the job is read again only to say why not.
    auto ended = EndIfHeld(job_id, worker_id, outcome.state, error_code, error_message);
    if (!ended) return Fail(std::move(ended.error()));
    if (*ended) return {};
    auto held = CheckHeld(job_id, worker_id);
    if (!held) return Fail(std::move(held.error()));
    return Fail(ErrorCode::kInternal, Describe(job_id) + ": ending it matched no row");
  }
  auto lease = CheckHeld(job_id, worker_id);
  if (!lease) return Fail(std::move(lease.error()));
  auto retry = CheckedStages(outcome.retry_stages, "a queued outcome");
  if (!retry) return Fail(std::move(retry.error()));
  auto stages = LoadStages({job_id});
  const std::vector<std::string>& held = stages[job_id];
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
    REPRISE_TRY(SettlePgBackfillItems(c_, job_id, ending, JobState::kSucceeded, ""));
    auto backfill = Exec(c_.tx, "SELECT backfill_id FROM jobs WHERE id = $1", job_id);
    if (!backfill.empty() && !backfill[0][0].is_null()) {
      REPRISE_TRY(AppendPgBackfillProgress(c_, Int(backfill[0][0])));
    }
  }
  // Stages that finished leave the job, so they can be enqueued again at once.
  Exec(c_.tx, "DELETE FROM job_stages WHERE job_id = $1 AND NOT stage = " + AnyOf("$2"), job_id,
       JsonList(*retry));
  // attempts stays as it is: it counts claims; the worker decides when to give up.
  Exec(c_.tx,
       "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL,"
       " run_after = $1, updated_at = $2,"
       " last_error_code = CASE WHEN $3 = '' THEN last_error_code ELSE $3 END,"
       " last_error_message = CASE WHEN $3 = '' THEN last_error_message ELSE $4 END"
       " WHERE id = $5",
       outcome.run_after == 0 ? c_.now : outcome.run_after, c_.now, error_code, error_message,
       job_id);
  c_.change.Add(ChangeTopic::kJobs);
  return {};
}

Result<void> PgJobs::Release(int64_t job_id, std::string_view worker_id) {
  auto lease = CheckHeld(job_id, worker_id);
  if (!lease) return Fail(std::move(lease.error()));
  if (lease->cancel_requested) return End(job_id, JobState::kCancelled, "", "");
  Exec(c_.tx,
       "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL,"
       " run_after = $1, attempts = GREATEST(attempts - 1, 0), updated_at = $1 WHERE id = $2",
       c_.now, job_id);
  c_.change.Add(ChangeTopic::kJobs);
  return {};
}

Result<int64_t> PgJobs::ReapExpired() {
  // SKIP LOCKED: a job whose holder is finishing it right now is not expired after all,
  // and another reaper working on the same job has it in hand.
  auto rows = Exec(c_.tx,
                   "SELECT id, lease_owner, attempts >= max_attempts, cancel_requested FROM jobs"
                   " WHERE state = 'running' AND lease_expires_at < $1 ORDER BY id"
                   " FOR UPDATE SKIP LOCKED",
                   c_.now);
  const std::string code(ErrorCodeName(ErrorCode::kUnavailable));
  for (const auto& row : rows) {
    const int64_t id = Int(row[0]);
    const std::string message = "lease of worker " + Text(row[1]) + " expired";
    const bool exhausted = row[2].as<bool>();
    const bool cancel_requested = Int(row[3]) != 0;
    if (cancel_requested || exhausted) {
      REPRISE_TRY(
          End(id, cancel_requested ? JobState::kCancelled : JobState::kFailed, code, message));
      continue;
    }
    Exec(c_.tx,
         "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL,"
         " run_after = $1, updated_at = $1, last_error_code = $2, last_error_message = $3"
         " WHERE id = $4",
         c_.now, code, message, id);
    c_.change.Add(ChangeTopic::kJobs);
  }
  return static_cast<int64_t>(rows.size());
}

std::map<int64_t, std::vector<std::string>> PgJobs::LoadStages(
    const std::vector<int64_t>& job_ids, std::map<int64_t, std::vector<std::string>>* forced) {
  std::map<int64_t, std::vector<std::string>> stages;
  if (job_ids.empty()) return stages;
  // One parameter for any number of jobs: a page or a claimed batch is one query.
  for (const auto& row : Exec(c_.tx,
                              "SELECT job_id, stage, force FROM job_stages WHERE job_id = ANY"
                              " (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)::bigint))"
                              " ORDER BY job_id, stage",
                              JsonList(job_ids))) {
    stages[Int(row[0])].push_back(Text(row[1]));
    if (forced != nullptr && Int(row[2]) != 0) (*forced)[Int(row[0])].push_back(Text(row[1]));
  }
  // Sorted by name in the byte order the contract means, whatever the database collation.
  for (auto& [id, names] : stages) std::sort(names.begin(), names.end());
  if (forced != nullptr) {
    for (auto& [id, names] : *forced) std::sort(names.begin(), names.end());
  }
  return stages;
}

void PgJobs::FillStages(std::vector<Job>& jobs) {
  std::vector<int64_t> ids;
  ids.reserve(jobs.size());
  for (const auto& job : jobs) ids.push_back(job.id);
  std::map<int64_t, std::vector<std::string>> forced;
  auto stages = LoadStages(ids, &forced);
  for (auto& job : jobs) {
    if (auto it = stages.find(job.id); it != stages.end()) job.stages = std::move(it->second);
    if (auto it = forced.find(job.id); it != forced.end()) job.forced = std::move(it->second);
  }
}

Result<Job> PgJobs::Get(int64_t job_id, const AssetFilter& scope) {
  PgQuery query;
  query.sql = "SELECT " + std::string(kJobColumns) +
              " FROM jobs j JOIN assets a ON a.id = j.asset_id WHERE j.id = " + query.Add(job_id);
  AddAssetConditions(scope, query);
  auto jobs = ReadJobs(Exec(c_.tx, query));
  if (!jobs) return Fail(std::move(jobs.error()));
  if (jobs->empty()) return Fail(ErrorCode::kNotFound, Describe(job_id) + " not found");
  FillStages(*jobs);
  return std::move(jobs->front());
}

Result<JobPage> PgJobs::List(const JobFilter& filter, std::string_view cursor, int limit) {
  PgQuery query;
  query.sql = "SELECT " + std::string(kJobColumns) +
              " FROM jobs j JOIN assets a ON a.id = j.asset_id WHERE true";
  AddJobConditions(filter, query);
  if (!cursor.empty()) {
    auto after = DecodeJobCursor(cursor);
    if (!after) return Fail(std::move(after.error()));
    query.sql += " AND j.id < " + query.Add(*after);
  }
  query.sql += " ORDER BY j.id DESC LIMIT " + query.Add(int64_t{limit} + 1);
  JobPage page;
  auto jobs = ReadJobs(Exec(c_.tx, query));
  if (!jobs) return Fail(std::move(jobs.error()));
  page.items = std::move(*jobs);
  if (static_cast<int>(page.items.size()) > limit) {
    page.items.resize(static_cast<size_t>(limit));
    page.next_cursor = EncodeJobCursor(page.items.back().id);
  }
  FillStages(page.items);
  return page;
}

Result<int64_t> PgJobs::Retry(const JobFilter& filter) {
  PgQuery query;
  query.sql = "SELECT j.id, j.asset_id FROM jobs j JOIN assets a ON a.id = j.asset_id WHERE " +
              std::string(kEndedJobsTerm);
  AddJobConditions(filter, query);
  query.sql += " ORDER BY j.id FOR UPDATE OF j";
  int64_t requeued = 0;
  for (const auto& candidate : Exec(c_.tx, query)) {
    const int64_t job_id = Int(candidate[0]);
    const std::string asset_id = Text(candidate[1]);
    // The asset's lock, as for an enqueue: a stage is free or taken, not both at once.
    Exec(c_.tx, "SELECT 1 FROM assets WHERE id = $1 FOR UPDATE", asset_id);
    auto stages = LoadStages({job_id});
    std::vector<std::string> busy;
    size_t free = 0;
    for (const auto& stage : stages[job_id]) {
      if (Exec(c_.tx, "SELECT 1 FROM job_stages WHERE asset_id = $1 AND stage = $2 AND active = 1",
               asset_id, stage)
              .empty()) {
        ++free;
      } else {
        busy.push_back(stage);
      }
    }
    // Every stage is queued elsewhere: nothing left to retry; the job stays as it is.
    if (free == 0) continue;
    for (const auto& stage : busy) {
      Exec(c_.tx, "DELETE FROM job_stages WHERE job_id = $1 AND stage = $2", job_id, stage);
    }
    Exec(c_.tx, "UPDATE job_stages SET active = 1 WHERE job_id = $1", job_id);
    Exec(c_.tx,
         "UPDATE jobs SET state = 'queued', attempts = 0, run_after = $1, lease_owner = NULL,"
         " lease_expires_at = NULL, cancel_requested = 0, finished_at = NULL, updated_at = $1"
         " WHERE id = $2",
         c_.now, job_id);
    c_.change.Add(ChangeTopic::kJobs);
    ++requeued;
  }
  return requeued;
}

Result<JobState> PgJobs::Cancel(int64_t job_id, const AssetFilter& scope) {
  PgQuery query;
  query.sql = "SELECT j.state FROM jobs j JOIN assets a ON a.id = j.asset_id WHERE j.id = " +
              query.Add(job_id);
  AddAssetConditions(scope, query);
  query.sql += " FOR UPDATE OF j";
  auto rows = Exec(c_.tx, query);
  if (rows.empty()) return Fail(ErrorCode::kNotFound, Describe(job_id) + " not found");
  auto state = ParseJobState(Text(rows[0][0]));
  if (!state) return Fail(state.error().Wrap(Describe(job_id)));
  switch (*state) {
    case JobState::kQueued:
      REPRISE_TRY(End(job_id, JobState::kCancelled, "", ""));
      return JobState::kCancelled;
    case JobState::kRunning:
      // Not a state change yet (updated_at keeps the claim time): the worker ends it.
      Exec(c_.tx, "UPDATE jobs SET cancel_requested = 1 WHERE id = $1", job_id);
      return JobState::kRunning;
    case JobState::kSucceeded:
    case JobState::kFailed:
    case JobState::kCancelled:
      break;
  }
  return Fail(ErrorCode::kConflict, Describe(job_id) + " is already " + std::string(Name(*state)));
}

Result<QueueStats> PgJobs::Stats(const AssetFilter& scope) {
  QueueStats stats;
  {
    PgQuery query;
    query.sql =
        "SELECT s.stage, j.state, COUNT(*) FROM jobs j JOIN assets a ON a.id = j.asset_id"
        " JOIN job_stages s ON s.job_id = j.id"
        " WHERE j.state IN ('queued', 'running', 'failed')";
    AddAssetConditions(scope, query);
    query.sql += " GROUP BY s.stage, j.state";
    for (const auto& row : Exec(c_.tx, query)) {
      auto state = ParseJobState(Text(row[1]));
      if (!state) return Fail(std::move(state.error()));
      stats.depth.push_back({Text(row[0]), *state, Int(row[2])});
    }
  }
  std::sort(stats.depth.begin(), stats.depth.end(), [](const auto& x, const auto& y) {
    return std::tie(x.stage, x.state) < std::tie(y.stage, y.state);
  });
  {
    PgQuery query;
    query.sql =
        "SELECT MIN(j.created_at) FROM jobs j JOIN assets a ON a.id = j.asset_id"
        " WHERE j.state = 'queued' AND j.run_after <= " +
        query.Add(c_.now);
    AddAssetConditions(scope, query);
    stats.oldest_queued_at = Int(Exec(c_.tx, query)[0][0]);
  }
  {
    PgQuery query;
    query.sql =
        "SELECT j.id, j.asset_id, j.lease_owner, j.updated_at, j.lease_expires_at"
        " FROM jobs j JOIN assets a ON a.id = j.asset_id WHERE j.state = 'running'";
    AddAssetConditions(scope, query);
    query.sql += " ORDER BY j.id";
    std::vector<int64_t> ids;
    for (const auto& row : Exec(c_.tx, query)) {
      RunningJob running;
      running.job_id = Int(row[0]);
      running.asset_id = Text(row[1]);
      running.worker = Text(row[2]);
      running.started_at = Int(row[3]);
      running.lease_expires_at = Int(row[4]);
      ids.push_back(running.job_id);
      stats.running.push_back(std::move(running));
    }
    auto stages = LoadStages(ids);
    for (auto& running : stats.running) running.stages = std::move(stages[running.job_id]);
  }
  {
    PgQuery query{"SELECT COUNT(*) FROM quarantine q WHERE true", {}};
    AddQuarantineScope(scope, query);
    stats.quarantined = Int(Exec(c_.tx, query)[0][0]);
  }
  return stats;
}

Result<bool> PgJobs::QuarantineIfRepeated(std::string_view asset_id, std::string_view stage,
                                          std::string_view recipe, int threshold) {
  REPRISE_TRY(CheckQuarantineRequest(stage, recipe, threshold));
  auto asset = Exec(c_.tx, "SELECT sha256 FROM assets WHERE id = $1", asset_id);
  if (asset.empty())
    return Fail(ErrorCode::kNotFound, "asset " + std::string(asset_id) + " not found");
  const std::string sha256 = Text(asset[0][0]);
  auto counted = Exec(c_.tx,
                      "SELECT COUNT(*), MAX(d.id) FROM assets a JOIN derivatives d"
                      " ON d.asset_id = a.id AND d.stage = $1 AND d.recipe = $2"
                      " AND d.state = 'failed' WHERE a.sha256 = $3",
                      stage, recipe, sha256);
  const int64_t failures = Int(counted[0][0]);
  if (failures < threshold) return false;
  std::string error_code;
  std::string error_message;
  auto latest = Exec(c_.tx, "SELECT error_code, error_message FROM derivatives WHERE id = $1",
                     Int(counted[0][1]));
  if (!latest.empty()) {
    error_code = Text(latest[0][0]);
    error_message = Text(latest[0][1]);
  }
  // created_at stays the time content was first quarantined; the count and the error
  // follow the latest failure.
  Exec(c_.tx,
       "INSERT INTO quarantine (sha256, stage, recipe, failures, error_code, error_message,"
       " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
       " ON CONFLICT (sha256, stage, recipe) DO UPDATE SET failures = excluded.failures,"
       " error_code = excluded.error_code, error_message = excluded.error_message",
       sha256, stage, recipe, failures, error_code, error_message, c_.now);
  return true;
}

Result<std::vector<QuarantineEntry>> PgJobs::ListQuarantine(const AssetFilter& scope) {
  PgQuery query{
      "SELECT q.sha256, q.stage, q.recipe, q.failures, q.error_code, q.error_message,"
      " q.created_at FROM quarantine q WHERE true",
      {}};
  AddQuarantineScope(scope, query);
  query.sql +=
      " ORDER BY q.created_at, q.sha256 COLLATE \"C\", q.stage COLLATE \"C\","
      " q.recipe COLLATE \"C\"";
  std::vector<QuarantineEntry> entries;
  for (const auto& row : Exec(c_.tx, query)) {
    QuarantineEntry entry;
    entry.sha256_hex = Text(row[0]);
    entry.stage = Text(row[1]);
    entry.recipe = Text(row[2]);
    entry.failures = static_cast<int>(Int(row[3]));
    entry.error_code = Text(row[4]);
    entry.error_message = Text(row[5]);
    entry.created_at = Int(row[6]);
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace reprise::catalog
