#include "app/app_metrics.h"

namespace reprise::app {
namespace {

// Backfills shown at most: the newest ones that have not ended.
constexpr int kBackfillsShown = 100;

}  // namespace

Result<metrics::Snapshot> CollectSnapshot(catalog::Catalog& catalog, const Clock& clock) {
  metrics::Snapshot snapshot;
  auto stats = catalog.GetQueueStats({});
  if (!stats) return Fail(stats.error());
  for (const auto& depth : stats->depth) {
    snapshot.queue.push_back({depth.stage, std::string(catalog::Name(depth.state)), depth.jobs});
  }
  if (stats->oldest_queued_at > 0) {
    snapshot.oldest_queued_seconds =
        static_cast<double>(std::max<int64_t>(clock.NowMicros() - stats->oldest_queued_at, 0)) /
        1e6;
  }
  auto backfills = catalog.ListBackfills({}, kBackfillsShown);
  if (!backfills) return Fail(backfills.error());
  for (const auto& backfill : *backfills) {
    if (catalog::IsFinal(backfill.state)) continue;
    auto counts = catalog.CountBackfillItems(backfill.id);
    if (!counts) return Fail(counts.error());
    metrics::Snapshot::Backfill shown{
        backfill.id, std::string(catalog::Name(backfill.state)), counts->total, {}};
    for (const auto& [outcome, count] : counts->by_outcome) {
      shown.outcomes[std::string(catalog::Name(outcome))] = count;
    }
    snapshot.backfills.push_back(std::move(shown));
  }
  return snapshot;
}

void ObserveWorker(metrics::Metrics& metrics, queue::Worker& worker) {
  worker.AddObserver([&metrics](const queue::JobReport& report) {
    metrics.ObserveJob(report.job.stages, queue::OutcomeName(report));
    if (!report.report) return;
    for (const auto& stage : report.report->stages) {
      metrics.ObserveStage(stage.stage, catalog::Name(stage.state), report.report->seconds);
    }
  });
}

}  // namespace reprise::app
