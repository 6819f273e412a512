#include "services/caller.h"

namespace reprise::services {

Caller Caller::Admin(std::string name) {
  Caller caller;
  caller.admin = true;
  caller.token_name = std::move(name);
  return caller;
}

Caller Caller::Owner(std::string owner, std::string name) {
  Caller caller;
  caller.owner = std::move(owner);
  caller.token_name = std::move(name);
  return caller;
}

Result<catalog::AssetFilter> Caller::Scope(const std::optional<std::string>& only_owner) const {
  catalog::AssetFilter scope;
  if (admin) {
    if (only_owner && !only_owner->empty()) scope.owner = *only_owner;
    return scope;
  }
  if (only_owner && !only_owner->empty() && *only_owner != owner) {
    return Fail(ErrorCode::kPermissionDenied,
                "a token of owner '" + owner + "' cannot read owner '" + *only_owner + "'");
  }
  scope.owner = owner;
  return scope;
}

Result<std::string> Caller::OwnerForNew(const std::optional<std::string>& requested,
                                        const std::string& fallback) const {
  if (!admin) {
    if (requested && !requested->empty() && *requested != owner) {
      return Fail(ErrorCode::kPermissionDenied,
                  "a token of owner '" + owner + "' cannot create assets for '" + *requested + "'");
    }
    return owner;
  }
  if (requested && !requested->empty()) return *requested;
  return fallback;
}

}  // namespace reprise::services
