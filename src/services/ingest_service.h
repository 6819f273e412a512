// IngestService: adding media files and folders for a caller, behind `reprise ingest`.
//
// Without `process`, each new asset is stored with its stages queued in the same
// transaction (for `worker` or `process` to run). With `process`, a processing session
// (queue/process.h) starts first and each asset this ingest brings, new or already
// there, has its due stages enqueued as soon as it is stored, so the pool works while
// the next files are still being copied; the caller then waits on the returned session.
// The session, not the ingest transaction, enqueues them: a crash in between leaves the
// asset with missing derivatives, which `process` or a backfill finds.
//
// Stopping: `stop_signal` is polled before each file and by the session; the first time
// it says true while files are being copied, the ingest stops after the current file and
// that same stop is then handed to the session (which stops its pool gracefully), so
// one Ctrl-C stops both. Owner of the new assets: Caller::OwnerForNew(request owner,
// the configured owner).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "ingest/ingest.h"
#include "queue/process.h"
#include "services/caller.h"

namespace reprise::services {

struct IngestDefaults {
  std::string owner;           // config `owner`
  int64_t max_file_bytes = 0;  // config `max_ingest_bytes`
  int max_attempts = 5;        // config queue.max_attempts
  catalog::NewJob job;         // what a new asset gets queued (App::IngestJob)
};

struct IngestRequest {
  std::vector<std::string> paths;
  std::optional<std::string> owner;
  bool process = false;
  // True when a stop was asked for since the last call (a signal); may be empty.
  std::function<bool()> stop_signal;
  ingest::ProgressFn on_progress;
};

struct IngestOutcome {
  ingest::Summary summary;
  // With `process`: the session working on what was ingested, to Wait() on.
  std::unique_ptr<queue::ProcessSession> session;
  // With `process`: the session refused an asset (nothing more was added to it).
  std::optional<Error> process_error;
};

class IngestService final {
 public:
  IngestService(ingest::Ingestor& ingestor, queue::Processor& processor, IngestDefaults defaults)
      : ingestor_(ingestor), processor_(processor), defaults_(std::move(defaults)) {}

  // kPermissionDenied when a non-admin names another owner; the session's errors when it
  // cannot start. Per-file failures are in the summary.
  [[nodiscard]] Result<IngestOutcome> Ingest(const Caller& caller, const IngestRequest& request);

 private:
  ingest::Ingestor& ingestor_;
  queue::Processor& processor_;
  IngestDefaults defaults_;
};

}  // namespace reprise::services
