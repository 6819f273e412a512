// Caller: who is asking a service to do something, passed explicitly to every service
// function so that the command line and the HTTP API apply one scoping rule.
//
// An owner's caller (an owner's API token) sees and changes only that owner's assets,
// jobs, backfills and events: another owner's record answers kNotFound, never
// "forbidden", so ids do not leak. An admin caller (an admin token, the local command
// line, a server with no tokens configured on loopback) sees every owner; it may still
// narrow itself to one owner (`--owner`, `?owner=`), which a non-admin cannot widen.
#pragma once

#include <optional>
#include <string>

#include "catalog/types.h"
#include "core/error.h"

namespace reprise::services {

struct Caller {
  std::string owner;       // the owner a non-admin acts for; empty for an admin
  bool admin = false;      // sees every owner
  std::string token_name;  // for logs and audit ("cli" for the command line)

  static Caller Admin(std::string name = "cli");
  static Caller Owner(std::string owner, std::string name = {});

  // The catalog scope of this caller: `owner` set unless admin. An admin may narrow to
  // `only_owner`; a non-admin naming an owner other than its own is kPermissionDenied.
  [[nodiscard]] Result<catalog::AssetFilter> Scope(
      const std::optional<std::string>& only_owner = std::nullopt) const;
  // The owner of assets this caller creates: its own; an admin's `requested` or, when
  // none is given, `fallback` (the config's default owner).
  [[nodiscard]] Result<std::string> OwnerForNew(const std::optional<std::string>& requested,
                                                const std::string& fallback) const;
  // True when this caller may see a record of `record_owner`.
  [[nodiscard]] bool Sees(const std::string& record_owner) const {
    return admin || record_owner == owner;
  }
};

}  // namespace reprise::services
