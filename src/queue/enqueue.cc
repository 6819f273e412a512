#include "queue/enqueue.h"

#include <algorithm>

#include "queue/executor.h"

namespace reprise::queue {

Result<EnqueueDueCounts> EnqueueDue(catalog::Catalog& catalog, const stages::Registry& registry,
                                    const EnqueueDueOptions& options,
                                    const std::function<void(const DueAsset&)>& on_due) {
  auto chosen = registry.Select(options.stages);
  if (!chosen) return Fail(chosen.error());
  // The chosen stages and what they consume: an input joins a job when a consumer in it
  // is due and the input itself is missing or outdated (or failed, when failed stages are
  // included), so the consumer is built from today's input in the same job.
  const std::vector<const stages::Stage*> selected = registry.WithInputs(*chosen);
  std::vector<bool> was_chosen(selected.size(), false);
  std::vector<std::vector<size_t>> inputs_of(selected.size());
  for (size_t i = 0; i < selected.size(); ++i) {
    was_chosen[i] = std::find(chosen->begin(), chosen->end(), selected[i]) != chosen->end();
    for (const auto& input : selected[i]->Inputs()) {
      for (size_t j = 0; j < i; ++j) {
        if (selected[j]->Name() == input) inputs_of[i].push_back(j);
      }
    }
  }
  auto recipes = RecipesOf(registry, selected);

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
      auto is_due = [&](size_t i) {
        auto status = (*statuses)[i];
        return status == catalog::StageStatus::kMissing ||
               status == catalog::StageStatus::kOutdated ||
               (options.include_failed && status == catalog::StageStatus::kFailed);
      };
      std::vector<bool> due(selected.size(), false);
      for (size_t i = selected.size(); i-- > 0;) {  // consumers before their inputs
        if (was_chosen[i]) {
          if ((*statuses)[i] == catalog::StageStatus::kQuarantined) {
            ++counts.quarantined[std::string(selected[i]->Name())];
          }
          due[i] = due[i] || is_due(i);
        }
        if (!due[i]) continue;
        for (size_t j : inputs_of[i]) due[j] = due[j] || is_due(j);
      }
      for (size_t i = 0; i < selected.size(); ++i) {
        if (due[i]) job.stages.emplace_back(selected[i]->Name());
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
