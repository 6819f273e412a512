// StagesService: each registered stage with its version, params, recipe and how the
// caller's assets stand against it (current, outdated, missing, failed, skipped,
// quarantined), behind `reprise stages` and `GET /api/v1/stages`.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "services/caller.h"
#include "stages/registry.h"

namespace reprise::services {

class StagesService final {
 public:
  StagesService(catalog::Catalog& catalog, const stages::Registry& registry)
      : catalog_(catalog), registry_(registry) {}

  // StagesJson over the assets the caller sees (narrowed to `only_owner`).
  [[nodiscard]] Result<nlohmann::json> List(const Caller& caller,
                                            const std::optional<std::string>& only_owner = {});

 private:
  catalog::Catalog& catalog_;
  const stages::Registry& registry_;
};

}  // namespace reprise::services
