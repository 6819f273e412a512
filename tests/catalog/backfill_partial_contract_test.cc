// The backfill part of the Catalog contract (catalog.h, "Backfills") where one asset's
// items of a plan stand apart: some stages ended while others still wait, a pause or a
// cancel of an asset dispatched in part, and an asset deleted out of a plan. A plan that
// stores an asset's stages together must still count, list and end each item on its
// own. Runs against every backend of CatalogBackends(); nothing here names a database.

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/catalog/catalog_contract.h"

namespace reprise::catalog {
namespace {

class BackfillPartialContract : public CatalogContractTest {
 protected:
  // Assets one clock tick apart, so plan order is the order given.
  void AddAssets(const std::vector<std::string>& ids) {
    for (const auto& id : ids) {
      Ok(catalog_->InsertAsset(MakeAsset(id, "alice")));
      clock_.Advance(1000);
    }
  }

  // A running backfill of `stages` (recipe r1) selecting every pair as missing.
  Backfill Plan(const std::vector<std::string>& stages) {
    NewBackfill backfill;
    for (const auto& stage : stages) backfill.stages.push_back({stage, "r1"});
    backfill.state = BackfillState::kRunning;
    return Ok(catalog_->CreateBackfill(backfill, {}, [](const StagePair&) {
      return PairDecision{PairDecision::kSelect, "missing"};
    }));
  }

  std::vector<BackfillItem> Items(int64_t id, std::optional<ItemOutcome> outcome = std::nullopt,
                                  int64_t offset = 0) {
    return Ok(catalog_->ListBackfillItems(id, outcome, offset, 1000));
  }

  // "asset/stage=outcome" of every item in plan order.
  std::vector<std::string> Outcomes(int64_t id) {
    std::vector<std::string> out;
    for (const auto& item : Items(id)) {
      out.push_back(item.asset_id + "/" + item.stage + "=" + std::string(Name(item.outcome)));
    }
    return out;
  }

  static std::vector<std::string> Pairs(const std::vector<BackfillItem>& items) {
    std::vector<std::string> pairs;
    for (const auto& item : items) pairs.push_back(item.asset_id + "/" + item.stage);
    return pairs;
  }

  static DispatchRequest Dispatch(int max_assets) {
    DispatchRequest request;
    request.max_assets = max_assets;
    return request;
  }

  std::vector<Job> Claim(const std::string& worker, int max_jobs = 1000) {
    ClaimRequest claim;
    claim.worker_id = worker;
    claim.max_jobs = max_jobs;
    return Ok(catalog_->ClaimJobs(claim));
  }

  // A finished attempt of (asset, stage) with recipe r1.
  void Record(const std::string& asset, const std::string& stage,
              const DerivativeOutcome& outcome) {
    int64_t id = Ok(catalog_->StartDerivative(asset, stage, 1, "r1", {}));
    Ok(catalog_->CompleteDerivative(id, outcome));
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, BackfillPartialContract, ::testing::ValuesIn(CatalogBackends()),
                         BackendName);

TEST_P(BackfillPartialContract, StagesOfOneAssetEndOneByOneAndAreCountedApart) {
  AddAssets({"a1", "a2"});
  Backfill backfill = Plan({"thumbnail", "probe", "waveform"});
  ASSERT_EQ(Ok(catalog_->DispatchBackfill(backfill.id, Dispatch(1))).items_queued, 3);
  std::vector<Job> jobs = Claim("w");
  ASSERT_EQ(jobs.size(), 1u);
  const int64_t job_id = jobs[0].id;

  // The pass builds the thumbnail, skips the waveform and keeps probe for a retry: two
  // items end, the third stays queued with the same job.
  Record("a1", "thumbnail", Done());
  Record("a1", "waveform", Skipped("no_audio"));
  JobOutcome retry;
  retry.state = JobState::kQueued;
  retry.retry_stages = {"probe"};
  retry.error = Error{ErrorCode::kIo, "disk hiccup", ""};
  Ok(catalog_->FinishJob(job_id, "w", retry));

  EXPECT_EQ(Outcomes(backfill.id),
            (std::vector<std::string>{"a1/thumbnail=processed", "a1/probe=queued",
                                      "a1/waveform=skipped", "a2/thumbnail=pending",
                                      "a2/probe=pending", "a2/waveform=pending"}));
  BackfillCounts counts = Ok(catalog_->CountBackfillItems(backfill.id));
  EXPECT_EQ(counts.total, 6);
  EXPECT_EQ(counts.Count(ItemOutcome::kProcessed), 1);
  EXPECT_EQ(counts.Count(ItemOutcome::kSkipped), 1);
  EXPECT_EQ(counts.Count(ItemOutcome::kQueued), 1);
  EXPECT_EQ(counts.Count(ItemOutcome::kPending), 3);
  EXPECT_EQ(counts.skipped_by_reason, (std::map<std::string, int64_t>{{"no_audio", 1}}));
  EXPECT_EQ(counts.active_jobs, 1) << "the job still holds a1's probe";
  std::vector<BackfillItem> queued = Items(backfill.id, ItemOutcome::kQueued);
  ASSERT_EQ(queued.size(), 1u);
  EXPECT_EQ(queued[0].stage, "probe");
  EXPECT_EQ(queued[0].job_id, job_id);
  std::vector<BackfillItem> skipped = Items(backfill.id, ItemOutcome::kSkipped);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].skip_reason, "no_audio");
  EXPECT_EQ(skipped[0].job_id, job_id) << "an ended item keeps the job that ended it";
  EXPECT_EQ(Pairs(Items(backfill.id, ItemOutcome::kPending, 2)),
            (std::vector<std::string>{"a2/waveform"}));
  std::vector<BackfillBacklog> backlog =
      Ok(catalog_->CountUndispatchedBackfillItems({BackfillState::kRunning}, {}));
  ASSERT_EQ(backlog.size(), 1u);
  EXPECT_EQ(backlog[0].items, 3);
  EXPECT_EQ(backlog[0].assets, 1) << "a1 has nothing left to dispatch";

  // The next dispatch takes a2 only: a1's probe is not pending.
  DispatchResult next = Ok(catalog_->DispatchBackfill(backfill.id, Dispatch(5)));
  EXPECT_EQ(next.jobs, 1);
  EXPECT_EQ(next.items_queued, 3);
  EXPECT_FALSE(next.more_pending);

  // The retry fails: only the probe item ends failed; the others keep their outcomes.
  clock_.Advance(kSecond);
  std::vector<Job> again = Claim("w");
  auto retried =
      std::find_if(again.begin(), again.end(), [&](const Job& job) { return job.id == job_id; });
  ASSERT_NE(retried, again.end());
  JobOutcome failed;
  failed.state = JobState::kFailed;
  failed.error = Error{ErrorCode::kUnsupportedMedia, "no decoder", ""};
  Ok(catalog_->FinishJob(job_id, "w", failed));
  EXPECT_EQ(
      Outcomes(backfill.id),
      (std::vector<std::string>{"a1/thumbnail=processed", "a1/probe=failed", "a1/waveform=skipped",
                                "a2/thumbnail=queued", "a2/probe=queued", "a2/waveform=queued"}));
  counts = Ok(catalog_->CountBackfillItems(backfill.id));
  EXPECT_EQ(counts.failed_by_code, (std::map<std::string, int64_t>{{"unsupported_media", 1}}));
  EXPECT_EQ(counts.failed_examples.at("unsupported_media"), (std::vector<std::string>{"a1"}));
  EXPECT_EQ(counts.Ended(), 3);
}

TEST_P(BackfillPartialContract, PauseAndCancelOfAnAssetDispatchedInPartTouchOnlyItsWaitingItems) {
  AddAssets({"a1", "a2"});
  // a1's thumbnail runs elsewhere, so the dispatch skips it and queues a1's probe alone.
  NewJob live;
  live.asset_id = "a1";
  live.stages = {"thumbnail"};
  Ok(catalog_->Enqueue(live));
  ASSERT_EQ(Claim("live").size(), 1u);
  Backfill backfill = Plan({"thumbnail", "probe"});
  DispatchResult first = Ok(catalog_->DispatchBackfill(backfill.id, Dispatch(1)));
  EXPECT_EQ(first.items_queued, 1);
  EXPECT_EQ(first.items_skipped, 1);
  EXPECT_EQ(Outcomes(backfill.id),
            (std::vector<std::string>{"a1/thumbnail=skipped", "a1/probe=queued",
                                      "a2/thumbnail=pending", "a2/probe=pending"}));

  // Pause: a1's probe is pending again; its skipped thumbnail stays skipped.
  EXPECT_EQ(Ok(catalog_->WithdrawBackfillJobs(backfill.id, /*cancel=*/false)), 1);
  EXPECT_EQ(Outcomes(backfill.id),
            (std::vector<std::string>{"a1/thumbnail=skipped", "a1/probe=pending",
                                      "a2/thumbnail=pending", "a2/probe=pending"}));
  EXPECT_EQ(Items(backfill.id, ItemOutcome::kPending)[0].job_id, 0);
  BackfillCounts counts = Ok(catalog_->CountBackfillItems(backfill.id));
  EXPECT_EQ(counts.Count(ItemOutcome::kPending), 3);
  EXPECT_EQ(counts.active_jobs, 0);

  // Dispatched again, a1's job holds its probe only.
  ASSERT_EQ(Ok(catalog_->DispatchBackfill(backfill.id, Dispatch(1))).items_queued, 1);
  JobFilter of_backfill;
  of_backfill.backfill_id = backfill.id;
  std::vector<Job> jobs = Ok(catalog_->ListJobs(of_backfill, {})).items;
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].stages, (std::vector<std::string>{"probe"}));

  // Cancel: a1's probe and a2's items are cancelled; the skipped item keeps its reason.
  EXPECT_EQ(Ok(catalog_->WithdrawBackfillJobs(backfill.id, /*cancel=*/true)), 1);
  EXPECT_EQ(Outcomes(backfill.id),
            (std::vector<std::string>{"a1/thumbnail=skipped", "a1/probe=cancelled",
                                      "a2/thumbnail=cancelled", "a2/probe=cancelled"}));
  counts = Ok(catalog_->CountBackfillItems(backfill.id));
  EXPECT_EQ(counts.Count(ItemOutcome::kCancelled), 3);
  EXPECT_EQ(counts.skipped_by_reason, (std::map<std::string, int64_t>{{"already_active", 1}}));
  EXPECT_EQ(counts.Ended(), 4);
  EXPECT_EQ(counts.active_jobs, 0);
  EXPECT_TRUE(Ok(catalog_->ListJobs(of_backfill, {})).items.empty());
}

TEST_P(BackfillPartialContract, DeletingAnAssetTakesItsItemsOutOfThePlanAndItsCounters) {
  AddAssets({"a1", "a2", "a3"});
  Backfill backfill = Plan({"thumbnail", "probe"});
  ASSERT_EQ(Ok(catalog_->DispatchBackfill(backfill.id, Dispatch(1))).jobs, 1);  // a1 queued

  Ok(catalog_->DeleteAsset("a2", {}));  // pending items
  EXPECT_EQ(Outcomes(backfill.id),
            (std::vector<std::string>{"a1/thumbnail=queued", "a1/probe=queued",
                                      "a3/thumbnail=pending", "a3/probe=pending"}));
  BackfillCounts counts = Ok(catalog_->CountBackfillItems(backfill.id));
  EXPECT_EQ(counts.total, 4);
  EXPECT_EQ(counts.Count(ItemOutcome::kPending), 2);
  EXPECT_EQ(counts.active_jobs, 1);
  std::vector<BackfillBacklog> backlog =
      Ok(catalog_->CountUndispatchedBackfillItems({BackfillState::kRunning}, {}));
  ASSERT_EQ(backlog.size(), 1u);
  EXPECT_EQ(backlog[0].items, 2);
  EXPECT_EQ(backlog[0].assets, 1);

  Ok(catalog_->DeleteAsset("a1", {}));  // its queued job goes with it
  counts = Ok(catalog_->CountBackfillItems(backfill.id));
  EXPECT_EQ(counts.total, 2);
  EXPECT_EQ(counts.Count(ItemOutcome::kQueued), 0);
  EXPECT_EQ(counts.active_jobs, 0);
  EXPECT_EQ(Pairs(Items(backfill.id)), (std::vector<std::string>{"a3/thumbnail", "a3/probe"}));
  BackfillPage page = Ok(catalog_->ListBackfillsWithCounts({}, PageRequest{"", 10}));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].counts.total, 2);

  DispatchResult last = Ok(catalog_->DispatchBackfill(backfill.id, Dispatch(5)));
  EXPECT_EQ(last.jobs, 1);
  EXPECT_FALSE(last.more_pending);
}

}  // namespace
}  // namespace reprise::catalog
