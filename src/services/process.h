// Running what is due (`reprise process`, POST /api/v1/process) for a caller: the
// options of a run from what the caller asked for, scoped to what it may see. The
// command line runs the work in the foreground (Begin, then the session's Wait); the API
// only enqueues it (Enqueue) and answers at once, and the workers of `serve` (or any
// `reprise worker`) run it.
//
// Errors: kInvalidArgument for an unknown stage; kPermissionDenied when a non-admin
// names another owner; catalog errors stop the walk (what was enqueued stays queued).
// Thread-safety: Enqueue may be called from many threads; a session as queue::Processor.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "queue/enqueue.h"
#include "queue/process.h"
#include "services/caller.h"
#include "stages/registry.h"

namespace reprise::services {

struct ProcessSpec {
  std::vector<std::string> stages;   // empty: every registered stage
  std::optional<std::string> owner;  // narrows an admin to one owner's assets
  bool retry_failed = false;         // also stages whose last attempt failed
  int concurrency = 0;               // foreground worker slots; 0: the configured default
};

class Process final {
 public:
  Process(queue::Processor& processor, catalog::Catalog& catalog, const stages::Registry& registry,
          int max_attempts)
      : processor_(processor),
        catalog_(catalog),
        registry_(registry),
        max_attempts_(max_attempts) {}

  // A foreground run with its pool started and the caller's due work added; the caller
  // waits on it. `interrupted` as queue::ProcessOptions::interrupted.
  [[nodiscard]] Result<std::unique_ptr<queue::ProcessSession>> Begin(
      const Caller& caller, const ProcessSpec& spec, std::function<bool()> interrupted);
  // Enqueues what is due on the caller's assets (live priority) and returns at once.
  [[nodiscard]] Result<queue::EnqueueDueCounts> Enqueue(const Caller& caller,
                                                        const ProcessSpec& spec);

 private:
  queue::Processor& processor_;
  catalog::Catalog& catalog_;
  const stages::Registry& registry_;
  int max_attempts_;
};

// {"assets_seen", "assets_due", "jobs_created", "jobs_merged", "stages_enqueued",
//  "stages_already_active", "quarantined": {stage: n}}
nlohmann::json EnqueueCountsJson(const queue::EnqueueDueCounts& counts);

}  // namespace reprise::services
