// Process: runs every due stage on every selected asset, synchronously, one asset at a
// time through the Executor. A stage is due on an asset when its status is missing or
// outdated (and failed, with retry_failed). The durable queue (next issue) replaces the
// loop; the per-asset work stays in Executor.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "queue/executor.h"

namespace reprise::queue {

struct ProcessOptions {
  catalog::AssetFilter filter;
  std::vector<std::string> stages;  // empty: every registered stage
  bool retry_failed = false;
};

struct StageTally {
  int64_t done = 0;
  int64_t failed = 0;
  std::map<std::string, int64_t> skipped;  // by reason
};

struct Failure {
  std::string asset_id;
  std::string stage;
  Error error;
};

struct ProcessSummary {
  int64_t assets_seen = 0;
  int64_t assets_run = 0;  // assets that had at least one due stage
  std::map<std::string, StageTally> stages;
  std::vector<Failure> failures;
  double elapsed_seconds = 0;
};

struct ProcessProgress {
  int64_t assets_done = 0;
  int64_t assets_total = 0;
  int64_t failures = 0;
};

class Processor {
 public:
  Processor(catalog::Catalog& catalog, Executor& executor, const stages::Registry& registry,
            const Clock& clock)
      : catalog_(catalog), executor_(executor), registry_(registry), clock_(clock) {}

  // kInvalidArgument for an unknown stage name; catalog errors abort the run.
  [[nodiscard]] Result<ProcessSummary> Run(
      const ProcessOptions& options,
      const std::function<void(const ProcessProgress&)>& progress = nullptr);

 private:
  catalog::Catalog& catalog_;
  Executor& executor_;
  const stages::Registry& registry_;
  const Clock& clock_;
};

}  // namespace reprise::queue
