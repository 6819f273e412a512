// URL imports (catalog.h, "URL imports"): insert and scope, the lease (claim, renew,
// finish, take-over after expiry, giving up), the import behind an asset, and webhook
// replay protection. Runs against every backend of CatalogBackends().
#include <string>

#include <gtest/gtest.h>

#include "tests/catalog/catalog_contract.h"
#include "tests/catalog/wrapped_backend.h"

namespace reprise::catalog {
namespace {

class ImportsContract : public CatalogContractTest {
 protected:
  NewImport Make(std::string id, std::string owner = "alice") {
    NewImport import;
    import.id = std::move(id);
    import.owner = std::move(owner);
    import.url = "https://example.com/" + import.id + ".mp4";
    import.name = "clip.mp4";
    import.kind = "video";
    import.metadata = {{"prompt", "sunset"}, { "seed", 7 }};
    return import;
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, ImportsContract, ::testing::ValuesIn(CatalogBackends()),
                         BackendName);
INSTANTIATE_TEST_SUITE_P(Wrapper, ImportsContract,
                         ::testing::Values(Wrapped(CatalogBackends().front())), BackendName);

TEST_P(ImportsContract, InsertedImportsAreQueuedAndScopedToTheirOwner) {
  auto inserted = catalog_->InsertImport(Make("imp_a"));
  ASSERT_TRUE(inserted) << inserted.error().ToString();
  EXPECT_EQ(inserted->state, ImportState::kQueued);
  EXPECT_EQ(inserted->metadata["prompt"], "sunset");
  EXPECT_EQ(inserted->created_at, clock_.NowMicros());

  AssetFilter alice;
  alice.owner = "alice";
  AssetFilter bob;
  bob.owner = "bob";
  EXPECT_TRUE(catalog_->GetImport("imp_a", alice));
  EXPECT_TRUE(catalog_->GetImport("imp_a", {}));
  auto hidden = catalog_->GetImport("imp_a", bob);
  ASSERT_FALSE(hidden);
  EXPECT_EQ(hidden.error().code, ErrorCode::kNotFound);

  auto again = catalog_->InsertImport(Make("imp_a"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);

  NewImport orphan = Make("imp_b");
  orphan.parent_id = "nosuchasset1";
  auto no_parent = catalog_->InsertImport(orphan);
  ASSERT_FALSE(no_parent);
  EXPECT_EQ(no_parent.error().code, ErrorCode::kNotFound);

  clock_.Advance(kSecond);
  ASSERT_TRUE(catalog_->InsertImport(Make("imp_c", "bob")));
  auto listed = catalog_->ListImports(alice, {}, 10);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, "imp_a");
  auto all = catalog_->ListImports({}, {ImportState::kQueued}, 10);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, "imp_c");  // newest first
}

TEST_P(ImportsContract, AClaimHoldsALeaseThatAnotherRunnerTakesOverOnlyAfterItExpires) {
  ASSERT_TRUE(catalog_->InsertImport(Make("imp_a")));
  auto first = catalog_->ClaimImport("runner-1", 10 * kSecond, 3);
  ASSERT_TRUE(first && first->has_value());
  EXPECT_EQ((*first)->state, ImportState::kDownloading);
  EXPECT_EQ((*first)->attempts, 1);
  EXPECT_EQ((*first)->lease_owner, "runner-1");

  auto none = catalog_->ClaimImport("runner-2", 10 * kSecond, 3);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());

  clock_.Advance(5 * kSecond);
  ASSERT_TRUE(catalog_->RenewImport("imp_a", "runner-1", 1234, 10 * kSecond));
  auto renewed = catalog_->GetImport("imp_a", {});
  ASSERT_TRUE(renewed);
  EXPECT_EQ(renewed->bytes, 1234);
  auto wrong = catalog_->RenewImport("imp_a", "runner-2", 1, 10 * kSecond);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ErrorCode::kConflict);

  clock_.Advance(11 * kSecond);  // runner-1 died
  auto taken = catalog_->ClaimImport("runner-2", 10 * kSecond, 3);
  ASSERT_TRUE(taken && taken->has_value());
  EXPECT_EQ((*taken)->lease_owner, "runner-2");
  EXPECT_EQ((*taken)->attempts, 2);
  EXPECT_EQ((*taken)->bytes, 0);

  ImportOutcome late;
  late.state = ImportState::kDone;
  late.asset_id = "whatever";
  auto stale = catalog_->FinishImport("imp_a", "runner-1", late);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict);

  ImportOutcome failed;
  failed.state = ImportState::kFailed;
  failed.error = Error{ErrorCode::kNotFound, "http 404 from https://example.com/imp_a.mp4", ""};
  auto finished = catalog_->FinishImport("imp_a", "runner-2", failed);
  ASSERT_TRUE(finished) << finished.error().ToString();
  EXPECT_EQ(finished->state, ImportState::kFailed);
  EXPECT_EQ(finished->error_code, "not_found");
  EXPECT_EQ(finished->error_message, "http 404 from https://example.com/imp_a.mp4");
  EXPECT_TRUE(finished->lease_owner.empty());
}

TEST_P(ImportsContract, AReleasedImportIsQueuedAgainWithoutCountingTheAttempt) {
  ASSERT_TRUE(catalog_->InsertImport(Make("imp_a")));
  ASSERT_TRUE(catalog_->ClaimImport("runner-1", kSecond, 3));
  ImportOutcome release;
  release.state = ImportState::kQueued;
  auto released = catalog_->FinishImport("imp_a", "runner-1", release);
  ASSERT_TRUE(released) << released.error().ToString();
  EXPECT_EQ(released->state, ImportState::kQueued);
  EXPECT_EQ(released->attempts, 0);
  ImportOutcome downloading;
  downloading.state = ImportState::kDownloading;
  EXPECT_FALSE(catalog_->FinishImport("imp_a", "runner-1", downloading));
}

TEST_P(ImportsContract, APassingFailureWaitsQueuedUntilItsRetryTimeKeepingTheError) {
  ASSERT_TRUE(catalog_->InsertImport(Make("imp_a")));
  ASSERT_TRUE(Ok(catalog_->ClaimImport("runner-1", kSecond, 3)));
  ImportOutcome retry;
  retry.state = ImportState::kQueued;
  retry.error = Error{ErrorCode::kUnavailable, "http 503 from the origin", {}};
  ImportOutcome no_time = retry;
  EXPECT_EQ(catalog_->FinishImport("imp_a", "runner-1", no_time).error().code,
            ErrorCode::kInvalidArgument);  // an error without a retry time is not a retry
  retry.retry_at = clock_.NowMicros() + 5 * kSecond;
  Import waiting = Ok(catalog_->FinishImport("imp_a", "runner-1", retry));
  EXPECT_EQ(waiting.state, ImportState::kQueued);
  EXPECT_EQ(waiting.attempts, 1);
  EXPECT_EQ(waiting.error_message, "http 503 from the origin");
  EXPECT_EQ(waiting.retry_at, *retry.retry_at);

  clock_.Advance(4 * kSecond);
  EXPECT_FALSE(Ok(catalog_->ClaimImport("runner-2", kSecond, 3)));  // not yet
  clock_.Advance(kSecond);
  auto again = Ok(catalog_->ClaimImport("runner-2", kSecond, 3));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->id, "imp_a");
  EXPECT_EQ(again->attempts, 2);
  EXPECT_EQ(again->retry_at, 0);
}

TEST_P(ImportsContract, AnImportInterruptedTooOftenIsFailed) {
  ASSERT_TRUE(catalog_->InsertImport(Make("imp_a")));
  for (int attempt = 1; attempt <= 2; ++attempt) {
    auto claimed = catalog_->ClaimImport("runner-" + std::to_string(attempt), kSecond, 2);
    ASSERT_TRUE(claimed && claimed->has_value()) << attempt;
    clock_.Advance(2 * kSecond);
  }
  auto none = catalog_->ClaimImport("runner-3", kSecond, 2);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  auto failed = catalog_->GetImport("imp_a", {});
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->state, ImportState::kFailed);
  EXPECT_EQ(failed->error_code, "unavailable");
  EXPECT_NE(failed->error_message.find("gave up after 2 attempts"), std::string::npos)
      << failed->error_message;
}

TEST_P(ImportsContract, AWebhookIsRecordedOnceWithItsImports) {
  ReceivedWebhook webhook{"replicate", "msg_1", "prediction succeeded"};
  auto first = catalog_->RecordWebhook(webhook, {Make("imp_a"), Make("imp_b")});
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_TRUE(*first);
  auto replay = catalog_->RecordWebhook(webhook, {Make("imp_c")});
  ASSERT_TRUE(replay) << replay.error().ToString();
  EXPECT_FALSE(*replay);
  auto listed = catalog_->ListImports({}, {}, 10);
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), 2u);
  // The same id from another source is another delivery.
  auto other = catalog_->RecordWebhook({"other", "msg_1", ""}, {});
  ASSERT_TRUE(other);
  EXPECT_TRUE(*other);
  // A failing import leaves no record of the delivery, so the sender's retry is taken.
  auto broken = catalog_->RecordWebhook({"replicate", "msg_2", ""}, {Make("imp_a")});
  ASSERT_FALSE(broken);
  auto retried = catalog_->RecordWebhook({"replicate", "msg_2", ""}, {Make("imp_d")});
  ASSERT_TRUE(retried);
  EXPECT_TRUE(*retried);
}

TEST_P(ImportsContract, ADoneImportIsFoundByTheAssetItMade) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  ASSERT_TRUE(catalog_->InsertImport(Make("imp_a")));
  clock_.Advance(kSecond);
  ASSERT_TRUE(catalog_->InsertImport(Make("imp_b")));
  EXPECT_EQ(Ok(catalog_->FindImportOfAsset("a1")), std::nullopt);
  for (const char* runner : {"runner-1", "runner-2"}) {
    auto claimed = Ok(catalog_->ClaimImport(runner, 10 * kSecond, 3));
    ASSERT_TRUE(claimed);
    ImportOutcome done;
    done.state = ImportState::kDone;
    done.asset_id = "a1";  // the same content imported twice
    done.bytes = 99;
    Import finished = Ok(catalog_->FinishImport(claimed->id, runner, done));
    EXPECT_EQ(finished.state, ImportState::kDone);
    EXPECT_EQ(finished.asset_id, "a1");
    EXPECT_EQ(finished.bytes, 99);
    clock_.Advance(kSecond);
  }
  auto found = Ok(catalog_->FindImportOfAsset("a1"));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, "imp_b") << "the newest (created and finished last)";
  EXPECT_EQ(found->name, "clip.mp4");
  EXPECT_EQ(found->metadata["seed"], 7);
  EXPECT_EQ(Ok(catalog_->FindImportOfAsset("a2")), std::nullopt);

  ImportOutcome no_asset;
  no_asset.state = ImportState::kDone;
  ASSERT_TRUE(catalog_->InsertImport(Make("imp_c")));
  ASSERT_TRUE(Ok(catalog_->ClaimImport("runner-3", kSecond, 3)));
  auto refused = catalog_->FinishImport("imp_c", "runner-3", no_asset);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  auto empty = catalog_->InsertImport(Make(""));
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace reprise::catalog
