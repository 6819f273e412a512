// StagesService: each registered stage with its version, params, recipe and how the
// caller's assets stand against it (current, outdated, missing, failed, skipped,
// quarantined) and the global limits in force on it, behind `reprise stages` and `GET
// /api/v1/stages`.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "services/caller.h"
#include "stages/registry.h"

namespace reprise::services {

class StagesService final {
 public:
  // `limits`: the global limits in force ([stages.NAME] max_running / rate).
  StagesService(catalog::Catalog& catalog, const stages::Registry& registry,
                std::vector<catalog::StageLimit> limits = {})
      : catalog_(catalog), registry_(registry), limits_(std::move(limits)) {}

  // StagesJson over the assets the caller sees (narrowed to `only_owner`), each stage
  // with "limits": {"max_running": N or null, "rate": "60/min" or null}.
  [[nodiscard]] Result<nlohmann::json> List(const Caller& caller,
                                            const std::optional<std::string>& only_owner = {});

 private:
  catalog::Catalog& catalog_;
  const stages::Registry& registry_;
  std::vector<catalog::StageLimit> limits_;
};

}  // namespace reprise::services
