#include "queue/enqueue.h"

#include "queue/executor.h"

namespace reprise::queue {

Result<EnqueueDueCounts> EnqueueDue(catalog::Catalog& catalog, const stages::Registry& registry,
                                    const EnqueueDueOptions& options,
                                    const std::function<void(const DueAsset&)>& on_due) {
  auto selected = registry.Select(options.stages);
  if (!selected) return Fail(selected.error());
  auto recipes = RecipesOf(registry, *selected);

  EnqueueDueCounts counts;
  catalog::PageRequest page;
  page.limit = 500;
  do {
    auto batch = catalog.ListAssets(options.filter, page);
    if (!batch) return Fail(batch.error());
    for (const auto& asset : batch->items) {
      ++counts.assets_seen;
      auto statuses = catalog.GetStageStatuses(asset.id, recipes);
      if (!statuses) return Fail(statuses.error());
      catalog::NewJob job;
      job.asset_id = asset.id;
      job.priority = options.priority;
      job.max_attempts = options.max_attempts;
      job.backfill_id = options.backfill_id;
      job.separate = options.separate;
      for (size_t i = 0; i < selected->size(); ++i) {
        auto status = (*statuses)[i];
        std::string name((*selected)[i]->Name());
        if (status == catalog::StageStatus::kQuarantined) ++counts.quarantined[name];
        if (status == catalog::StageStatus::kMissing || status == catalog::StageStatus::kOutdated ||
            (options.include_failed && status == catalog::StageStatus::kFailed)) {
          job.stages.push_back(std::move(name));
        }
      }
      if (job.stages.empty()) continue;
      ++counts.assets_due;
      auto enqueued = catalog.Enqueue(job);
      if (!enqueued) return Fail(enqueued.error().Wrap("cannot enqueue asset " + asset.id));
      if (enqueued->created) {
        ++counts.jobs_created;
      } else if (!enqueued->enqueued.empty() || !enqueued->moved.empty()) {
        ++counts.jobs_merged;
      }
      counts.stages_enqueued +=
          static_cast<int64_t>(enqueued->enqueued.size() + enqueued->moved.size());
      counts.stages_already_active += static_cast<int64_t>(enqueued->already_active.size());
      if (on_due) on_due(DueAsset{asset, job.stages, *enqueued});
    }
    page.cursor = batch->next_cursor;
  } while (!page.cursor.empty());
  return counts;
}

}  // namespace reprise::queue
