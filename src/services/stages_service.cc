#include "services/stages_service.h"

#include "services/views.h"

namespace reprise::services {

Result<nlohmann::json> StagesService::List(const Caller& caller,
                                           const std::optional<std::string>& only_owner) {
  auto scope = caller.Scope(only_owner);
  if (!scope) return Fail(scope.error());
  auto doc = StagesJson(catalog_, registry_, *scope);
  if (!doc) return doc;
  for (auto& stage : *doc) {
    nlohmann::json limits = {{"max_running", nullptr}, {"rate", nullptr}};
    for (const auto& limit : limits_) {
      if (limit.stage != stage["name"].get<std::string>()) continue;
      if (limit.max_running > 0) limits["max_running"] = limit.max_running;
      if (limit.rate.limited()) limits["rate"] = FormatStartRate(limit.rate);
    }
    stage["limits"] = std::move(limits);
  }
  return doc;
}

}  // namespace reprise::services
