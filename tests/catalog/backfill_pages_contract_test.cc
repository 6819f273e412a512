// The "Backfill pages" part of the Catalog contract: ListBackfillsWithCounts gives, page
// by page and owner by owner, the same backfills as GetBackfill and the same counters as
// CountBackfillItems. Runs against every backend like catalog_contract_test.cc.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/catalog/catalog_contract.h"

namespace reprise::catalog {
namespace {

// A running backfill of `owner` over every (asset, stage) pair of that owner's assets.
Backfill CreateFor(Catalog& catalog, const std::string& owner,
                   const std::vector<std::string>& stages) {
  NewBackfill backfill;
  backfill.owner = owner;
  for (const auto& stage : stages) backfill.stages.push_back({stage, "r1"});
  backfill.state = BackfillState::kRunning;
  AssetFilter filter;
  filter.owner = owner;
  return Ok(catalog.CreateBackfill(backfill, filter, [](const StagePair&) {
    return PairDecision{PairDecision::kSelect, "missing"};
  }));
}

void ExpectSameAsOneByOne(Catalog& catalog, const BackfillWithCounts& row) {
  Backfill alone = Ok(catalog.GetBackfill(row.backfill.id, {}));
  EXPECT_EQ(row.backfill.owner, alone.owner);
  EXPECT_EQ(row.backfill.state, alone.state);
  EXPECT_EQ(row.backfill.stages.size(), alone.stages.size());
  EXPECT_EQ(row.backfill.created_at, alone.created_at);
  BackfillCounts counts = Ok(catalog.CountBackfillItems(row.backfill.id));
  EXPECT_EQ(row.counts.total, counts.total);
  EXPECT_EQ(row.counts.by_outcome, counts.by_outcome);
  EXPECT_EQ(row.counts.skipped_by_reason, counts.skipped_by_reason);
  EXPECT_EQ(row.counts.failed_by_code, counts.failed_by_code);
  EXPECT_EQ(row.counts.failed_examples, counts.failed_examples);
  EXPECT_EQ(row.counts.active_jobs, counts.active_jobs);
}

std::vector<int64_t> Ids(const BackfillPage& page) {
  std::vector<int64_t> ids;
  for (const auto& row : page.items) ids.push_back(row.backfill.id);
  return ids;
}

TEST_P(CatalogContractTest, BackfillPagesHoldTheCountersOfEachBackfillNewestFirstPerOwner) {
  for (const char* id : {"a1", "a2", "a3", "a4"}) {
    Ok(catalog_->InsertAsset(MakeAsset(id, "alice")));
    clock_.Advance(1000);
  }
  Ok(catalog_->InsertAsset(MakeAsset("b1", "bob")));
  // Alice's first: two of four assets in jobs; one job fails, one stays queued.
  Backfill first = CreateFor(*catalog_, "alice", {"probe", "thumbnail"});
  DispatchRequest two;
  two.max_assets = 2;
  Ok(catalog_->DispatchBackfill(first.id, two));
  ClaimRequest claim;
  claim.worker_id = "w";
  claim.max_jobs = 1;
  std::vector<Job> jobs = Ok(catalog_->ClaimJobs(claim));
  ASSERT_EQ(jobs.size(), 1u);
  JobOutcome failed;
  failed.state = JobState::kFailed;
  failed.error = Error{ErrorCode::kUnsupportedMedia, "no decoder", ""};
  Ok(catalog_->FinishJob(jobs[0].id, "w", failed));
  Backfill bobs = CreateFor(*catalog_, "bob", {"probe"});
  Backfill paused = CreateFor(*catalog_, "alice", {"waveform"});
  Ok(catalog_->SetBackfillState(paused.id, {BackfillState::kRunning}, BackfillState::kPaused, ""));

  PageRequest page;
  page.limit = 2;
  BackfillPage one = Ok(catalog_->ListBackfillsWithCounts({}, page));
  EXPECT_EQ(Ids(one), (std::vector<int64_t>{paused.id, bobs.id}));
  ASSERT_FALSE(one.next_cursor.empty());
  page.cursor = one.next_cursor;
  BackfillPage two_page = Ok(catalog_->ListBackfillsWithCounts({}, page));
  EXPECT_EQ(Ids(two_page), (std::vector<int64_t>{first.id}));
  EXPECT_TRUE(two_page.next_cursor.empty());

  const BackfillWithCounts& row = two_page.items[0];
  EXPECT_EQ(row.counts.total, 8);
  EXPECT_EQ(row.counts.Count(ItemOutcome::kFailed), 2);
  EXPECT_EQ(row.counts.Count(ItemOutcome::kQueued), 2);
  EXPECT_EQ(row.counts.active_jobs, 1);
  EXPECT_EQ(row.counts.failed_examples.at("unsupported_media"), std::vector<std::string>{"a1"});
  for (const auto* listed : {&one, &two_page}) {
    for (const auto& item : listed->items) ExpectSameAsOneByOne(*catalog_, item);
  }

  AssetFilter alice;
  alice.owner = "alice";
  BackfillPage alices = Ok(catalog_->ListBackfillsWithCounts(alice, PageRequest{}));
  EXPECT_EQ(Ids(alices), (std::vector<int64_t>{paused.id, first.id}));
  AssetFilter nobody;
  nobody.owner = "carol";
  EXPECT_TRUE(Ok(catalog_->ListBackfillsWithCounts(nobody, PageRequest{})).items.empty());
}

TEST_P(CatalogContractTest, BackfillPagesRefuseACursorTheyDidNotGiveAndALimitBelowOne) {
  PageRequest page;
  page.cursor = "not-a-cursor";
  auto refused = catalog_->ListBackfillsWithCounts({}, page);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  page.cursor.clear();
  page.limit = 0;
  auto zero = catalog_->ListBackfillsWithCounts({}, page);
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().code, ErrorCode::kInvalidArgument);
  page.limit = 5;
  EXPECT_TRUE(Ok(catalog_->ListBackfillsWithCounts({}, page)).items.empty());
}

}  // namespace
}  // namespace reprise::catalog
