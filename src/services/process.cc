#include "services/process.h"

#include <utility>

namespace reprise::services {

Result<std::unique_ptr<queue::ProcessSession>> Process::Begin(const Caller& caller,
                                                              const ProcessSpec& spec,
                                                              std::function<bool()> interrupted) {
  auto scope = caller.Scope(spec.owner);
  if (!scope) return Fail(std::move(scope.error()));
  queue::ProcessOptions options;
  options.stages = spec.stages;
  options.filter = *scope;
  options.retry_failed = spec.retry_failed;
  options.concurrency = spec.concurrency;
  options.max_attempts = max_attempts_;
  options.interrupted = std::move(interrupted);
  auto session = processor_.Begin(options);
  if (!session) return Fail(std::move(session.error()));
  REPRISE_TRY((*session)->Add(options.filter));
  return session;
}

Result<queue::EnqueueDueCounts> Process::Enqueue(const Caller& caller, const ProcessSpec& spec) {
  auto scope = caller.Scope(spec.owner);
  if (!scope) return Fail(std::move(scope.error()));
  queue::EnqueueDueOptions options;
  options.filter = *scope;
  options.stages = spec.stages;
  options.include_failed = spec.retry_failed;
  options.priority = catalog::kLivePriority;
  options.max_attempts = max_attempts_;
  return queue::EnqueueDue(catalog_, registry_, options);
}

nlohmann::json EnqueueCountsJson(const queue::EnqueueDueCounts& counts) {
  return {{"assets_seen", counts.assets_seen},
          {"assets_due", counts.assets_due},
          {"jobs_created", counts.jobs_created},
          {"jobs_merged", counts.jobs_merged},
          {"stages_enqueued", counts.stages_enqueued},
          {"stages_already_active", counts.stages_already_active},
          {"quarantined", counts.quarantined}};
}

}  // namespace reprise::services
