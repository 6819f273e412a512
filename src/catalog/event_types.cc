#include "catalog/event_types.h"

#include "core/clock.h"
#include "core/json_text.h"

namespace reprise::catalog {

std::vector<std::string_view> EventTypes() {
  return {kEventAssetCreated, kEventAssetProcessing,  kEventAssetReady,      kEventAssetFailed,
          kEventJobFinished,  kEventBackfillProgress, kEventBackfillFinished};
}

std::vector<std::string_view> WebhookEventTypes() {
  return {kEventAssetReady, kEventAssetFailed, kEventBackfillFinished};
}

std::string_view Name(DeliveryState state) {
  switch (state) {
    case DeliveryState::kPending:
      return "pending";
    case DeliveryState::kSucceeded:
      return "succeeded";
    case DeliveryState::kFailed:
      return "failed";
  }
  return "pending";
}

nlohmann::json EventJson(const Event& event) {
  nlohmann::json view = {{"id", event.id}, {"type", event.type}, {"owner", event.owner}};
  if (event.asset_id) view["asset_id"] = *event.asset_id;
  if (event.job_id) view["job_id"] = *event.job_id;
  if (event.backfill_id) view["backfill_id"] = *event.backfill_id;
  view["data"] = event.data;
  view["created_at"] = FormatRfc3339(event.created_at);
  return view;
}

std::string WebhookPayload(const Event& event) {
  nlohmann::json body = {{"type", event.type},
                         {"timestamp", FormatRfc3339(event.created_at)},
                         {"data", EventJson(event)}};
  return JsonText(body);
}

}  // namespace reprise::catalog
