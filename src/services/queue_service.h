// QueueService: how the queue stands for a caller, behind `reprise queue` and
// `GET /api/v1/queue`: depth per stage and state, the oldest waiting job, running jobs
// with their worker and lease, the quarantine count, and per backfill the items it has
// not put into the queue yet (`backfills_waiting`). Scoped by the caller; ages are
// measured against the instant the view was read, which it carries.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backfill/service.h"
#include "catalog/catalog.h"
#include "core/clock.h"
#include "services/caller.h"

namespace reprise::services {

struct QueueView {
  catalog::QueueStats stats;
  std::vector<catalog::BackfillBacklog> waiting;  // backfills with undispatched items
  int64_t now_micros = 0;                         // when it was read
};

// QueueStatsJson at view.now_micros plus "backfills_waiting".
nlohmann::json QueueJson(const QueueView& view);

class QueueService final {
 public:
  QueueService(catalog::Catalog& catalog, backfill::Service& backfills, const Clock& clock)
      : catalog_(catalog), backfills_(backfills), clock_(clock) {}

  [[nodiscard]] Result<QueueView> Get(const Caller& caller,
                                      const std::optional<std::string>& only_owner = {});

 private:
  catalog::Catalog& catalog_;
  backfill::Service& backfills_;
  const Clock& clock_;
};

}  // namespace reprise::services
