// The backfill part of the Catalog contract (catalog.h, "Backfills") that reports on
// items: counters, failure examples and the items still waiting for dispatch. Runs
// against every backend like catalog_contract_test.cc; nothing here names a database.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/catalog/catalog_contract.h"

namespace reprise::catalog {
namespace {

// Assets one clock tick apart, so plan order is the order given.
void InsertAssets(Catalog& catalog, FakeClock& clock, const std::vector<std::string>& ids,
                  const std::string& owner = "alice") {
  for (const auto& id : ids) {
    Ok(catalog.InsertAsset(MakeAsset(id, owner)));
    clock.Advance(1000);
  }
}

// A backfill selecting every (asset, stage) pair of the library.
Backfill CreateSelectingEverything(Catalog& catalog, const std::vector<std::string>& stages,
                                   BackfillState state = BackfillState::kRunning) {
  NewBackfill backfill;
  for (const auto& stage : stages) backfill.stages.push_back({stage, "r1"});
  backfill.state = state;
  return Ok(catalog.CreateBackfill(backfill, {}, [](const StagePair&) {
    return PairDecision{PairDecision::kSelect, "missing"};
  }));
}

DispatchRequest Dispatch(int max_assets) {
  DispatchRequest request;
  request.max_assets = max_assets;
  return request;
}

TEST_P(CatalogContractTest, BackfillFailureExamplesAreDistinctAssetsInPlanOrder) {
  InsertAssets(*catalog_, clock_, {"a1", "a2", "a3", "a4"});
  Backfill backfill = CreateSelectingEverything(*catalog_, {"probe", "thumbnail", "waveform"});
  Ok(catalog_->DispatchBackfill(backfill.id, Dispatch(100)));
  ClaimRequest claim;
  claim.worker_id = "w";
  claim.max_jobs = 100;
  std::vector<Job> jobs = Ok(catalog_->ClaimJobs(claim));
  ASSERT_EQ(jobs.size(), 4u);
  // Every stage of every asset fails: each asset has three failed items.
  JobOutcome failed;
  failed.state = JobState::kFailed;
  failed.error = Error{ErrorCode::kUnsupportedMedia, "no decoder", ""};
  for (const auto& job : jobs) Ok(catalog_->FinishJob(job.id, "w", failed));

  BackfillCounts counts = Ok(catalog_->CountBackfillItems(backfill.id));
  EXPECT_EQ(counts.failed_by_code, (std::map<std::string, int64_t>{{"unsupported_media", 12}}));
  EXPECT_EQ(counts.failed_examples.at("unsupported_media"),
            (std::vector<std::string>{"a1", "a2", "a3"}))
      << "one example per asset, not one per failed stage";
}

TEST_P(CatalogContractTest, UndispatchedItemsAreCountedPerBackfillInTheAskedStates) {
  InsertAssets(*catalog_, clock_, {"a1", "a2", "a3"});
  InsertAssets(*catalog_, clock_, {"b1"}, "bob");
  // Running, one asset dispatched: 6 items of 3 assets still wait.
  Backfill running = CreateSelectingEverything(*catalog_, {"probe", "thumbnail"});
  Ok(catalog_->DispatchBackfill(running.id, Dispatch(1)));
  // Paused before anything was dispatched: all 8 wait.
  Backfill paused = CreateSelectingEverything(*catalog_, {"probe", "thumbnail"});
  Ok(catalog_->SetBackfillState(paused.id, {BackfillState::kRunning}, BackfillState::kPaused, ""));
  // Planned, never started: not in the states asked for.
  CreateSelectingEverything(*catalog_, {"probe"}, BackfillState::kPlanned);
  // Cancelled: its pending items were cancelled.
  Backfill cancelled = CreateSelectingEverything(*catalog_, {"probe"});
  Ok(catalog_->SetBackfillState(cancelled.id, {BackfillState::kRunning}, BackfillState::kCancelling,
                                ""));
  Ok(catalog_->WithdrawBackfillJobs(cancelled.id, /*cancel=*/true));

  const std::vector<BackfillState> states = {BackfillState::kRunning, BackfillState::kPaused,
                                             BackfillState::kCancelling};
  std::vector<BackfillBacklog> all = Ok(catalog_->CountUndispatchedBackfillItems(states, {}));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].backfill_id, running.id);
  EXPECT_EQ(all[0].state, BackfillState::kRunning);
  EXPECT_EQ(all[0].items, 6);
  EXPECT_EQ(all[0].assets, 3);
  EXPECT_EQ(all[1].backfill_id, paused.id);
  EXPECT_EQ(all[1].state, BackfillState::kPaused);
  EXPECT_EQ(all[1].items, 8);
  EXPECT_EQ(all[1].assets, 4);

  // An owner sees only the items of their assets.
  AssetFilter bob;
  bob.owner = "bob";
  std::vector<BackfillBacklog> bobs = Ok(catalog_->CountUndispatchedBackfillItems(states, bob));
  ASSERT_EQ(bobs.size(), 2u);
  EXPECT_EQ(bobs[0].items, 2);
  EXPECT_EQ(bobs[0].assets, 1);
  EXPECT_EQ(bobs[1].items, 2);
  AssetFilter carol;
  carol.owner = "carol";
  EXPECT_TRUE(Ok(catalog_->CountUndispatchedBackfillItems(states, carol)).empty());
  EXPECT_TRUE(
      Ok(catalog_->CountUndispatchedBackfillItems({BackfillState::kSucceeded}, {})).empty());
}

TEST_P(CatalogContractTest, RollbackCountsTheResultsGoneBackToByRecipe) {
  InsertAssets(*catalog_, clock_, {"a1", "a2", "a3"});
  auto build = [&](const std::string& asset, const std::string& recipe) {
    int64_t id = Ok(catalog_->StartDerivative(asset, "thumbnail", 1, recipe, {}));
    Ok(catalog_->CompleteDerivative(id, Done()));
  };
  build("a1", "r1");
  build("a1", "r2");
  build("a2", "r0");
  build("a2", "r2");
  build("a3", "r2");  // nothing earlier
  RollbackRequest request;
  request.stage = "thumbnail";
  request.dry_run = true;
  RollbackResult result = Ok(catalog_->RollbackDerivatives(request, {}));
  EXPECT_EQ(result.rolled_back, 2);
  EXPECT_EQ(result.to_recipes, (std::map<std::string, int64_t>{{"r0", 1}, {"r1", 1}}));
}

}  // namespace
}  // namespace reprise::catalog
