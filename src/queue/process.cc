#include "queue/process.h"

namespace reprise::queue {

Result<ProcessSummary> Processor::Run(const ProcessOptions& options,
                                      const std::function<void(const ProcessProgress&)>& progress) {
  int64_t started = clock_.MonotonicMicros();
  auto selected = registry_.Select(options.stages);
  if (!selected) return Fail(selected.error());
  auto recipes = RecipesOf(registry_, *selected);

  ProcessSummary summary;
  ProcessProgress state;
  auto total = catalog_.CountAssets(options.filter);
  if (!total) return Fail(total.error());
  state.assets_total = *total;
  if (progress) progress(state);

  catalog::PageRequest page;
  page.limit = 200;
  do {
    auto batch = catalog_.ListAssets(options.filter, page);
    if (!batch) return Fail(batch.error());
    for (const auto& asset : batch->items) {
      ++summary.assets_seen;
      auto statuses = catalog_.GetStageStatuses(asset.id, recipes);
      if (!statuses) return Fail(statuses.error());
      std::vector<const stages::Stage*> due;
      for (size_t i = 0; i < selected->size(); ++i) {
        auto status = (*statuses)[i];
        if (status == catalog::StageStatus::kMissing || status == catalog::StageStatus::kOutdated ||
            (options.retry_failed && status == catalog::StageStatus::kFailed)) {
          due.push_back((*selected)[i]);
        }
      }
      if (!due.empty()) {
        ++summary.assets_run;
        auto report = executor_.RunAsset(asset, due);
        if (!report) return Fail(report.error());
        for (const auto& stage : report->stages) {
          auto& tally = summary.stages[stage.stage];
          switch (stage.state) {
            case catalog::DerivativeState::kDone:
              ++tally.done;
              break;
            case catalog::DerivativeState::kSkipped:
              ++tally.skipped[stage.skip_reason];
              break;
            default:
              ++tally.failed;
              ++state.failures;
              summary.failures.push_back(
                  {asset.id, stage.stage,
                   stage.error.value_or(Error{ErrorCode::kInternal, "failed", ""})});
              break;
          }
        }
      }
      ++state.assets_done;
      if (progress) progress(state);
    }
    page.cursor = batch->next_cursor;
  } while (!page.cursor.empty());

  summary.elapsed_seconds = static_cast<double>(clock_.MonotonicMicros() - started) / 1e6;
  return summary;
}

}  // namespace reprise::queue
