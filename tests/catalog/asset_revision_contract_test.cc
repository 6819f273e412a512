// Asset::revision (catalog/types.h): raised by the catalog whenever anything an asset's
// document shows changes, and only then. Run against every backend like
// catalog_contract_test.cc. The assertions compare revisions before and after a change;
// the values themselves mean nothing.
#include <string>

#include <gtest/gtest.h>

#include "catalog/backfill_types.h"
#include "tests/catalog/catalog_contract.h"

namespace reprise::catalog {
namespace {

int64_t Revision(Catalog& catalog, const std::string& id) {
  return Ok(catalog.GetAsset(id, {})).revision;
}

// Records one failed attempt of (asset, thumbnail, recipe).
void FailAttempt(Catalog& catalog, const std::string& asset_id, const std::string& recipe) {
  int64_t id =
      Ok(catalog.StartDerivative(asset_id, "thumbnail", 1, recipe, nlohmann::json::object()));
  Ok(catalog.CompleteDerivative(id, Failed()));
}

TEST_P(CatalogContractTest, AssetRevisionStaysOnReadsAndRisesWithEveryChangeToTheDocument) {
  auto Revision = [&](const std::string& id) { return reprise::catalog::Revision(*catalog_, id); };
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  Ok(catalog_->InsertAsset(MakeAsset("other")));
  int64_t before = Revision("a1");
  const int64_t other = Revision("other");

  // Reading changes nothing.
  Ok(catalog_->ListDerivatives("a1"));
  Ok(catalog_->GetStageStatuses("a1", {{"thumbnail", "r1"}}));
  EXPECT_EQ(Revision("a1"), before);

  auto raised = [&](const char* what) {
    int64_t now = Revision("a1");
    EXPECT_NE(now, before) << what << " left the revision at " << before;
    before = now;
  };
  int64_t d1 = Ok(catalog_->StartDerivative("a1", "thumbnail", 1, "r1", nlohmann::json::object()));
  raised("starting a derivative");
  Ok(catalog_->CompleteDerivative(d1, Done({{"width", 64}})));
  raised("completing it (it became current)");
  Ok(catalog_->SetAssetStatus("a1", AssetStatus::kReady));
  raised("a status change");
  int64_t d2 = Ok(catalog_->StartDerivative("a1", "thumbnail", 1, "r2", nlohmann::json::object()));
  Ok(catalog_->CompleteDerivative(d2, Done({{"width", 128}})));
  raised("a newer current result");

  RollbackRequest rollback;
  rollback.stage = "thumbnail";
  rollback.to_recipe = "r1";
  AssetFilter only_a1;
  only_a1.ids = {"a1"};
  ASSERT_EQ(Ok(catalog_->RollbackDerivatives(rollback, only_a1)).rolled_back, 1);
  raised("a rollback (the current result moved back)");

  // None of that touched another asset's document.
  EXPECT_EQ(Revision("other"), other);
}

TEST_P(CatalogContractTest, AssetRevisionRisesWithQuarantineForEveryCopyOfTheContent) {
  auto Revision = [&](const std::string& id) { return reprise::catalog::Revision(*catalog_, id); };
  NewAsset copy = MakeAsset("copy");
  copy.sha256_hex = MakeAsset("mine").sha256_hex;
  Ok(catalog_->InsertAsset(MakeAsset("mine")));
  Ok(catalog_->InsertAsset(copy));
  Ok(catalog_->InsertAsset(MakeAsset("unrelated")));
  FailAttempt(*catalog_, "mine", "r1");
  FailAttempt(*catalog_, "copy", "r1");
  const int64_t mine = Revision("mine");
  const int64_t copy_before = Revision("copy");
  const int64_t unrelated = Revision("unrelated");

  // The copy's document shows "quarantined" from now on, though nothing of its own changed.
  ASSERT_TRUE(Ok(catalog_->QuarantineIfRepeated("mine", "thumbnail", "r1", 2)));
  EXPECT_NE(Revision("mine"), mine);
  EXPECT_NE(Revision("copy"), copy_before);
  EXPECT_EQ(Revision("unrelated"), unrelated);
}

}  // namespace
}  // namespace reprise::catalog
