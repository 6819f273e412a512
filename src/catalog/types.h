// Plain records the catalog stores and returns. No behaviour beyond name conversion.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/stage_limits.h"
#include "core/error.h"

namespace reprise::catalog {

enum class AssetKind { kUnknown, kVideo, kAudio, kImage };
enum class AssetSource { kUpload, kUrl, kWebhook, kScan };
// pending: work is due; processing: a run is under way; ready: every applicable stage
// has a current result; failed: at least one stage's latest attempt failed.
enum class AssetStatus { kPending, kProcessing, kReady, kFailed };
enum class DerivativeState { kPending, kRunning, kDone, kFailed, kSkipped };

std::string_view Name(AssetKind kind);
std::string_view Name(AssetSource source);
std::string_view Name(AssetStatus status);
std::string_view Name(DerivativeState state);
Result<AssetKind> ParseAssetKind(std::string_view text);
Result<AssetSource> ParseAssetSource(std::string_view text);
Result<AssetStatus> ParseAssetStatus(std::string_view text);
Result<DerivativeState> ParseDerivativeState(std::string_view text);

// What the media summary of an asset says; filled from the probe stage.
struct MediaSummary {
  AssetKind kind = AssetKind::kUnknown;
  std::string container;  // libavformat short name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
  std::optional<double> duration_seconds;
  std::optional<int> width;   // display width (rotation applied)
  std::optional<int> height;  // display height (rotation applied)
};

struct NewAsset {
  std::string id;  // derived by the caller (core/ids.h)
  std::string owner;
  AssetSource source = AssetSource::kScan;
  std::string sha256_hex;
  std::string cid;
  int64_t size_bytes = 0;
  std::string original_key;
  std::string original_name;  // file name as the user had it
  std::string source_uri;     // where it came from (path, URL)
  MediaSummary media;         // what ingest already knows
  std::optional<std::string> parent_id;
  std::map<std::string, std::string> refs;
};

struct Asset {
  std::string id;
  std::string owner;
  AssetSource source = AssetSource::kScan;
  std::string sha256_hex;
  std::string cid;
  int64_t size_bytes = 0;
  std::string original_key;
  std::string original_name;
  std::string source_uri;
  AssetStatus status = AssetStatus::kPending;
  MediaSummary media;
  std::optional<std::string> parent_id;
  std::map<std::string, std::string> refs;
  int64_t created_at = 0;  // UTC microseconds
  int64_t updated_at = 0;
  // Raised by the catalog whenever anything the asset's document shows changes: this row,
  // any of its derivatives, the quarantine of its content. The same revision read twice
  // means nothing in between changed (a cache of the document may be reused); its value
  // means nothing else.
  int64_t revision = 0;
};

struct InsertAssetResult {
  Asset asset;
  bool created = false;  // false: the same (owner, content) already existed
};

struct WhereExpr;  // catalog/where.h

struct AssetFilter {
  std::optional<std::string> owner;  // owner scoping: set for every user-facing query
  std::optional<AssetStatus> status;
  std::optional<AssetKind> kind;
  std::optional<AssetSource> source;
  std::vector<std::string> ids;  // empty: any
  // Created in [created_after, created_before), UTC micros: `after` is inclusive so that
  // consecutive windows (a day, then the next) neither miss nor repeat an asset.
  std::optional<int64_t> created_after;
  std::optional<int64_t> created_before;
  // A parsed --where expression (ParseWhere); null: any.
  std::shared_ptr<const WhereExpr> where;
};

struct PageRequest {
  std::string cursor;  // opaque; empty for the first page
  int limit = 100;
};

struct AssetPage {
  std::vector<Asset> items;
  std::string next_cursor;  // empty when there is no more
};

struct OutputBlob {
  std::string name;  // file name within the derivative, e.g. "thumb.jpg"
  std::string key;   // blob key
  int64_t size = 0;
  std::string content_type;  // "image/jpeg"
};

// One attempt of one stage on one asset. Rows are never overwritten by a later
// attempt: each run inserts a row; the row marked `current` is the result served.
struct Derivative {
  int64_t id = 0;
  std::string asset_id;
  std::string stage;
  int stage_version = 0;
  std::string recipe;
  nlohmann::json params = nlohmann::json::object();
  DerivativeState state = DerivativeState::kPending;
  std::string skip_reason;
  std::string error_code;  // ErrorCodeName()
  std::string error_message;
  int attempts = 0;
  nlohmann::json metadata = nlohmann::json::object();
  std::vector<OutputBlob> blobs;
  int64_t bytes = 0;
  bool current = false;
  int64_t created_at = 0;
  int64_t started_at = 0;
  int64_t finished_at = 0;
};

// One asset's current result of one stage, as ScanCurrentResults streams it.
struct CurrentResult {
  std::string asset_id;
  std::string asset_name;  // the original's file name
  std::optional<double> duration_seconds;
  std::string recipe;
  nlohmann::json metadata = nlohmann::json::object();
};

// A piece of searchable text a stage found (a transcript segment, a scene description, a
// tag, a summary), stored with its derivative and found by Catalog::Search while that
// derivative is the current one of its stage.
struct SearchEntry {
  std::string kind;  // "transcript", "description", "tag", "summary" ("name": asset names)
  std::string text;
  double start = -1;  // seconds into the media; -1 when not timed
  double end = -1;
  int scene = -1;  // index into the asset's scenes; -1 when not tied to a scene

  bool operator==(const SearchEntry&) const = default;
};

// What a stage run ended with, recorded by CompleteDerivative.
struct DerivativeOutcome {
  DerivativeState state = DerivativeState::kDone;  // kDone, kFailed or kSkipped
  std::string skip_reason;
  std::optional<Error> error;
  nlohmann::json metadata = nlohmann::json::object();
  std::vector<OutputBlob> blobs;
  // When set (the probe stage), the asset's media summary is updated in the same
  // transaction.
  std::optional<MediaSummary> asset_media;
  // kDone only: stored with the derivative in the same transaction (Catalog::Search).
  std::vector<SearchEntry> search;
};

// How one asset stands for one stage given today's recipe. A *result* is a finished
// attempt (done, failed or skipped); an attempt still pending or running is none. The
// first that holds wins:
//   skipped      the latest result of today's recipe is a skip: it does not apply
//                (the skip reason says why)
//   current      the current result was built by today's recipe
//   quarantined  the content failed too often with today's recipe; left alone until
//                its content or the recipe changes
//   failed       the latest result of today's recipe failed
//   outdated     any other result: the current one, or (with none current) an older
//                recipe's skip or failure, came from another recipe than today's
//   missing      never attempted: no result of any recipe
enum class StageStatus {
  kCurrent,
  kOutdated,
  kMissing,
  kFailed,
  kSkipped,
  kQuarantined,
};
std::string_view Name(StageStatus status);
Result<StageStatus> ParseStageStatus(std::string_view text);

struct StageRecipe {
  std::string stage;
  std::string recipe;
};

struct StageCounts {
  int64_t current = 0;
  int64_t outdated = 0;
  int64_t missing = 0;
  int64_t failed = 0;
  int64_t skipped = 0;
  int64_t quarantined = 0;
};

// ---- The durable queue ---------------------------------------------------------------

// queued -> running -> succeeded | failed | cancelled; running -> queued on retry, lease
// expiry or release; failed/cancelled -> queued on an explicit retry.
enum class JobState { kQueued, kRunning, kSucceeded, kFailed, kCancelled };
std::string_view Name(JobState state);
Result<JobState> ParseJobState(std::string_view text);

// A lease (a job's, a backfill driver's) as people read it at `now_micros`: "3.2 s left",
// or once past its expiry "expired 6.5 s ago, waiting for a worker": its holder stopped
// renewing it (killed, stalled) and the next worker to look takes the work over.
std::string DescribeLease(int64_t expires_at_micros, int64_t now_micros);

// Live work (ingest, API calls) outranks backfills; workers keep a share of their slots
// for jobs at or above kLivePriority.
inline constexpr int kLivePriority = 100;
inline constexpr int kBackfillPriority = 0;

struct NewJob {
  std::string asset_id;
  std::vector<std::string> stages;  // non-empty, distinct
  int priority = kLivePriority;
  int max_attempts = 5;
  int64_t run_after = 0;  // UTC micros; 0 means now
  std::optional<int64_t> backfill_id;
  // The stages run even when their result is current, skipped or quarantined (a backfill
  // in mode "all" rebuilds what it selected). A forced stage merged into a queued job
  // stays forced; the job's other stages do not become forced.
  bool force = false;
  // The asset keeps its status while the job runs (a backfill with --skip-reset) instead
  // of showing `processing`; once the results are in, the status is recomputed as always.
  // Merged into a queued job, the job keeps the status only if both asks said so.
  bool keep_status = false;
  // The job holds only these stages, so a worker that runs nothing else (`reprise process
  // --stage`) can take it: see Catalog::Enqueue.
  bool separate = false;
};

struct EnqueueResult {
  int64_t job_id = 0;    // the job now holding the enqueued stages; 0 when none was enqueued
  bool created = false;  // a new job row was inserted
  std::vector<std::string> enqueued;        // stages added to a new or a merged job
  std::vector<std::string> moved;           // separate: taken out of another queued job
  std::vector<std::string> already_active;  // already queued or running for the asset
};

struct Job {
  int64_t id = 0;
  std::string asset_id;
  std::string owner;  // the asset's owner, for scoping
  // While queued or running, the stages still to run (active ones); once finished, the
  // ones it ended with (what RetryJobs runs again).
  std::vector<std::string> stages;
  std::vector<std::string> forced;  // the stages enqueued with force, sorted
  int priority = kLivePriority;
  JobState state = JobState::kQueued;
  int attempts = 0;  // claims so far (each claim counts one)
  int max_attempts = 5;
  int64_t run_after = 0;
  std::string lease_owner;       // worker id while running
  int64_t lease_expires_at = 0;  // while running
  bool cancel_requested = false;
  std::optional<int64_t> backfill_id;
  std::string last_error_code;
  std::string last_error_message;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  int64_t started_at = 0;    // first claim
  int64_t finished_at = 0;   // succeeded, failed or cancelled
  bool keep_status = false;  // see NewJob::keep_status
};

struct ClaimRequest {
  std::string worker_id;
  int max_jobs = 1;
  int64_t lease_micros = 30'000'000;
  // Only jobs at or above this priority (slots reserved for live work ask for
  // kLivePriority).
  int min_priority = std::numeric_limits<int>::min();
  // Only jobs whose every active stage is in this list; empty means any.
  std::vector<std::string> stages;
  // Global per-stage caps and start rates (catalog/stage_limits.h): a job holding a
  // limited stage is left queued while the limit is reached.
  std::vector<StageLimit> limits;
};

// How a worker ends its lease on a job.
struct JobOutcome {
  // kSucceeded, kFailed, kCancelled, or kQueued to run `retry_stages` again later.
  JobState state = JobState::kSucceeded;
  std::vector<std::string> retry_stages;  // kQueued: stages to keep; the others finish
  int64_t run_after = 0;                  // kQueued: not before this time
  std::optional<Error> error;             // kFailed / kQueued: the last error
};

struct JobFilter {
  std::optional<int64_t> job_id;
  std::optional<std::string> owner;
  std::optional<JobState> state;
  std::optional<std::string> stage;
  std::optional<std::string> asset_id;
  std::optional<int64_t> backfill_id;
};

struct JobPage {
  std::vector<Job> items;  // newest first
  std::string next_cursor;
};

struct QueueDepth {
  std::string stage;
  JobState state = JobState::kQueued;
  int64_t jobs = 0;
};

struct RunningJob {
  int64_t job_id = 0;
  std::string asset_id;
  std::vector<std::string> stages;
  std::string worker;
  int64_t started_at = 0;  // this lease's claim (updated_at at claim)
  int64_t lease_expires_at = 0;
};

struct QueueStats {
  std::vector<QueueDepth> depth;    // per stage, for queued, running and failed jobs
  int64_t oldest_queued_at = 0;     // created_at of the oldest due queued job; 0 if none
  std::vector<RunningJob> running;  // every running job
  int64_t quarantined = 0;          // quarantine entries
};

// Content that failed one stage (with one recipe) again and again: skipped by later runs
// until its content or the stage's recipe changes.
struct QuarantineEntry {
  std::string sha256_hex;
  std::string stage;
  std::string recipe;
  int failures = 0;
  std::string error_code;
  std::string error_message;
  int64_t created_at = 0;
};

}  // namespace reprise::catalog
