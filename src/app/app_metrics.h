// How the App feeds its Metrics: the scrape-time gauges read from the catalog, and the
// counters of a worker pool's finished jobs and stage runs.
#pragma once

#include "catalog/catalog.h"
#include "core/clock.h"
#include "metrics/metrics.h"
#include "queue/worker.h"

namespace reprise::app {

// Queue depth by stage and state, the oldest waiting job's age and the item counts of
// every backfill that has not ended (the 100 newest), read from `catalog` (all owners).
Result<metrics::Snapshot> CollectSnapshot(catalog::Catalog& catalog, const Clock& clock);

// Counts each job `worker` finishes, and its stage runs, in `metrics` (which must outlive
// the worker). Call before Start().
void ObserveWorker(metrics::Metrics& metrics, queue::Worker& worker);

}  // namespace reprise::app
