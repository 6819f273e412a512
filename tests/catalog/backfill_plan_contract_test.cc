// The compact frozen plan's promises that the older suites do not reach (catalog.h,
// "Backfills"; catalog/backfill_plan.h): counts kept in step when an asset of a running
// backfill is deleted, whatever its items' outcomes. Runs against every backend.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/catalog/catalog_contract.h"

namespace reprise::catalog {
namespace {

TEST_P(CatalogContractTest, DeletingAnAssetMidBackfillTakesItsItemsOutOfTheCounts) {
  for (const auto& id : {"a1", "a2", "a3", "a4"}) {
    Ok(catalog_->InsertAsset(MakeAsset(id)));
    clock_.Advance(1000);
  }
  NewBackfill request;
  request.stages = {{"probe", "r1"}, {"thumbnail", "r1"}};
  request.state = BackfillState::kRunning;
  Backfill backfill = Ok(catalog_->CreateBackfill(request, {}, [](const StagePair&) {
    return PairDecision{PairDecision::kSelect, "missing"};
  }));
  DispatchRequest two;
  two.max_assets = 2;
  Ok(catalog_->DispatchBackfill(backfill.id, two));  // a1 and a2 queued
  ClaimRequest claim;
  claim.worker_id = "w";
  claim.max_jobs = 1;
  std::vector<Job> jobs = Ok(catalog_->ClaimJobs(claim));
  ASSERT_EQ(jobs.size(), 1u);
  ASSERT_EQ(jobs[0].asset_id, "a1");
  JobOutcome failed;
  failed.state = JobState::kFailed;
  failed.error = Error{ErrorCode::kUnsupportedMedia, "no decoder", ""};
  Ok(catalog_->FinishJob(jobs[0].id, "w", failed));

  BackfillCounts counts = Ok(catalog_->CountBackfillItems(backfill.id));
  EXPECT_EQ(counts.total, 8);
  EXPECT_EQ(counts.Count(ItemOutcome::kFailed), 2);
  EXPECT_EQ(counts.Count(ItemOutcome::kQueued), 2);
  EXPECT_EQ(counts.Count(ItemOutcome::kPending), 4);
  EXPECT_EQ(counts.active_jobs, 1);

  // a1 with failed items, a2 with queued ones (its job goes too), a3 still pending.
  for (const auto& id : {"a1", "a2", "a3"}) Ok(catalog_->DeleteAsset(id, {}));
  counts = Ok(catalog_->CountBackfillItems(backfill.id));
  EXPECT_EQ(counts.total, 2);
  EXPECT_EQ(counts.by_outcome, (std::map<ItemOutcome, int64_t>{{ItemOutcome::kPending, 2}}));
  EXPECT_TRUE(counts.failed_by_code.empty());
  EXPECT_TRUE(counts.failed_examples.empty());
  EXPECT_EQ(counts.active_jobs, 0);
  std::vector<BackfillItem> items =
      Ok(catalog_->ListBackfillItems(backfill.id, std::nullopt, 0, 100));
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].asset_id, "a4");
  auto backlog = Ok(catalog_->CountUndispatchedBackfillItems({BackfillState::kRunning}, {}));
  ASSERT_EQ(backlog.size(), 1u);
  EXPECT_EQ(backlog[0].items, 2);
  EXPECT_EQ(backlog[0].assets, 1);
  BackfillPage page = Ok(catalog_->ListBackfillsWithCounts({}, PageRequest{}));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].counts.total, 2);

  // The rest runs to the end with the counts following.
  DispatchRequest all;
  all.max_assets = 10;
  Ok(catalog_->DispatchBackfill(backfill.id, all));
  jobs = Ok(catalog_->ClaimJobs(claim));
  ASSERT_EQ(jobs.size(), 1u);
  JobOutcome done;
  done.state = JobState::kSucceeded;
  Ok(catalog_->FinishJob(jobs[0].id, "w", done));
  counts = Ok(catalog_->CountBackfillItems(backfill.id));
  EXPECT_EQ(counts.total, 2);
  EXPECT_EQ(counts.Ended(), 2);
  EXPECT_EQ(counts.active_jobs, 0);
}

}  // namespace
}  // namespace reprise::catalog
