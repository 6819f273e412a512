// The backfill part of the Catalog contract (catalog.h, "Backfills") that plans and
// steers: the pair scan, frozen plans, dispatch, withdrawal, driver leases, listing,
// rollback, stage history and the scan of current results. Runs against every backend
// of CatalogBackends(); nothing here names a database.

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "catalog/pair_chunk.h"
#include "tests/catalog/catalog_contract.h"
#include "tests/catalog/wrapped_backend.h"

namespace reprise::catalog {
namespace {

class BackfillContract : public CatalogContractTest {
 protected:
  // Assets of `owner`, one clock tick apart, so plan order is the order given.
  void AddAssets(const std::vector<std::string>& ids, const std::string& owner = "alice",
                 std::optional<double> duration = std::nullopt) {
    for (const auto& id : ids) {
      NewAsset asset = MakeAsset(id, owner);
      asset.media.duration_seconds = duration;
      Ok(catalog_->InsertAsset(asset));
      clock_.Advance(1000);
    }
  }

  // A finished attempt of (asset, stage) built by `recipe`; returns its row id.
  int64_t Record(const std::string& asset, const std::string& stage, const std::string& recipe,
                 const DerivativeOutcome& outcome = Done()) {
    int64_t id = Ok(catalog_->StartDerivative(asset, stage, 1, recipe, {}));
    Ok(catalog_->CompleteDerivative(id, outcome));
    return id;
  }

  // A backfill of `stages` (recipe r1 each) selecting every pair for `reason`.
  Backfill Plan(const std::vector<std::string>& stages,
                BackfillState state = BackfillState::kRunning, const std::string& owner = "",
                const std::string& reason = "missing") {
    NewBackfill backfill;
    for (const auto& stage : stages) backfill.stages.push_back({stage, "r1"});
    backfill.state = state;
    backfill.owner = owner;
    AssetFilter filter;
    if (!owner.empty()) filter.owner = owner;
    return Ok(catalog_->CreateBackfill(backfill, filter, [&](const StagePair&) {
      return PairDecision{PairDecision::kSelect, reason};
    }));
  }

  std::vector<BackfillItem> Items(int64_t id, std::optional<ItemOutcome> outcome = std::nullopt) {
    return Ok(catalog_->ListBackfillItems(id, outcome, 0, 1000));
  }

  // "asset/stage" of each item, in the order given.
  static std::vector<std::string> Pairs(const std::vector<BackfillItem>& items) {
    std::vector<std::string> pairs;
    for (const auto& item : items) pairs.push_back(item.asset_id + "/" + item.stage);
    return pairs;
  }

  std::vector<Job> ClaimAll(const std::string& worker = "w", int max_jobs = 1000) {
    ClaimRequest claim;
    claim.worker_id = worker;
    claim.max_jobs = max_jobs;
    return Ok(catalog_->ClaimJobs(claim));
  }

  static DispatchRequest Dispatch(int max_assets, int max_active = 0) {
    DispatchRequest request;
    request.max_assets = max_assets;
    request.max_active = max_active;
    return request;
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, BackfillContract, ::testing::ValuesIn(CatalogBackends()),
                         BackendName);
INSTANTIATE_TEST_SUITE_P(Wrapper, BackfillContract,
                         ::testing::Values(Wrapped(CatalogBackends().front())), BackendName);

void ExpectCode(const Error& error, ErrorCode code) {
  EXPECT_EQ(error.code, code) << error.ToString();
}

// ---- ScanStagePairs ---------------------------------------------------------------------

TEST_P(BackfillContract, ScanStagePairsReportsWhatDecidesEachPairInPlanOrder) {
  AddAssets({"a1", "a2", "a3"}, "alice", 90.0);
  AddAssets({"b1"}, "bob");
  Record("a1", "thumbnail", "r0");                          // current, another recipe
  Record("a2", "thumbnail", "r1", Failed(ErrorCode::kIo));  // today's recipe failed
  Record("a3", "probe", "r1", Skipped("no_audio"));
  NewJob job;
  job.asset_id = "a3";
  job.stages = {"thumbnail"};
  Ok(catalog_->Enqueue(job));
  Record("a2", "probe", "r1", Failed());
  ASSERT_TRUE(Ok(catalog_->QuarantineIfRepeated("a2", "probe", "r1", 1)));

  AssetFilter alice;
  alice.owner = "alice";
  std::vector<StagePair> pairs;
  Ok(catalog_->ScanStagePairs({{"thumbnail", "r1"}, {"probe", "r1"}}, alice,
                              [&](const StagePair& pair) {
                                pairs.push_back(pair);
                                return true;
                              }));
  ASSERT_EQ(pairs.size(), 6u) << "three assets of alice times two stages";
  std::vector<std::string> order;
  for (const auto& pair : pairs)
    order.push_back(pair.asset_id + "/" + std::to_string(pair.stage_index));
  EXPECT_EQ(order, (std::vector<std::string>{"a1/0", "a1/1", "a2/0", "a2/1", "a3/0", "a3/1"}));
  EXPECT_LT(pairs[0].created_at, pairs[2].created_at);
  EXPECT_EQ(pairs[0].duration_seconds, 90.0);

  const StagePair& a1_thumb = pairs[0];
  EXPECT_EQ(a1_thumb.current_recipe, "r0");
  EXPECT_EQ(a1_thumb.result_recipe, "r0");
  EXPECT_FALSE(a1_thumb.latest) << "no finished attempt of today's recipe";
  EXPECT_EQ(a1_thumb.FromRecipe("r1"), "r0");
  EXPECT_EQ(StatusOf(a1_thumb, "r1"), StageStatus::kOutdated);

  const StagePair& a2_thumb = pairs[2];
  EXPECT_EQ(a2_thumb.current_recipe, "");
  EXPECT_EQ(a2_thumb.latest, DerivativeState::kFailed);
  EXPECT_EQ(a2_thumb.latest_error_code, "io");
  EXPECT_EQ(StatusOf(a2_thumb, "r1"), StageStatus::kFailed);
  EXPECT_TRUE(pairs[3].quarantined) << "a2's content is quarantined for probe r1";
  EXPECT_FALSE(a2_thumb.quarantined);

  EXPECT_TRUE(pairs[4].active) << "a3's thumbnail is queued";
  EXPECT_FALSE(pairs[5].active);
  EXPECT_EQ(pairs[5].latest, DerivativeState::kSkipped);
  EXPECT_EQ(pairs[5].latest_skip_reason, "no_audio");
  EXPECT_EQ(StatusOf(pairs[5], "r1"), StageStatus::kSkipped);
}

TEST_P(BackfillContract, ScanStagePairsStopsWhenTheVisitorSaysAndRefusesBadStages) {
  AddAssets({"a1", "a2", "a3"});
  int visits = 0;
  Ok(catalog_->ScanStagePairs({{"thumbnail", "r1"}, {"probe", "r1"}}, {},
                              [&](const StagePair&) { return ++visits < 3; }));
  EXPECT_EQ(visits, 3);
  auto none = catalog_->ScanStagePairs({}, {}, [](const StagePair&) { return true; });
  ASSERT_FALSE(none);
  ExpectCode(none.error(), ErrorCode::kInvalidArgument);
  auto unnamed =
      catalog_->ScanStagePairs({{"thumbnail", ""}}, {}, [](const StagePair&) { return true; });
  ASSERT_FALSE(unnamed);
  ExpectCode(unnamed.error(), ErrorCode::kInvalidArgument);
}

// A scan reads the catalog a chunk of assets at a time (catalog/pair_chunk.h; on
// PostgreSQL each asset's rows are joined to it and the chunk is cut between assets), so
// assets on either side of a chunk's edge, with and without rows, keep their own pairs.
TEST_P(BackfillContract, ScanStagePairsKeepsEachAssetsRowsAcrossChunkEdges) {
  AddAssets({"seed"});
  const auto tables = Ok(catalog_->ListTables());
  auto assets = std::find_if(tables.begin(), tables.end(),
                             [](const TableSchema& table) { return table.name == "assets"; });
  ASSERT_NE(assets, tables.end());
  RowScan scan;
  scan.table = "assets";
  scan.key = assets->key;
  for (const auto& column : assets->columns) scan.columns.push_back(column.name);
  std::optional<Row> seed;
  Ok(catalog_->ScanTableRows(scan, [&](const Row& row) -> Result<bool> {
    seed = row;
    return false;
  }));
  ASSERT_TRUE(seed);
  auto column = [&](std::string_view name) {
    return static_cast<size_t>(std::find(scan.columns.begin(), scan.columns.end(), name) -
                               scan.columns.begin());
  };
  const size_t id_column = column("id");
  const size_t created_column = column("created_at");
  ASSERT_LT(created_column, scan.columns.size());
  // Three chunks' worth after the seed, so the last asset is alone in its chunk.
  const size_t count = 3 * PairChunk::kAssets;
  auto id_at = [](size_t n) {
    std::string id = std::to_string(n);
    return "x" + std::string(6 - id.size(), '0') + id;
  };
  RowWrite write{"assets", scan.columns, {}, {}};
  const int64_t created = std::get<int64_t>((*seed)[created_column]);
  for (size_t n = 0; n < count; ++n) {
    Row row = *seed;
    row[id_column] = id_at(n);
    row[created_column] = created + 1000 + static_cast<int64_t>(n);
    write.rows.push_back(std::move(row));
  }
  Ok(catalog_->WriteTableRows(write));

  const size_t edge = PairChunk::kAssets - 1;  // the seed is the first chunk's first asset
  Record(id_at(edge - 1), "thumbnail", "r1");  // the first chunk's last assets
  Record(id_at(edge - 1), "probe", "r1", Failed(ErrorCode::kIo));
  Record(id_at(edge), "thumbnail", "r0");  // the second chunk's first
  Record(id_at(edge + 2), "probe", "r1", Skipped("no_audio"));
  Record(id_at(2 * edge), "thumbnail", "r1");   // the second chunk's last, then none
  Record(id_at(count - 1), "thumbnail", "r0");  // the last asset, alone in its chunk
  NewJob job;
  job.asset_id = id_at(edge);
  job.stages = {"probe"};
  Ok(catalog_->Enqueue(job));

  std::vector<std::string> order;
  std::map<std::string, std::string> status;  // "asset/stage" -> status, active marked
  Ok(catalog_->ScanStagePairs(
      {{"thumbnail", "r1"}, {"probe", "r1"}}, {}, [&](const StagePair& pair) {
        const std::string key = pair.asset_id + "/" + std::to_string(pair.stage_index);
        order.push_back(key);
        status[key] = std::string(Name(StatusOf(pair, "r1"))) + (pair.active ? "+active" : "");
        return true;
      }));
  std::vector<std::string> expected = {"seed/0", "seed/1"};
  for (size_t n = 0; n < count; ++n) {
    expected.push_back(id_at(n) + "/0");
    expected.push_back(id_at(n) + "/1");
  }
  ASSERT_EQ(order, expected) << "every pair once, in plan order";
  std::map<std::string, std::string> found;
  for (const auto& [key, value] : status) {
    if (value != "missing") found[key] = value;
  }
  EXPECT_EQ(found, (std::map<std::string, std::string>{
                       {id_at(edge - 1) + "/0", "current"},
                       {id_at(edge - 1) + "/1", "failed"},
                       {id_at(edge) + "/0", "outdated"},
                       {id_at(edge) + "/1", "missing+active"},
                       {id_at(edge + 2) + "/1", "skipped"},
                       {id_at(2 * edge) + "/0", "current"},
                       {id_at(count - 1) + "/0", "outdated"},
                   }));
}

// ---- CreateBackfill, GetBackfill, ListBackfills, SetBackfillState -----------------------

TEST_P(BackfillContract, CreateBackfillFreezesTheSelectedPairsInPlanOrder) {
  AddAssets({"a1", "a2", "a3"});
  NewBackfill backfill;
  backfill.owner = "alice";
  backfill.stages = {{"thumbnail", "r1"}, {"probe", "p1"}};
  backfill.mode = BackfillMode::kMissing;
  backfill.filter = {{"kind", "video"}};
  backfill.options = {{"limit", 10}};
  backfill.plan = {{"items", 5}};
  AssetFilter alice;
  alice.owner = "alice";
  Backfill created = Ok(catalog_->CreateBackfill(backfill, alice, [](const StagePair& pair) {
    if (pair.asset_id == "a2" && pair.stage_index == 1) return PairDecision{};  // left out
    return PairDecision{PairDecision::kSelect, pair.stage_index == 0 ? "missing" : "outdated"};
  }));
  EXPECT_GT(created.id, 0);
  EXPECT_EQ(created.owner, "alice");
  ASSERT_EQ(created.stages.size(), 2u);
  EXPECT_EQ(created.stages[1].stage, "probe");
  EXPECT_EQ(created.stages[1].recipe, "p1");
  EXPECT_EQ(created.mode, BackfillMode::kMissing);
  EXPECT_EQ(created.filter, backfill.filter);
  EXPECT_EQ(created.options, backfill.options);
  EXPECT_EQ(created.plan, backfill.plan);
  EXPECT_EQ(created.state, BackfillState::kPlanned);
  EXPECT_EQ(created.created_at, clock_.NowMicros());
  EXPECT_EQ(created.started_at, 0) << "not started while planned";

  std::vector<BackfillItem> items = Items(created.id);
  EXPECT_EQ(Pairs(items), (std::vector<std::string>{"a1/thumbnail", "a1/probe", "a2/thumbnail",
                                                    "a3/thumbnail", "a3/probe"}));
  for (const auto& item : items) {
    EXPECT_EQ(item.outcome, ItemOutcome::kPending);
    EXPECT_EQ(item.to_recipe, item.stage == "probe" ? "p1" : "r1");
    EXPECT_EQ(item.from_recipe, "");
    EXPECT_EQ(item.job_id, 0);
  }
  EXPECT_EQ(items[1].reason, "outdated");

  // Frozen: assets that come later do not join the plan.
  AddAssets({"a4"});
  EXPECT_EQ(Items(created.id).size(), 5u);
  EXPECT_EQ(Ok(catalog_->CountBackfillItems(created.id)).total, 5);
}

TEST_P(BackfillContract, CreateBackfillStopsWhereTheSelectorSaysAndRecordsTheRecipeLeft) {
  AddAssets({"a1", "a2"});
  Record("a1", "thumbnail", "r0");
  NewBackfill backfill;
  backfill.stages = {{"thumbnail", "r1"}};
  backfill.state = BackfillState::kRunning;
  Backfill created = Ok(catalog_->CreateBackfill(backfill, {}, [](const StagePair& pair) {
    if (pair.asset_id == "a2") return PairDecision{PairDecision::kStop, ""};
    return PairDecision{PairDecision::kSelect, "outdated"};
  }));
  EXPECT_EQ(created.state, BackfillState::kRunning);
  EXPECT_EQ(created.started_at, clock_.NowMicros()) << "created running: started now";
  std::vector<BackfillItem> items = Items(created.id);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].asset_id, "a1");
  EXPECT_EQ(items[0].from_recipe, "r0");
  EXPECT_EQ(items[0].to_recipe, "r1");
}

TEST_P(BackfillContract, CreateBackfillRefusesMissingStagesAndLeavesNothing) {
  AddAssets({"a1"});
  auto select_all = [](const StagePair&) { return PairDecision{PairDecision::kSelect, "x"}; };
  NewBackfill none;
  auto refused = catalog_->CreateBackfill(none, {}, select_all);
  ASSERT_FALSE(refused);
  ExpectCode(refused.error(), ErrorCode::kInvalidArgument);
  NewBackfill unnamed;
  unnamed.stages = {{"", "r1"}};
  refused = catalog_->CreateBackfill(unnamed, {}, select_all);
  ASSERT_FALSE(refused);
  ExpectCode(refused.error(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Ok(catalog_->ListBackfills({}, 100)).empty());
}

TEST_P(BackfillContract, BackfillsAreListedNewestFirstAndScopedToTheirOwner) {
  AddAssets({"a1"}, "alice");
  AddAssets({"b1"}, "bob");
  Backfill first = Plan({"thumbnail"}, BackfillState::kPlanned, "alice");
  Backfill second = Plan({"thumbnail"}, BackfillState::kPlanned, "bob");
  Backfill third = Plan({"probe"}, BackfillState::kPlanned);  // an operator's: every owner
  auto ids = [](const std::vector<Backfill>& backfills) {
    std::vector<int64_t> out;
    for (const auto& b : backfills) out.push_back(b.id);
    return out;
  };
  EXPECT_EQ(ids(Ok(catalog_->ListBackfills({}, 100))),
            (std::vector<int64_t>{third.id, second.id, first.id}));
  EXPECT_EQ(ids(Ok(catalog_->ListBackfills({}, 2))), (std::vector<int64_t>{third.id, second.id}));
  AssetFilter alice;
  alice.owner = "alice";
  EXPECT_EQ(ids(Ok(catalog_->ListBackfills(alice, 100))), (std::vector<int64_t>{first.id}));

  EXPECT_EQ(Ok(catalog_->GetBackfill(first.id, alice)).id, first.id);
  EXPECT_EQ(Ok(catalog_->GetBackfill(second.id, {})).owner, "bob");
  ExpectCode(catalog_->GetBackfill(second.id, alice).error(), ErrorCode::kNotFound);
  ExpectCode(catalog_->GetBackfill(third.id + 100, {}).error(), ErrorCode::kNotFound);
  EXPECT_EQ(Items(third.id).size(), 2u) << "an owner-less backfill plans every owner's assets";
}

TEST_P(BackfillContract, SetBackfillStateMovesOnlyFromTheGivenStatesAndStampsTimes) {
  AddAssets({"a1"});
  Backfill planned = Plan({"thumbnail"}, BackfillState::kPlanned);
  clock_.Advance(kSecond);
  Backfill running = Ok(catalog_->SetBackfillState(planned.id, {BackfillState::kPlanned},
                                                   BackfillState::kRunning, ""));
  EXPECT_EQ(running.state, BackfillState::kRunning);
  EXPECT_EQ(running.started_at, clock_.NowMicros());
  auto refused = catalog_->SetBackfillState(planned.id, {BackfillState::kPlanned},
                                            BackfillState::kRunning, "");
  ASSERT_FALSE(refused);
  ExpectCode(refused.error(), ErrorCode::kConflict);
  EXPECT_NE(refused.error().message.find("running"), std::string::npos) << "names its state";
  clock_.Advance(kSecond);
  Backfill cancelled = Ok(catalog_->SetBackfillState(planned.id, {BackfillState::kRunning},
                                                     BackfillState::kCancelled, "operator asked"));
  EXPECT_EQ(cancelled.stop_reason, "operator asked");
  EXPECT_EQ(cancelled.finished_at, clock_.NowMicros());
  EXPECT_EQ(cancelled.started_at, running.started_at) << "started once";
}

// ---- ListBackfillItems ------------------------------------------------------------------

TEST_P(BackfillContract, BackfillItemsPageByOffsetAndFilterByOutcome) {
  AddAssets({"a1", "a2", "a3", "a4", "a5"});
  Backfill backfill = Plan({"thumbnail"});
  Ok(catalog_->DispatchBackfill(backfill.id, Dispatch(2)));
  EXPECT_EQ(Pairs(Ok(catalog_->ListBackfillItems(backfill.id, std::nullopt, 1, 2))),
            (std::vector<std::string>{"a2/thumbnail", "a3/thumbnail"}));
  EXPECT_EQ(Pairs(Ok(catalog_->ListBackfillItems(backfill.id, std::nullopt, 4, 10))),
            (std::vector<std::string>{"a5/thumbnail"}));
  EXPECT_TRUE(Ok(catalog_->ListBackfillItems(backfill.id, std::nullopt, 5, 10)).empty());
  EXPECT_EQ(Pairs(Items(backfill.id, ItemOutcome::kQueued)),
            (std::vector<std::string>{"a1/thumbnail", "a2/thumbnail"}));
  EXPECT_EQ(Pairs(Ok(catalog_->ListBackfillItems(backfill.id, ItemOutcome::kPending, 1, 1))),
            (std::vector<std::string>{"a4/thumbnail"}));
  EXPECT_TRUE(Items(backfill.id, ItemOutcome::kFailed).empty());
}

// ---- DispatchBackfill -------------------------------------------------------------------

TEST_P(BackfillContract, DispatchQueuesOneJobPerAssetInPlanOrderUpToTheCaps) {
  AddAssets({"a1", "a2", "a3"});
  Backfill backfill = Plan({"thumbnail", "probe"});
  DispatchResult first = Ok(catalog_->DispatchBackfill(backfill.id, Dispatch(2)));
  EXPECT_EQ(first.jobs, 2);
  EXPECT_EQ(first.items_queued, 4);
  EXPECT_EQ(first.items_skipped, 0);
  EXPECT_EQ(first.active_jobs, 2);
  EXPECT_TRUE(first.more_pending);

  JobFilter of_backfill;
  of_backfill.backfill_id = backfill.id;
  std::vector<Job> jobs = Ok(catalog_->ListJobs(of_backfill, {})).items;
  ASSERT_EQ(jobs.size(), 2u);
  for (const auto& job : jobs) {
    EXPECT_EQ(job.stages, (std::vector<std::string>{"probe", "thumbnail"}));
    EXPECT_EQ(job.backfill_id, backfill.id);
    EXPECT_EQ(job.priority, kBackfillPriority);
    EXPECT_EQ(Ok(catalog_->GetAsset(job.asset_id, {})).status, AssetStatus::kProcessing);
  }
  for (const auto& item : Items(backfill.id, ItemOutcome::kQueued)) {
    EXPECT_TRUE(item.job_id == jobs[0].id || item.job_id == jobs[1].id) << item.asset_id;
    EXPECT_NE(item.asset_id, "a3");
  }

  // Reporting only: nothing more is queued.
  DispatchResult report = Ok(catalog_->DispatchBackfill(backfill.id, Dispatch(0)));
  EXPECT_EQ(report.jobs, 0);
  EXPECT_EQ(report.active_jobs, 2);
  EXPECT_TRUE(report.more_pending);
  // The concurrency cap is reached: two jobs hold its items already.
  EXPECT_EQ(Ok(catalog_->DispatchBackfill(backfill.id, Dispatch(5, 2))).jobs, 0);
  DispatchResult last = Ok(catalog_->DispatchBackfill(backfill.id, Dispatch(5, 3)));
  EXPECT_EQ(last.jobs, 1);
  EXPECT_EQ(last.active_jobs, 3);
  EXPECT_FALSE(last.more_pending);
}

TEST_P(BackfillContract, DispatchSkipsPairsActiveElsewhereForcesByReasonAndNeedsARunningBackfill) {
  AddAssets({"a1", "a2"});
  Backfill planned = Plan({"thumbnail", "probe"}, BackfillState::kPlanned, "", "quarantined");
  auto refused = catalog_->DispatchBackfill(planned.id, Dispatch(1));
  ASSERT_FALSE(refused);
  ExpectCode(refused.error(), ErrorCode::kConflict);
  Ok(catalog_->SetBackfillState(planned.id, {BackfillState::kPlanned}, BackfillState::kRunning,
                                ""));
  NewJob live;
  live.asset_id = "a1";
  live.stages = {"thumbnail"};
  Ok(catalog_->Enqueue(live));
  ASSERT_EQ(ClaimAll("live").size(), 1u);  // running elsewhere

  DispatchRequest request = Dispatch(10);
  request.force_reasons = {"quarantined"};
  request.mark_processing = false;
  DispatchResult result = Ok(catalog_->DispatchBackfill(planned.id, request));
  EXPECT_EQ(result.jobs, 2);
  EXPECT_EQ(result.items_queued, 3);
  EXPECT_EQ(result.items_skipped, 1);
  std::vector<BackfillItem> skipped = Items(planned.id, ItemOutcome::kSkipped);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(Pairs(skipped), (std::vector<std::string>{"a1/thumbnail"}));
  EXPECT_EQ(skipped[0].skip_reason, "already_active");

  JobFilter of_backfill;
  of_backfill.backfill_id = planned.id;
  for (const auto& job : Ok(catalog_->ListJobs(of_backfill, {})).items) {
    EXPECT_EQ(job.forced, job.stages) << "every item was selected as quarantined";
    EXPECT_TRUE(job.keep_status);
    EXPECT_EQ(Ok(catalog_->GetAsset(job.asset_id, {})).status, AssetStatus::kPending);
  }
}

// ---- WithdrawBackfillJobs ---------------------------------------------------------------

TEST_P(BackfillContract, WithdrawTakesQueuedJobsBackAsPendingOnPause) {
  AddAssets({"a1", "a2", "a3"});
  Backfill backfill = Plan({"thumbnail"});
  Ok(catalog_->DispatchBackfill(backfill.id, Dispatch(3)));
  std::vector<Job> running = ClaimAll("w", 1);
  ASSERT_EQ(running.size(), 1u);

  EXPECT_EQ(Ok(catalog_->WithdrawBackfillJobs(backfill.id, /*cancel=*/false)), 2);
  BackfillCounts counts = Ok(catalog_->CountBackfillItems(backfill.id));
  EXPECT_EQ(counts.Count(ItemOutcome::kPending), 2);
  EXPECT_EQ(counts.Count(ItemOutcome::kQueued), 1) << "the running job keeps its item";
  EXPECT_EQ(counts.active_jobs, 1);
  JobFilter queued;
  queued.state = JobState::kQueued;
  EXPECT_TRUE(Ok(catalog_->ListJobs(queued, {})).items.empty()) << "queued jobs are gone";
  EXPECT_FALSE(Ok(catalog_->GetJob(running[0].id, {})).cancel_requested);
  for (const auto& item : Items(backfill.id, ItemOutcome::kPending)) EXPECT_EQ(item.job_id, 0);

  // Dispatching again queues what was taken back.
  EXPECT_EQ(Ok(catalog_->DispatchBackfill(backfill.id, Dispatch(10))).jobs, 2);
}

TEST_P(BackfillContract, WithdrawOnCancelCancelsWaitingItemsAndAsksRunningJobsToStop) {
  AddAssets({"a1", "a2", "a3", "a4"});
  Backfill backfill = Plan({"thumbnail"});
  Ok(catalog_->DispatchBackfill(backfill.id, Dispatch(3)));
  std::vector<Job> running = ClaimAll("w", 1);
  ASSERT_EQ(running.size(), 1u);
  // Live work merged into a queued job of the backfill stays queued.
  NewJob live;
  live.asset_id = "a3";
  live.stages = {"probe"};
  Ok(catalog_->Enqueue(live));

  EXPECT_EQ(Ok(catalog_->WithdrawBackfillJobs(backfill.id, /*cancel=*/true)), 2);
  BackfillCounts counts = Ok(catalog_->CountBackfillItems(backfill.id));
  EXPECT_EQ(counts.Count(ItemOutcome::kCancelled), 3) << "two withdrawn, one never dispatched";
  EXPECT_EQ(counts.Count(ItemOutcome::kQueued), 1);
  EXPECT_TRUE(Ok(catalog_->GetJob(running[0].id, {})).cancel_requested);
  JobFilter queued;
  queued.state = JobState::kQueued;
  std::vector<Job> left = Ok(catalog_->ListJobs(queued, {})).items;
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].asset_id, "a3");
  EXPECT_EQ(left[0].stages, (std::vector<std::string>{"probe"}));
  ExpectCode(catalog_->WithdrawBackfillJobs(backfill.id + 100, false).error(),
             ErrorCode::kNotFound);
}

// ---- Driver leases ----------------------------------------------------------------------

TEST_P(BackfillContract, OneDriverHoldsABackfillUntilItsLeaseEnds) {
  AddAssets({"a1"});
  Backfill planned = Plan({"thumbnail"}, BackfillState::kPlanned);
  Backfill running = Plan({"thumbnail"});
  EXPECT_EQ(Ok(catalog_->ListUndrivenBackfills()), (std::vector<int64_t>{running.id}))
      << "a planned backfill needs no driver";

  EXPECT_TRUE(Ok(catalog_->ClaimBackfillDriver(running.id, "d1", 10 * kSecond)));
  Backfill held = Ok(catalog_->GetBackfill(running.id, {}));
  EXPECT_EQ(held.driver, "d1");
  EXPECT_EQ(held.driver_expires_at, clock_.NowMicros() + 10 * kSecond);
  EXPECT_TRUE(Ok(catalog_->ListUndrivenBackfills()).empty());
  EXPECT_FALSE(Ok(catalog_->ClaimBackfillDriver(running.id, "d2", 10 * kSecond)));
  clock_.Advance(5 * kSecond);
  EXPECT_TRUE(Ok(catalog_->ClaimBackfillDriver(running.id, "d1", 10 * kSecond))) << "renewed";
  clock_.Advance(10 * kSecond);
  EXPECT_FALSE(Ok(catalog_->ClaimBackfillDriver(running.id, "d2", 10 * kSecond)))
      << "a lease holds up to its expiry instant";
  EXPECT_TRUE(Ok(catalog_->ListUndrivenBackfills()).empty());
  clock_.Advance(1);
  EXPECT_EQ(Ok(catalog_->ListUndrivenBackfills()), (std::vector<int64_t>{running.id}))
      << "the lease expired";
  EXPECT_TRUE(Ok(catalog_->ClaimBackfillDriver(running.id, "d2", 10 * kSecond)));

  Ok(catalog_->ReleaseBackfillDriver(running.id, "d1"));  // not d1's: nothing happens
  EXPECT_EQ(Ok(catalog_->GetBackfill(running.id, {})).driver, "d2");
  Ok(catalog_->ReleaseBackfillDriver(running.id, "d2"));
  EXPECT_EQ(Ok(catalog_->GetBackfill(running.id, {})).driver, "");
  EXPECT_EQ(Ok(catalog_->ListUndrivenBackfills()), (std::vector<int64_t>{running.id}));

  Ok(catalog_->SetBackfillState(running.id, {BackfillState::kRunning}, BackfillState::kPaused, ""));
  EXPECT_TRUE(Ok(catalog_->ListUndrivenBackfills()).empty())
      << "a paused backfill dispatches nothing";
  Ok(catalog_->SetBackfillState(running.id, {BackfillState::kPaused}, BackfillState::kCancelling,
                                ""));
  EXPECT_EQ(Ok(catalog_->ListUndrivenBackfills()), (std::vector<int64_t>{running.id}))
      << "a cancelling backfill needs a driver to finish it";
  Ok(catalog_->SetBackfillState(running.id, {BackfillState::kCancelling}, BackfillState::kCancelled,
                                ""));
  EXPECT_TRUE(Ok(catalog_->ListUndrivenBackfills()).empty());

  ExpectCode(catalog_->ClaimBackfillDriver(running.id, "", kSecond).error(),
             ErrorCode::kInvalidArgument);
  ExpectCode(catalog_->ClaimBackfillDriver(running.id, "d1", 0).error(),
             ErrorCode::kInvalidArgument);
  ExpectCode(catalog_->ClaimBackfillDriver(running.id + 100, "d1", kSecond).error(),
             ErrorCode::kNotFound);
}

// ---- RollbackDerivatives ----------------------------------------------------------------

TEST_P(BackfillContract, RollbackGoesBackToTheResultBeforeAndADryRunChangesNothing) {
  AddAssets({"a1", "a2", "a3"});
  AddAssets({"b1"}, "bob");
  int64_t a1_r1 = Record("a1", "thumbnail", "r1");
  Record("a1", "thumbnail", "r1", Failed());  // a failure is never gone back to
  int64_t a1_r2 = Record("a1", "thumbnail", "r2");
  Record("a2", "thumbnail", "r2");  // nothing earlier
  Record("b1", "thumbnail", "r1");
  Record("b1", "thumbnail", "r2");
  AssetFilter alice;
  alice.owner = "alice";

  RollbackRequest request;
  request.stage = "thumbnail";
  request.dry_run = true;
  RollbackResult preview = Ok(catalog_->RollbackDerivatives(request, alice));
  EXPECT_EQ(preview.assets, 3);
  EXPECT_EQ(preview.rolled_back, 1);
  EXPECT_EQ(preview.no_earlier, 1);
  EXPECT_EQ(preview.no_current, 1);
  ASSERT_EQ(preview.items.size(), 1u);
  EXPECT_EQ(preview.items[0].asset_id, "a1");
  EXPECT_EQ(preview.items[0].from_recipe, "r2");
  EXPECT_EQ(preview.items[0].to_recipe, "r1");
  EXPECT_EQ(preview.items[0].from_id, a1_r2);
  EXPECT_EQ(preview.items[0].to_id, a1_r1);
  EXPECT_EQ(Ok(catalog_->GetCurrentDerivative("a1", "thumbnail")).id, a1_r2) << "dry run";

  request.dry_run = false;
  RollbackResult done = Ok(catalog_->RollbackDerivatives(request, alice));
  EXPECT_EQ(done.rolled_back, 1);
  EXPECT_EQ(done.to_recipes, (std::map<std::string, int64_t>{{"r1", 1}}));
  EXPECT_EQ(Ok(catalog_->GetCurrentDerivative("a1", "thumbnail")).id, a1_r1);
  EXPECT_EQ(Ok(catalog_->GetCurrentDerivative("b1", "thumbnail")).recipe, "r2")
      << "outside the filter";
  EXPECT_EQ(Ok(catalog_->ListDerivatives("a1")).size(), 3u) << "history is kept";

  RollbackRequest unnamed;
  ExpectCode(catalog_->RollbackDerivatives(unnamed, {}).error(), ErrorCode::kInvalidArgument);
}

TEST_P(BackfillContract, RollbackToANamedRecipeTakesItsNewestSuccess) {
  AddAssets({"a1", "a2"});
  Record("a1", "thumbnail", "r1");
  int64_t newest_r1 = Record("a1", "thumbnail", "r1");
  Record("a1", "thumbnail", "r2");
  Record("a1", "thumbnail", "r3");
  Record("a2", "thumbnail", "r3");  // no r1 to go back to
  RollbackRequest request;
  request.stage = "thumbnail";
  request.to_recipe = "r1";
  RollbackResult result = Ok(catalog_->RollbackDerivatives(request, {}));
  EXPECT_EQ(result.rolled_back, 1);
  EXPECT_EQ(result.no_earlier, 1);
  EXPECT_EQ(Ok(catalog_->GetCurrentDerivative("a1", "thumbnail")).id, newest_r1);
  EXPECT_EQ(Ok(catalog_->GetStageStatuses("a1", {{"thumbnail", "r1"}})),
            (std::vector<StageStatus>{StageStatus::kCurrent}));
}

// ---- GetStageHistory --------------------------------------------------------------------

TEST_P(BackfillContract, StageHistoryMediansPerMediaMinuteAndOfBytes) {
  AddAssets({"long"}, "alice", 120.0);
  AddAssets({"short", "unknown"}, "alice", 30.0);
  auto run = [&](const std::string& asset, int seconds, int64_t bytes) {
    int64_t id = Ok(catalog_->StartDerivative(asset, "hls", 1, "r1", {}));
    clock_.Advance(seconds * kSecond);
    DerivativeOutcome outcome = Done();
    outcome.blobs = {{"out.m3u8", "derived/" + asset + "/out.m3u8", bytes, "text/plain"}};
    Ok(catalog_->CompleteDerivative(id, outcome));
  };
  run("long", 60, 1000);   // 30 s per media minute
  run("short", 20, 3000);  // 40 s per media minute
  run("short", 5, 2000);   // 10 s per media minute
  StageHistory history = Ok(catalog_->GetStageHistory({"hls", "r1", false, 10}));
  EXPECT_EQ(history.samples, 3);
  EXPECT_DOUBLE_EQ(history.median_seconds, 20);
  EXPECT_DOUBLE_EQ(history.median_seconds_per_media_minute, 30);
  EXPECT_DOUBLE_EQ(history.median_bytes, 2000);
  EXPECT_EQ(Ok(catalog_->GetStageHistory({"waveform", "", false, 10})).samples, 0);
}

// ---- ScanCurrentResults -----------------------------------------------------------------

TEST_P(BackfillContract, ScanCurrentResultsVisitsCurrentResultsInPlanOrderWithinTheFilter) {
  AddAssets({"a1", "a2", "a3"}, "alice", 42.0);
  AddAssets({"b1"}, "bob");
  auto done = [](nlohmann::json metadata) { return Done(std::move(metadata)); };
  Record("a3", "tags", "r2", done({{"tags", {"dog"}}}));
  Record("a1", "tags", "r1", done({{"tags", {"cat"}}}));
  Record("a1", "tags", "r1", Failed());  // a later failure keeps the result current
  Record("a2", "tags", "r1", Failed());  // nothing current
  Record("a2", "probe", "p1");           // another stage
  Record("b1", "tags", "r1", done({{"tags", {"eel"}}}));
  AssetFilter alice;
  alice.owner = "alice";
  std::vector<CurrentResult> seen;
  Ok(catalog_->ScanCurrentResults("tags", alice, [&](const CurrentResult& result) {
    seen.push_back(result);
    return true;
  }));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].asset_id, "a1");
  EXPECT_EQ(seen[0].recipe, "r1");
  EXPECT_EQ(seen[0].metadata, (nlohmann::json{{"tags", {"cat"}}}));
  EXPECT_EQ(seen[0].asset_name, "a1.mp4");
  EXPECT_EQ(seen[0].duration_seconds, 42.0);
  EXPECT_EQ(seen[1].asset_id, "a3");
  EXPECT_EQ(seen[1].recipe, "r2");

  int visits = 0;
  Ok(catalog_->ScanCurrentResults("tags", {}, [&](const CurrentResult&) {
    ++visits;
    return false;
  }));
  EXPECT_EQ(visits, 1) << "the visitor stops the scan";
  int none = 0;
  Ok(catalog_->ScanCurrentResults("transcript", {}, [&](const CurrentResult&) {
    ++none;
    return true;
  }));
  EXPECT_EQ(none, 0);
}

}  // namespace
}  // namespace reprise::catalog
