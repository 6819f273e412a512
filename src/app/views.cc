#include "app/views.h"

#include "core/error_json.h"

namespace reprise::app {

nlohmann::json ProcessSummaryJson(const queue::ProcessSummary& summary) {
  nlohmann::json stages = nlohmann::json::object();
  for (const auto& [name, tally] : summary.stages) {
    stages[name] = {{"done", tally.done}, {"failed", tally.failed}, {"skipped", tally.skipped}};
  }
  nlohmann::json failures = nlohmann::json::array();
  for (const auto& failure : summary.failures) {
    failures.push_back({{"asset_id", failure.asset_id},
                        {"stage", failure.stage},
                        {"error", ErrorJson(failure.error)}});
  }
  return {{"assets_seen", summary.assets_seen},
          {"assets_run", summary.assets_run},
          {"jobs",
           {{"total", summary.jobs}, {"failed", summary.jobs_failed}, {"left", summary.jobs_left}}},
          {"interrupted", summary.interrupted},
          {"stages", stages},
          {"quarantined", summary.quarantined},
          {"failures", failures},
          {"elapsed_seconds", summary.elapsed_seconds}};
}

}  // namespace reprise::app
