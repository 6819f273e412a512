// Catalog::DeleteAsset (catalog.h, "Deleting assets"), run against every backend like
// catalog_contract_test.cc.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/catalog/catalog_contract.h"

namespace reprise::catalog {
namespace {

NewJob JobFor(const std::string& asset_id, std::vector<std::string> stages) {
  NewJob job;
  job.asset_id = asset_id;
  job.stages = std::move(stages);
  return job;
}

ClaimRequest Claim() {
  ClaimRequest request;
  request.worker_id = "w";
  request.max_jobs = 10;
  return request;
}

TEST_P(CatalogContractTest, DeleteAssetTakesItsRowsAndKeepsItsChildren) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  NewAsset child = MakeAsset("c1");
  child.parent_id = "a1";
  Ok(catalog_->InsertAsset(child));
  int64_t d = Ok(catalog_->StartDerivative("a1", "thumbnail", 1, "r1", nlohmann::json::object()));
  Ok(catalog_->CompleteDerivative(d, Done()));
  Ok(catalog_->Enqueue(JobFor("a1", {"probe"})));
  Ok(catalog_->Enqueue(JobFor("c1", {"probe"})));
  NewBackfill backfill;
  backfill.stages = {{"waveform", "r1"}};
  backfill.state = BackfillState::kRunning;
  Backfill created = Ok(catalog_->CreateBackfill(backfill, {}, [](const StagePair&) {
    return PairDecision{PairDecision::kSelect, "missing"};
  }));
  ASSERT_EQ(Ok(catalog_->CountBackfillItems(created.id)).total, 2);

  EXPECT_FALSE(Ok(catalog_->DeleteAsset("a1", {})));  // no other asset has its content

  EXPECT_EQ(catalog_->GetAsset("a1", {}).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(catalog_->ListDerivatives("a1").error().code, ErrorCode::kNotFound);
  JobFilter of_a1;
  of_a1.asset_id = "a1";
  EXPECT_TRUE(Ok(catalog_->ListJobs(of_a1, {})).items.empty());
  EXPECT_EQ(Ok(catalog_->CountBackfillItems(created.id)).total, 1);
  Asset kept = Ok(catalog_->GetAsset("c1", {}));
  EXPECT_FALSE(kept.parent_id.has_value());
  JobFilter of_c1;
  of_c1.asset_id = "c1";
  EXPECT_EQ(Ok(catalog_->ListJobs(of_c1, {})).items.size(), 1u);
}

TEST_P(CatalogContractTest, DeleteAssetIsScopedAndRefusedWhileAJobOfItRuns) {
  Ok(catalog_->InsertAsset(MakeAsset("a1", "alice")));
  NewAsset copy = MakeAsset("b1", "bob");
  copy.sha256_hex = MakeAsset("a1", "alice").sha256_hex;  // the same content
  Ok(catalog_->InsertAsset(copy));
  Ok(catalog_->Enqueue(JobFor("a1", {"probe"})));
  ASSERT_EQ(Ok(catalog_->ClaimJobs(Claim())).size(), 1u);

  AssetFilter bob;
  bob.owner = "bob";
  EXPECT_EQ(catalog_->DeleteAsset("a1", bob).error().code, ErrorCode::kNotFound);
  auto refused = catalog_->DeleteAsset("a1", {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_TRUE(catalog_->GetAsset("a1", {}));  // nothing changed

  EXPECT_TRUE(Ok(catalog_->DeleteAsset("b1", bob)));  // a1 still holds the content
  EXPECT_EQ(catalog_->DeleteAsset("b1", {}).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace reprise::catalog
