// JobsService: listing, retrying and cancelling queued work for a caller, the rules behind
// `reprise jobs list|retry|cancel` and `/api/v1/jobs...`.
//
// Scoping as everywhere (services/caller.h): another owner's job is kNotFound. Only a
// failed or cancelled job can be retried (kConflict naming its state otherwise); retry by
// filter requeues every failed job that matches. Cancelling a queued job cancels it at
// once, a running one is asked to stop at its next heartbeat; a finished one is
// kConflict. Listings are newest first and cursor-paged; a filter value that does not
// parse is kInvalidArgument naming its option. Thread-safe as the catalog is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "services/caller.h"

namespace reprise::services {

struct JobQuery {
  std::optional<std::string> state;  // queued, running, succeeded, failed, cancelled
  std::optional<std::string> stage;
  std::optional<std::string> asset_id;
  std::optional<std::string> owner;  // narrowing (admins), or the caller's own
};

struct JobList {
  std::vector<catalog::Job> items;
  std::string next_cursor;  // empty when no more match
  // When the limit stopped the listing before the end: how many were shown and how to
  // see the rest (the command line's words), else empty.
  std::string more;
};

// Which failed jobs `POST /api/v1/jobs/retry` and `jobs retry --failed` requeue.
struct RetryQuery {
  std::optional<std::string> stage;
  std::optional<std::string> owner;
};

// The API's page of jobs: PageJson over JobJson.
nlohmann::json JobListJson(const JobList& list);
// {"retried": n}
nlohmann::json RetriedJson(int64_t retried);
// {"id", "state"}: the state after a cancel.
nlohmann::json CancelledJson(int64_t id, catalog::JobState state);

class JobsService final {
 public:
  explicit JobsService(catalog::Catalog& catalog) : catalog_(catalog) {}

  // Up to `limit` jobs (0: all) from `cursor` on, newest first.
  [[nodiscard]] Result<JobList> List(const Caller& caller, const JobQuery& query,
                                     const std::string& cursor, int64_t limit);
  [[nodiscard]] Result<catalog::Job> Get(const Caller& caller, int64_t id,
                                         const std::optional<std::string>& only_owner = {});
  // Queues one failed or cancelled job again; returns how many were requeued (0 when
  // each of its stages is meanwhile queued elsewhere).
  [[nodiscard]] Result<int64_t> Retry(const Caller& caller, int64_t id,
                                      const std::optional<std::string>& only_owner = {});
  // Queues every failed job matching `query` again.
  [[nodiscard]] Result<int64_t> RetryFailed(const Caller& caller, const RetryQuery& query);
  // Returns the job's state after the call.
  [[nodiscard]] Result<catalog::JobState> Cancel(const Caller& caller, int64_t id,
                                                 const std::optional<std::string>& only_owner = {});

 private:
  catalog::Catalog& catalog_;
};

}  // namespace reprise::services
