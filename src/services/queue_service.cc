#include "services/queue_service.h"

#include "services/views.h"

namespace reprise::services {

nlohmann::json QueueJson(const QueueView& view) {
  auto doc = QueueStatsJson(view.stats, view.now_micros);
  doc["backfills_waiting"] = BackfillBacklogJson(view.waiting);
  return doc;
}

Result<QueueView> QueueService::Get(const Caller& caller,
                                    const std::optional<std::string>& only_owner) {
  auto scope = caller.Scope(only_owner);
  if (!scope) return Fail(scope.error());
  QueueView view;
  auto stats = catalog_.GetQueueStats(*scope);
  if (!stats) return Fail(stats.error());
  view.stats = std::move(*stats);
  auto waiting = backfills_.Undispatched(*scope);
  if (!waiting) return Fail(waiting.error());
  view.waiting = std::move(*waiting);
  view.now_micros = clock_.NowMicros();
  return view;
}

}  // namespace reprise::services
