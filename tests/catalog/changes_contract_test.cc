// The change notifications part of the Catalog contract (catalog.h, "Change
// notifications"), run against every backend: a listener hears, on the committing thread,
// each commit of this catalog object that queued jobs, wrote events or queued imports,
// and nothing for reads, claims or transactions that failed. (What only PostgreSQL hears,
// other connections' commits, is in postgres_changes_test.cc.)

#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/catalog/catalog_contract.h"

namespace reprise::catalog {
namespace {

// What a listener heard on the test's thread, and how often it was called at all
// (other threads: PostgreSQL's listening thread).
class Recorder {
 public:
  ChangeListener Listener() {
    return [this, thread = std::this_thread::get_id()](const Change& change) {
      std::lock_guard lock(mu_);
      ++calls_;
      if (std::this_thread::get_id() != thread) return;
      topics_ |= change.topics;
      if (change.newest_event_id > 0) events_.push_back(change.newest_event_id);
    };
  }
  // The topics heard on the test's thread since the last call.
  unsigned Take() {
    std::lock_guard lock(mu_);
    return std::exchange(topics_, 0u);
  }
  std::vector<int64_t> events() {
    std::lock_guard lock(mu_);
    return events_;
  }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  unsigned topics_ = 0;
  std::vector<int64_t> events_;
  int calls_ = 0;
};

constexpr unsigned kJobs = static_cast<unsigned>(ChangeTopic::kJobs);
constexpr unsigned kEvents = static_cast<unsigned>(ChangeTopic::kEvents);
constexpr unsigned kImports = static_cast<unsigned>(ChangeTopic::kImports);

NewJob Stages(std::vector<std::string> stages, const std::string& asset_id = "") {
  NewJob job;
  job.asset_id = asset_id;
  job.stages = std::move(stages);
  return job;
}

ClaimRequest Claim(const std::string& worker) {
  ClaimRequest request;
  request.worker_id = worker;
  return request;
}

TEST_P(CatalogContractTest, ChangeListenersHearQueuedJobsAfterTheirCommit) {
  Recorder heard;
  const int64_t id = catalog_->AddChangeListener(heard.Listener());
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  EXPECT_EQ(heard.Take(), kEvents);  // asset.created
  Ok(catalog_->Enqueue(Stages({"probe"}, "a1")));
  EXPECT_EQ(heard.Take(), kJobs);
  // Nothing new to do: reads, claims, heartbeats, failed calls and no-op enqueues.
  Ok(catalog_->GetQueueStats({}));
  auto claimed = Ok(catalog_->ClaimJobs(Claim("w1")));
  ASSERT_EQ(claimed.size(), 1u);
  Ok(catalog_->RenewLease(claimed[0].id, "w1", kSecond));
  EXPECT_FALSE(catalog_->Enqueue(Stages({"probe"}, "nobody")));
  EXPECT_FALSE(catalog_->InsertAssetWithJob(MakeAsset("a2"), Stages({""})));
  EXPECT_TRUE(Ok(catalog_->Enqueue(Stages({"probe"}, "a1"))).enqueued.empty());
  EXPECT_EQ(heard.Take(), 0u);

  JobOutcome retry;
  retry.state = JobState::kQueued;
  retry.retry_stages = {"probe"};
  Ok(catalog_->FinishJob(claimed[0].id, "w1", retry));
  EXPECT_EQ(heard.Take(), kJobs);
  claimed = Ok(catalog_->ClaimJobs(Claim("w1")));
  ASSERT_EQ(claimed.size(), 1u);
  Ok(catalog_->ReleaseJob(claimed[0].id, "w1"));
  EXPECT_EQ(heard.Take(), kJobs);
  claimed = Ok(catalog_->ClaimJobs(Claim("w1")));
  ASSERT_EQ(claimed.size(), 1u);
  clock_.Advance(claimed[0].lease_expires_at - clock_.NowMicros() + 1);
  EXPECT_EQ(Ok(catalog_->ReapExpiredLeases()), 1);
  EXPECT_EQ(heard.Take(), kJobs);
  EXPECT_EQ(Ok(catalog_->ReapExpiredLeases()), 0);
  EXPECT_EQ(heard.Take(), 0u);

  Ok(catalog_->InsertAssetWithJob(MakeAsset("a3"), Stages({"probe"})));
  EXPECT_EQ(heard.Take(), kJobs | kEvents);
  catalog_->RemoveChangeListener(id);
}

TEST_P(CatalogContractTest, ChangeListenersHearRetriedJobsEventsAndQueuedImports) {
  Recorder heard;
  const int64_t id = catalog_->AddChangeListener(heard.Listener());
  Ok(catalog_->InsertAssetWithJob(MakeAsset("a1"), Stages({"probe"})));
  auto claimed = Ok(catalog_->ClaimJobs(Claim("w1")));
  ASSERT_EQ(claimed.size(), 1u);
  heard.Take();
  JobOutcome failed;
  failed.state = JobState::kFailed;
  failed.error = Error{ErrorCode::kIo, "boom", {}};
  Ok(catalog_->FinishJob(claimed[0].id, "w1", failed));
  EXPECT_EQ(heard.Take(), kEvents);  // job.finished: nothing queued
  EXPECT_EQ(Ok(catalog_->RetryJobs({})), 1);
  EXPECT_EQ(heard.Take(), kJobs);

  Ok(catalog_->SetAssetStatus("a1", AssetStatus::kReady));
  EXPECT_EQ(heard.Take(), kEvents);
  EXPECT_EQ(heard.events().back(), Ok(catalog_->LatestEventId()));

  NewImport import;
  import.id = "imp_1";
  import.owner = "alice";
  import.url = "http://example.test/a.mp4";
  Ok(catalog_->InsertImport(import));
  EXPECT_EQ(heard.Take(), kImports);
  EXPECT_FALSE(catalog_->InsertImport(import));  // id in use
  EXPECT_EQ(heard.Take(), 0u);
  auto taken = Ok(catalog_->ClaimImport("r1", kSecond, 3));
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(heard.Take(), 0u);
  ImportOutcome back;
  back.state = ImportState::kQueued;
  Ok(catalog_->FinishImport("imp_1", "r1", back));
  EXPECT_EQ(heard.Take(), kImports);
  catalog_->RemoveChangeListener(id);
}

TEST_P(CatalogContractTest, ARemovedChangeListenerIsNotCalledAgain) {
  Recorder kept;
  Recorder removed;
  const int64_t keep = catalog_->AddChangeListener(kept.Listener());
  const int64_t gone = catalog_->AddChangeListener(removed.Listener());
  EXPECT_NE(keep, gone);
  catalog_->RemoveChangeListener(gone);
  const int calls = removed.calls();
  Ok(catalog_->InsertAssetWithJob(MakeAsset("a1"), Stages({"probe"})));
  EXPECT_EQ(kept.Take(), kJobs | kEvents);
  EXPECT_EQ(removed.calls(), calls);
  catalog_->RemoveChangeListener(keep);
  catalog_->RemoveChangeListener(keep);  // twice is harmless
}

}  // namespace
}  // namespace reprise::catalog
