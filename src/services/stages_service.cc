#include "services/stages_service.h"

#include "services/views.h"

namespace reprise::services {

Result<nlohmann::json> StagesService::List(const Caller& caller,
                                           const std::optional<std::string>& only_owner) {
  auto scope = caller.Scope(only_owner);
  if (!scope) return Fail(scope.error());
  return StagesJson(catalog_, registry_, *scope);
}

}  // namespace reprise::services
