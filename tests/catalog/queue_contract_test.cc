// The durable queue part of the Catalog contract (catalog.h, "The durable queue"), run
// against every backend like catalog_contract_test.cc; nothing here names a database.

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <source_location>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "tests/catalog/catalog_contract.h"

namespace reprise::catalog {
namespace {

using Stages = std::vector<std::string>;

NewJob MakeJob(const std::string& asset_id, Stages stages, int priority = kLivePriority) {
  NewJob job;
  job.asset_id = asset_id;
  job.stages = std::move(stages);
  job.priority = priority;
  return job;
}

ClaimRequest Claimer(const std::string& worker, int max_jobs = 1) {
  ClaimRequest request;
  request.worker_id = worker;
  request.max_jobs = max_jobs;
  request.lease_micros = 30 * kSecond;
  return request;
}

JobOutcome Outcome(JobState state, std::optional<Error> error = std::nullopt) {
  JobOutcome outcome;
  outcome.state = state;
  outcome.error = std::move(error);
  return outcome;
}

JobOutcome RetryLater(Stages stages, int64_t run_after, Error error) {
  JobOutcome outcome;
  outcome.state = JobState::kQueued;
  outcome.retry_stages = std::move(stages);
  outcome.run_after = run_after;
  outcome.error = std::move(error);
  return outcome;
}

std::vector<int64_t> Ids(const std::vector<Job>& jobs) {
  std::vector<int64_t> ids;
  for (const auto& job : jobs) ids.push_back(job.id);
  return ids;
}

template <class T>
void ExpectCode(const Result<T>& result, ErrorCode code,
                std::source_location where = std::source_location::current()) {
  SCOPED_TRACE(std::string(where.file_name()) + ":" + std::to_string(where.line()));
  ASSERT_FALSE(result) << "expected " << ErrorCodeName(code);
  EXPECT_EQ(result.error().code, code) << result.error().ToString();
}

// ---------------------------------------------------------------------------------------
// Transactional enqueue

TEST_P(CatalogContractTest, InsertAssetWithJobQueuesWorkOnlyForANewAsset) {
  InsertAssetResult inserted =
      Ok(catalog_->InsertAssetWithJob(MakeAsset("a1"), MakeJob("", {"probe", "thumbnail"})));
  EXPECT_TRUE(inserted.created);
  JobFilter a1;
  a1.asset_id = "a1";
  std::vector<Job> jobs = Ok(catalog_->ListJobs(a1, {})).items;
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].state, JobState::kQueued);
  EXPECT_EQ(jobs[0].stages, (Stages{"probe", "thumbnail"}));
  EXPECT_EQ(jobs[0].owner, "alice");
  EXPECT_EQ(jobs[0].priority, kLivePriority);
  EXPECT_EQ(jobs[0].run_after, clock_.NowMicros());
  EXPECT_EQ(jobs[0].created_at, inserted.asset.created_at);

  // The same content again: the existing asset, and no second job.
  InsertAssetResult again =
      Ok(catalog_->InsertAssetWithJob(MakeAsset("a1"), MakeJob("a1", {"waveform"})));
  EXPECT_FALSE(again.created);
  EXPECT_EQ(Ok(catalog_->ListJobs({}, {})).items.size(), 1u);

  // An asset inserted without a job gets none from a later InsertAssetWithJob either.
  Ok(catalog_->InsertAsset(MakeAsset("a2")));
  EXPECT_FALSE(Ok(catalog_->InsertAssetWithJob(MakeAsset("a2"), MakeJob("", {"probe"}))).created);
  EXPECT_EQ(Ok(catalog_->ListJobs({}, {})).items.size(), 1u);
}

TEST_P(CatalogContractTest, InsertAssetWithJobIsAllOrNothing) {
  // A job that cannot be enqueued takes the asset down with it.
  ExpectCode(catalog_->InsertAssetWithJob(MakeAsset("a1"), MakeJob("", {})),
             ErrorCode::kInvalidArgument);
  NewJob unknown_backfill = MakeJob("", {"probe"});
  unknown_backfill.backfill_id = 424242;
  ExpectCode(catalog_->InsertAssetWithJob(MakeAsset("a1"), unknown_backfill), ErrorCode::kNotFound);
  ExpectCode(catalog_->InsertAssetWithJob(MakeAsset("a1"), MakeJob("other", {"probe"})),
             ErrorCode::kInvalidArgument);
  EXPECT_EQ(Ok(catalog_->CountAssets({})), 0);
  EXPECT_TRUE(Ok(catalog_->ListJobs({}, {})).items.empty());

  // And an asset that cannot be inserted enqueues nothing.
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  NewAsset clash = MakeAsset("a1");
  clash.sha256_hex = "other content";
  ExpectCode(catalog_->InsertAssetWithJob(clash, MakeJob("", {"probe"})), ErrorCode::kConflict);
  EXPECT_TRUE(Ok(catalog_->ListJobs({}, {})).items.empty());
}

// ---------------------------------------------------------------------------------------
// Enqueue: uniqueness and merging

// `process --stage`: a separate job takes its stages out of a queued job holding others,
// joins a queued job holding only its stages, and leaves a running job's stages alone.
TEST_P(CatalogContractTest, ASeparateJobHoldsOnlyItsStages) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  int64_t ingest = Ok(catalog_->Enqueue(MakeJob("a1", {"probe", "thumbnail", "hls"}))).job_id;
  NewJob separate = MakeJob("a1", {"probe", "thumbnail", "waveform"});
  separate.separate = true;
  EnqueueResult result = Ok(catalog_->Enqueue(separate));
  EXPECT_TRUE(result.created);
  EXPECT_NE(result.job_id, ingest);
  EXPECT_EQ(result.enqueued, Stages{"waveform"});
  EXPECT_EQ(result.moved, (Stages{"probe", "thumbnail"}));
  EXPECT_TRUE(result.already_active.empty());
  EXPECT_EQ(Ok(catalog_->GetJob(ingest, {})).stages, Stages{"hls"});
  EXPECT_EQ(Ok(catalog_->GetJob(result.job_id, {})).stages,
            (Stages{"probe", "thumbnail", "waveform"}));

  // Asked again with one more stage: it joins that job, which holds nothing else.
  separate.stages = {"probe", "thumbnail", "waveform", "cover"};
  EnqueueResult again = Ok(catalog_->Enqueue(separate));
  EXPECT_EQ(again.job_id, result.job_id);
  EXPECT_EQ(again.enqueued, Stages{"cover"});
  EXPECT_EQ(again.already_active, (Stages{"probe", "thumbnail", "waveform"}));

  // A running job runs whole: its stages stay with it.
  std::vector<Job> running = Ok(catalog_->ClaimJobs(Claimer("w1", 2)));
  ASSERT_EQ(running.size(), 2u);
  separate.stages = {"hls"};
  EnqueueResult busy = Ok(catalog_->Enqueue(separate));
  EXPECT_EQ(busy.job_id, 0);
  EXPECT_EQ(busy.already_active, Stages{"hls"});
  EXPECT_TRUE(busy.moved.empty());
}

TEST_P(CatalogContractTest, EnqueueMergesIntoTheQueuedJobAndNeverDuplicates) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  NewJob backfill = MakeJob("a1", {"probe", "thumbnail"}, kBackfillPriority);
  backfill.run_after = clock_.NowMicros() + 60 * kSecond;
  EnqueueResult first = Ok(catalog_->Enqueue(backfill));
  EXPECT_TRUE(first.created);
  EXPECT_NE(first.job_id, 0);
  EXPECT_EQ(first.enqueued, (Stages{"probe", "thumbnail"}));
  EXPECT_TRUE(first.already_active.empty());

  clock_.Advance(kSecond);
  // Live work on the same asset joins the queued job, which becomes as urgent as it.
  EnqueueResult merged = Ok(catalog_->Enqueue(MakeJob("a1", {"thumbnail", "waveform"})));
  EXPECT_FALSE(merged.created);
  EXPECT_EQ(merged.job_id, first.job_id);
  EXPECT_EQ(merged.enqueued, Stages{"waveform"});
  EXPECT_EQ(merged.already_active, Stages{"thumbnail"});
  Job job = Ok(catalog_->GetJob(first.job_id, {}));
  EXPECT_EQ(job.stages, (Stages{"probe", "thumbnail", "waveform"}));
  EXPECT_EQ(job.priority, kLivePriority);
  EXPECT_EQ(job.run_after, clock_.NowMicros());
  EXPECT_EQ(job.updated_at, clock_.NowMicros());

  // A lower, later ask lowers nothing.
  NewJob lazy = MakeJob("a1", {"hls"}, kBackfillPriority - 5);
  lazy.run_after = clock_.NowMicros() + 3600 * kSecond;
  EXPECT_EQ(Ok(catalog_->Enqueue(lazy)).job_id, first.job_id);
  job = Ok(catalog_->GetJob(first.job_id, {}));
  EXPECT_EQ(job.priority, kLivePriority);
  EXPECT_EQ(job.run_after, clock_.NowMicros());

  // Everything already active: a no-op.
  EnqueueResult noop = Ok(catalog_->Enqueue(MakeJob("a1", {"probe", "hls"})));
  EXPECT_EQ(noop.job_id, 0);
  EXPECT_FALSE(noop.created);
  EXPECT_TRUE(noop.enqueued.empty());
  EXPECT_EQ(noop.already_active, (Stages{"probe", "hls"}));

  // A running job is never merged into; its stages stay active, new ones form a new job.
  std::vector<Job> claimed = Ok(catalog_->ClaimJobs(Claimer("w1")));
  ASSERT_EQ(Ids(claimed), std::vector<int64_t>{first.job_id});
  EnqueueResult beside = Ok(catalog_->Enqueue(MakeJob("a1", {"probe", "scenes"})));
  EXPECT_TRUE(beside.created);
  EXPECT_NE(beside.job_id, first.job_id);
  EXPECT_EQ(beside.enqueued, Stages{"scenes"});
  EXPECT_EQ(beside.already_active, Stages{"probe"});
  JobFilter a1;
  a1.asset_id = "a1";
  EXPECT_EQ(Ok(catalog_->ListJobs(a1, {})).items.size(), 2u);
}

TEST_P(CatalogContractTest, ForcedStagesStayForcedThroughMergeClaimAndList) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  EnqueueResult live = Ok(catalog_->Enqueue(MakeJob("a1", {"probe"})));
  NewJob rebuild = MakeJob("a1", {"thumbnail", "probe", "waveform"}, kBackfillPriority);
  rebuild.force = true;
  EnqueueResult merged = Ok(catalog_->Enqueue(rebuild));
  EXPECT_EQ(merged.job_id, live.job_id);
  EXPECT_EQ(merged.already_active, Stages{"probe"});
  // Only the stages this enqueue added are forced; probe keeps its unforced row.
  Job job = Ok(catalog_->GetJob(live.job_id, {}));
  EXPECT_EQ(job.stages, (Stages{"probe", "thumbnail", "waveform"}));
  EXPECT_EQ(job.forced, (Stages{"thumbnail", "waveform"}));
  std::vector<Job> claimed = Ok(catalog_->ClaimJobs(Claimer("w1")));
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].forced, (Stages{"thumbnail", "waveform"}));
  JobFilter a1;
  a1.asset_id = "a1";
  EXPECT_EQ(Ok(catalog_->ListJobs(a1, {})).items.at(0).forced, (Stages{"thumbnail", "waveform"}));

  Ok(catalog_->InsertAsset(MakeAsset("a2")));
  Job plain = Ok(catalog_->GetJob(Ok(catalog_->Enqueue(MakeJob("a2", {"probe"}))).job_id, {}));
  EXPECT_TRUE(plain.forced.empty());
}

TEST_P(CatalogContractTest, EnqueueRefusesBadJobs) {
  ExpectCode(catalog_->Enqueue(MakeJob("nope", {"probe"})), ErrorCode::kNotFound);
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  ExpectCode(catalog_->Enqueue(MakeJob("a1", {})), ErrorCode::kInvalidArgument);
  ExpectCode(catalog_->Enqueue(MakeJob("a1", {"probe", ""})), ErrorCode::kInvalidArgument);
  NewJob no_attempts = MakeJob("a1", {"probe"});
  no_attempts.max_attempts = 0;
  ExpectCode(catalog_->Enqueue(no_attempts), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Ok(catalog_->ListJobs({}, {})).items.empty());

  // A repeated stage is one stage.
  EnqueueResult repeated = Ok(catalog_->Enqueue(MakeJob("a1", {"probe", "probe"})));
  EXPECT_EQ(repeated.enqueued, Stages{"probe"});
  EXPECT_EQ(Ok(catalog_->GetJob(repeated.job_id, {})).stages, Stages{"probe"});
}

TEST_P(CatalogContractTest, ConcurrentEnqueuesOfTheSameStageMakeOneJob) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  auto second = Ok(env_->Connect(clock_));
  std::vector<Catalog*> connections = {catalog_.get(), second.get()};
  std::atomic<int> enqueued{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        auto result = connections[t % 2]->Enqueue(MakeJob("a1", {"probe", "thumbnail"}));
        if (!result) {
          ++errors;
          continue;
        }
        enqueued += static_cast<int>(result->enqueued.size());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(enqueued.load(), 2);
  std::vector<Job> jobs = Ok(catalog_->ListJobs({}, {})).items;
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].stages, (Stages{"probe", "thumbnail"}));
}

// ---------------------------------------------------------------------------------------
// Claiming

TEST_P(CatalogContractTest, GetJobStatesReadsManyJobsAtOnceAndLeavesOutTheGone) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 3; ++i) {
    const std::string asset = "a" + std::to_string(i);
    Ok(catalog_->InsertAsset(MakeAsset(asset)));
    ids.push_back(Ok(catalog_->Enqueue(MakeJob(asset, {"probe"}))).job_id);
  }
  std::vector<Job> claimed = Ok(catalog_->ClaimJobs(Claimer("w1", 2)));
  ASSERT_EQ(claimed.size(), 2u);
  Ok(catalog_->FinishJob(claimed[0].id, "w1", Outcome(JobState::kSucceeded)));

  std::map<int64_t, JobState> expected;
  for (int64_t id : ids) expected[id] = JobState::kQueued;
  expected[claimed[0].id] = JobState::kSucceeded;
  expected[claimed[1].id] = JobState::kRunning;
  // An id twice and one that never existed: each known job once, the unknown left out.
  std::vector<int64_t> asked = ids;
  asked.push_back(ids[0]);
  asked.push_back(ids.back() + 1000);
  EXPECT_EQ(Ok(catalog_->GetJobStates(asked)), expected);

  // A deleted job (its asset gone) is left out too.
  Ok(catalog_->DeleteAsset(claimed[0].asset_id, {}));
  expected.erase(claimed[0].id);
  EXPECT_EQ(Ok(catalog_->GetJobStates(ids)), expected);
  EXPECT_TRUE(Ok(catalog_->GetJobStates({})).empty());
}

TEST_P(CatalogContractTest, ClaimTakesHighestPriorityThenEarliestRunAfterThenLowestId) {
  const int64_t t0 = clock_.NowMicros();
  struct Spec {
    std::string asset;
    int priority;
    int64_t run_after;
  };
  // Enqueued in an order that matches none of the keys.
  const std::vector<Spec> specs = {
      {"b-late", kBackfillPriority, t0 - 1 * kSecond},
      {"live-late", kLivePriority, t0 - 1 * kSecond},
      {"b-early", kBackfillPriority, t0 - 9 * kSecond},
      {"live-early", kLivePriority, t0 - 5 * kSecond},
      {"live-early-2", kLivePriority, t0 - 5 * kSecond},
      {"urgent", kLivePriority + 50, t0},
      {"future", kLivePriority + 100, t0 + 10 * kSecond},
  };
  std::map<std::string, int64_t> job_of;
  for (const auto& spec : specs) {
    Ok(catalog_->InsertAsset(MakeAsset(spec.asset)));
    NewJob job = MakeJob(spec.asset, {"probe"}, spec.priority);
    job.run_after = spec.run_after;
    job_of[spec.asset] = Ok(catalog_->Enqueue(job)).job_id;
  }
  std::vector<std::string> order;
  while (true) {
    std::vector<Job> claimed = Ok(catalog_->ClaimJobs(Claimer("w1")));
    if (claimed.empty()) break;
    ASSERT_EQ(claimed.size(), 1u);
    order.push_back(claimed[0].asset_id);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"urgent", "live-early", "live-early-2", "live-late",
                                             "b-early", "b-late"}));
  EXPECT_LT(job_of["live-early"], job_of["live-early-2"]);

  // Not before its time; then first.
  clock_.Advance(10 * kSecond);
  std::vector<Job> due = Ok(catalog_->ClaimJobs(Claimer("w1")));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].asset_id, "future");
}

TEST_P(CatalogContractTest, ClaimLeasesAndLoadsEveryJobOfABatch) {
  for (int i = 0; i < 5; ++i) {
    std::string id = "a" + std::to_string(i);
    Ok(catalog_->InsertAsset(MakeAsset(id)));
    Ok(catalog_->Enqueue(MakeJob(id, i % 2 == 0 ? Stages{"thumbnail", "probe"} : Stages{"hls"})));
  }
  const int64_t claimed_at = clock_.NowMicros();
  ClaimRequest request = Claimer("w1", 3);
  request.lease_micros = 45 * kSecond;
  std::vector<Job> batch = Ok(catalog_->ClaimJobs(request));
  ASSERT_EQ(batch.size(), 3u);
  for (size_t i = 0; i < batch.size(); ++i) {
    const Job& job = batch[i];
    EXPECT_EQ(job.asset_id, "a" + std::to_string(i));
    EXPECT_EQ(job.state, JobState::kRunning);
    EXPECT_EQ(job.lease_owner, "w1");
    EXPECT_EQ(job.lease_expires_at, claimed_at + 45 * kSecond);
    EXPECT_EQ(job.attempts, 1);
    EXPECT_EQ(job.started_at, claimed_at);
    EXPECT_EQ(job.owner, "alice");
    EXPECT_EQ(job.stages, i % 2 == 0 ? (Stages{"probe", "thumbnail"}) : Stages{"hls"});
    // What the claim returned is what is stored.
    Job stored = Ok(catalog_->GetJob(job.id, {}));
    EXPECT_EQ(stored.state, job.state);
    EXPECT_EQ(stored.lease_owner, job.lease_owner);
    EXPECT_EQ(stored.lease_expires_at, job.lease_expires_at);
    EXPECT_EQ(stored.attempts, job.attempts);
    EXPECT_EQ(stored.stages, job.stages);
    EXPECT_EQ(stored.updated_at, claimed_at);
  }

  // Leased jobs are never handed out again, to anyone, while the lease runs.
  clock_.Advance(10 * kSecond);
  std::vector<Job> rest = Ok(catalog_->ClaimJobs(Claimer("w2", 10)));
  EXPECT_EQ(rest.size(), 2u);
  clock_.Advance(30 * kSecond);
  EXPECT_TRUE(Ok(catalog_->ClaimJobs(Claimer("w3", 10))).empty());

  ExpectCode(catalog_->ClaimJobs(Claimer("")), ErrorCode::kInvalidArgument);
  ExpectCode(catalog_->ClaimJobs(Claimer("w1", 0)), ErrorCode::kInvalidArgument);
}

TEST_P(CatalogContractTest, ClaimHonoursMinPriorityAndStages) {
  for (const auto& [id, stages, priority] : std::vector<std::tuple<std::string, Stages, int>>{
           {"backfill-probe", {"probe"}, kBackfillPriority},
           {"live-hls", {"hls", "probe"}, kLivePriority},
           {"live-probe", {"probe"}, kLivePriority},
       }) {
    Ok(catalog_->InsertAsset(MakeAsset(id)));
    Ok(catalog_->Enqueue(MakeJob(id, stages, priority)));
  }
  // A worker that only runs probe and thumbnail never gets the job that also needs hls.
  ClaimRequest probe_only = Claimer("w1", 10);
  probe_only.stages = {"probe", "thumbnail"};
  probe_only.min_priority = kLivePriority;
  std::vector<Job> live = Ok(catalog_->ClaimJobs(probe_only));
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].asset_id, "live-probe");

  probe_only.min_priority = kBackfillPriority;
  std::vector<Job> backfill = Ok(catalog_->ClaimJobs(probe_only));
  ASSERT_EQ(backfill.size(), 1u);
  EXPECT_EQ(backfill[0].asset_id, "backfill-probe");
  EXPECT_TRUE(Ok(catalog_->ClaimJobs(probe_only)).empty());

  std::vector<Job> any = Ok(catalog_->ClaimJobs(Claimer("w2", 10)));
  ASSERT_EQ(any.size(), 1u);
  EXPECT_EQ(any[0].asset_id, "live-hls");
}

// ---------------------------------------------------------------------------------------
// Leases

TEST_P(CatalogContractTest, OnlyTheLeaseHolderRenewsFinishesOrReleases) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  int64_t id = Ok(catalog_->Enqueue(MakeJob("a1", {"probe"}))).job_id;
  // Not claimed yet: nobody holds it.
  ExpectCode(catalog_->RenewLease(id, "w1", kSecond), ErrorCode::kConflict);
  ASSERT_EQ(Ok(catalog_->ClaimJobs(Claimer("w1"))).size(), 1u);

  ExpectCode(catalog_->RenewLease(id, "w2", 60 * kSecond), ErrorCode::kConflict);
  ExpectCode(catalog_->FinishJob(id, "w2", Outcome(JobState::kSucceeded)), ErrorCode::kConflict);
  ExpectCode(catalog_->ReleaseJob(id, "w2"), ErrorCode::kConflict);
  ExpectCode(catalog_->RenewLease(id + 1000, "w1", kSecond), ErrorCode::kConflict);
  Job job = Ok(catalog_->GetJob(id, {}));
  EXPECT_EQ(job.state, JobState::kRunning);
  EXPECT_EQ(job.lease_owner, "w1");
  EXPECT_EQ(job.lease_expires_at, clock_.NowMicros() + 30 * kSecond);

  // The holder renews; a heartbeat is not a state change.
  const int64_t claimed_at = clock_.NowMicros();
  clock_.Advance(20 * kSecond);
  EXPECT_FALSE(Ok(catalog_->RenewLease(id, "w1", 30 * kSecond)));
  job = Ok(catalog_->GetJob(id, {}));
  EXPECT_EQ(job.lease_expires_at, clock_.NowMicros() + 30 * kSecond);
  EXPECT_EQ(job.updated_at, claimed_at);

  // Past its expiry but not reaped, the lease is still the holder's (nobody else has it).
  clock_.Advance(31 * kSecond);
  EXPECT_FALSE(Ok(catalog_->RenewLease(id, "w1", 30 * kSecond)));
  EXPECT_EQ(Ok(catalog_->ReapExpiredLeases()), 0);

  ExpectCode(catalog_->RenewLease(id, "w1", 0), ErrorCode::kInvalidArgument);
  ExpectCode(catalog_->FinishJob(id, "w1", Outcome(JobState::kRunning)),
             ErrorCode::kInvalidArgument);
  Ok(catalog_->FinishJob(id, "w1", Outcome(JobState::kSucceeded)));
  // Finished: a late heartbeat, a second finish or a release are all refused.
  ExpectCode(catalog_->RenewLease(id, "w1", kSecond), ErrorCode::kConflict);
  ExpectCode(catalog_->FinishJob(id, "w1", Outcome(JobState::kFailed)), ErrorCode::kConflict);
  ExpectCode(catalog_->ReleaseJob(id, "w1"), ErrorCode::kConflict);
  EXPECT_EQ(Ok(catalog_->GetJob(id, {})).state, JobState::kSucceeded);
}

TEST_P(CatalogContractTest, ReaperRequeuesExpiredLeasesAndFailsTheLastAttempt) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  Ok(catalog_->InsertAsset(MakeAsset("alive")));
  NewJob job = MakeJob("a1", {"probe", "thumbnail"});
  job.max_attempts = 2;
  int64_t id = Ok(catalog_->Enqueue(job)).job_id;
  int64_t alive = Ok(catalog_->Enqueue(MakeJob("alive", {"probe"}))).job_id;
  ASSERT_EQ(Ok(catalog_->ClaimJobs(Claimer("w1", 2))).size(), 2u);

  // At the expiry instant the lease still holds; a renewed one is never rescued.
  clock_.Advance(30 * kSecond);
  EXPECT_EQ(Ok(catalog_->ReapExpiredLeases()), 0);
  Ok(catalog_->RenewLease(alive, "w1", 60 * kSecond));
  clock_.Advance(1);
  EXPECT_EQ(Ok(catalog_->ReapExpiredLeases()), 1);
  EXPECT_EQ(Ok(catalog_->GetJob(alive, {})).state, JobState::kRunning);

  Job requeued = Ok(catalog_->GetJob(id, {}));
  EXPECT_EQ(requeued.state, JobState::kQueued);
  EXPECT_EQ(requeued.attempts, 1);  // the lost attempt counts
  EXPECT_EQ(requeued.run_after, clock_.NowMicros());
  EXPECT_EQ(requeued.lease_owner, "");
  EXPECT_EQ(requeued.last_error_code, "unavailable");
  EXPECT_NE(requeued.last_error_message.find("lease of worker w1 expired"), std::string::npos)
      << requeued.last_error_message;
  EXPECT_EQ(requeued.stages, (Stages{"probe", "thumbnail"}));
  // The old holder has lost it for good.
  ExpectCode(catalog_->RenewLease(id, "w1", kSecond), ErrorCode::kConflict);
  ExpectCode(catalog_->FinishJob(id, "w1", Outcome(JobState::kSucceeded)), ErrorCode::kConflict);
  ExpectCode(catalog_->ReleaseJob(id, "w1"), ErrorCode::kConflict);

  // Second and last attempt expires too: failed, and its stages are free again.
  std::vector<Job> again = Ok(catalog_->ClaimJobs(Claimer("w2")));
  ASSERT_EQ(Ids(again), std::vector<int64_t>{id});
  EXPECT_EQ(again[0].attempts, 2);
  clock_.Advance(31 * kSecond);
  EXPECT_EQ(Ok(catalog_->ReapExpiredLeases()), 1);
  EXPECT_EQ(Ok(catalog_->GetJob(alive, {})).state, JobState::kRunning);  // renewed to +60 s
  Job failed = Ok(catalog_->GetJob(id, {}));
  EXPECT_EQ(failed.state, JobState::kFailed);
  EXPECT_EQ(failed.finished_at, clock_.NowMicros());
  EXPECT_NE(failed.last_error_message.find("lease of worker w2 expired"), std::string::npos);
  EXPECT_EQ(failed.stages, (Stages{"probe", "thumbnail"}));
  EnqueueResult fresh = Ok(catalog_->Enqueue(MakeJob("a1", {"probe"})));
  EXPECT_TRUE(fresh.created);
  EXPECT_EQ(fresh.enqueued, Stages{"probe"});
  EXPECT_EQ(Ok(catalog_->ReapExpiredLeases()), 0);
}

TEST_P(CatalogContractTest, ASucceededJobKeepsNoErrorOfAnEarlierAttempt) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  int64_t id = Ok(catalog_->Enqueue(MakeJob("a1", {"probe"}))).job_id;
  ASSERT_EQ(Ok(catalog_->ClaimJobs(Claimer("w1"))).size(), 1u);
  clock_.Advance(31 * kSecond);
  EXPECT_EQ(Ok(catalog_->ReapExpiredLeases()), 1);
  EXPECT_EQ(Ok(catalog_->GetJob(id, {})).last_error_code, "unavailable");

  ASSERT_EQ(Ok(catalog_->ClaimJobs(Claimer("w2"))).size(), 1u);
  Ok(catalog_->FinishJob(id, "w2", Outcome(JobState::kSucceeded)));
  Job done = Ok(catalog_->GetJob(id, {}));
  EXPECT_EQ(done.state, JobState::kSucceeded);
  EXPECT_EQ(done.attempts, 2);
  EXPECT_EQ(done.last_error_code, "");
  EXPECT_EQ(done.last_error_message, "") << "not \"lease of worker w1 expired\"";
}

TEST_P(CatalogContractTest, ReleaseGivesTheJobBackWithoutCountingTheAttempt) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  NewJob job = MakeJob("a1", {"probe"});
  job.run_after = clock_.NowMicros() - 5 * kSecond;
  int64_t id = Ok(catalog_->Enqueue(job)).job_id;
  ASSERT_EQ(Ok(catalog_->ClaimJobs(Claimer("w1"))).size(), 1u);
  clock_.Advance(kSecond);
  Ok(catalog_->ReleaseJob(id, "w1"));
  Job released = Ok(catalog_->GetJob(id, {}));
  EXPECT_EQ(released.state, JobState::kQueued);
  EXPECT_EQ(released.attempts, 0);
  EXPECT_EQ(released.run_after, clock_.NowMicros());
  EXPECT_EQ(released.lease_owner, "");
  EXPECT_EQ(released.lease_expires_at, 0);
  std::vector<Job> again = Ok(catalog_->ClaimJobs(Claimer("w2")));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].attempts, 1);
}

// ---------------------------------------------------------------------------------------
// Outcomes

TEST_P(CatalogContractTest, FinishEndsTheJobAndFreesItsStages) {
  for (const auto& [asset, state] :
       std::vector<std::pair<std::string, JobState>>{{"ok", JobState::kSucceeded},
                                                     {"bad", JobState::kFailed},
                                                     {"stopped", JobState::kCancelled}}) {
    SCOPED_TRACE(asset);
    Ok(catalog_->InsertAsset(MakeAsset(asset)));
    int64_t id = Ok(catalog_->Enqueue(MakeJob(asset, {"probe", "thumbnail"}))).job_id;
    ASSERT_EQ(Ids(Ok(catalog_->ClaimJobs(Claimer("w1")))), std::vector<int64_t>{id});
    clock_.Advance(kSecond);
    std::optional<Error> error;
    if (state == JobState::kFailed) {
      error = Error{ErrorCode::kUnsupportedMedia, "no decoder", "averror:-1"};
    }
    Ok(catalog_->FinishJob(id, "w1", Outcome(state, error)));
    Job job = Ok(catalog_->GetJob(id, {}));
    EXPECT_EQ(job.state, state);
    EXPECT_EQ(job.finished_at, clock_.NowMicros());
    EXPECT_EQ(job.updated_at, clock_.NowMicros());
    EXPECT_EQ(job.lease_owner, "");
    EXPECT_EQ(job.lease_expires_at, 0);
    EXPECT_EQ(job.attempts, 1);
    EXPECT_EQ(job.stages, (Stages{"probe", "thumbnail"}));  // what it ended with
    if (state == JobState::kFailed) {
      EXPECT_EQ(job.last_error_code, "unsupported_media");
      EXPECT_NE(job.last_error_message.find("no decoder"), std::string::npos);
      EXPECT_NE(job.last_error_message.find("averror:-1"), std::string::npos);
    } else {
      EXPECT_EQ(job.last_error_code, "");
    }
    // Every stage can be queued again at once.
    EnqueueResult again = Ok(catalog_->Enqueue(MakeJob(asset, {"probe", "thumbnail"})));
    EXPECT_TRUE(again.created);
    EXPECT_EQ(again.enqueued.size(), 2u);
    EXPECT_EQ(Ok(catalog_->CancelJob(again.job_id, {})), JobState::kCancelled);  // out of the way
  }
}

TEST_P(CatalogContractTest, FinishJobAndClaimEndsOneLeaseAndTakesTheNextJob) {
  for (const auto& asset : {"a1", "a2", "a3"}) Ok(catalog_->InsertAsset(MakeAsset(asset)));
  int64_t first = Ok(catalog_->Enqueue(MakeJob("a1", {"probe"}))).job_id;
  int64_t second = Ok(catalog_->Enqueue(MakeJob("a2", {"probe"}))).job_id;
  ASSERT_EQ(Ids(Ok(catalog_->ClaimJobs(Claimer("w1")))), std::vector<int64_t>{first});
  clock_.Advance(kSecond);
  std::vector<Job> next =
      Ok(catalog_->FinishJobAndClaim(first, "w1", Outcome(JobState::kSucceeded), Claimer("w1")));
  EXPECT_EQ(Ok(catalog_->GetJob(first, {})).state, JobState::kSucceeded);
  ASSERT_EQ(Ids(next), std::vector<int64_t>{second});
  EXPECT_EQ(next[0].state, JobState::kRunning);
  EXPECT_EQ(next[0].lease_owner, "w1");
  EXPECT_EQ(next[0].stages, Stages{"probe"});

  // Not the holder: nothing is finished and nothing is claimed.
  int64_t third = Ok(catalog_->Enqueue(MakeJob("a3", {"probe"}))).job_id;
  ExpectCode(
      catalog_->FinishJobAndClaim(second, "w2", Outcome(JobState::kSucceeded), Claimer("w2")),
      ErrorCode::kConflict);
  EXPECT_EQ(Ok(catalog_->GetJob(second, {})).state, JobState::kRunning);
  EXPECT_EQ(Ok(catalog_->GetJob(third, {})).state, JobState::kQueued);

  // Nothing left to claim: the job still finishes.
  ASSERT_EQ(Ids(Ok(catalog_->FinishJobAndClaim(second, "w1", Outcome(JobState::kSucceeded),
                                               Claimer("w1")))),
            std::vector<int64_t>{third});
  EXPECT_TRUE(
      Ok(catalog_->FinishJobAndClaim(third, "w1", Outcome(JobState::kSucceeded), Claimer("w1")))
          .empty());
  EXPECT_EQ(Ok(catalog_->GetJob(third, {})).state, JobState::kSucceeded);
}

TEST_P(CatalogContractTest, QueuedOutcomeKeepsOnlyTheStagesToRetry) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  NewJob job = MakeJob("a1", {"probe", "thumbnail", "transcript"});
  job.max_attempts = 1;
  int64_t id = Ok(catalog_->Enqueue(job)).job_id;
  ASSERT_EQ(Ok(catalog_->ClaimJobs(Claimer("w1"))).size(), 1u);

  // Refused outcomes change nothing.
  ExpectCode(catalog_->FinishJob(id, "w1", RetryLater({}, 0, Error{})),
             ErrorCode::kInvalidArgument);
  ExpectCode(catalog_->FinishJob(id, "w1", RetryLater({"hls"}, 0, Error{})),
             ErrorCode::kInvalidArgument);
  EXPECT_EQ(Ok(catalog_->GetJob(id, {})).state, JobState::kRunning);

  clock_.Advance(kSecond);
  const int64_t later = clock_.NowMicros() + 8 * kSecond;
  // attempts (1) already reached max_attempts (1): the worker decides, the queue obeys.
  Ok(catalog_->FinishJob(
      id, "w1",
      RetryLater({"transcript"}, later, Error{ErrorCode::kUnavailable, "whisper is down", {}})));
  Job retried = Ok(catalog_->GetJob(id, {}));
  EXPECT_EQ(retried.state, JobState::kQueued);
  EXPECT_EQ(retried.stages, Stages{"transcript"});
  EXPECT_EQ(retried.attempts, 1);
  EXPECT_EQ(retried.run_after, later);
  EXPECT_EQ(retried.lease_owner, "");
  EXPECT_EQ(retried.finished_at, 0);
  EXPECT_EQ(retried.last_error_code, "unavailable");
  EXPECT_EQ(retried.last_error_message, "whisper is down");
  EXPECT_TRUE(Ok(catalog_->ClaimJobs(Claimer("w1"))).empty());  // not before `later`

  // The finished stages are free: queuing one joins the waiting job.
  EnqueueResult again = Ok(catalog_->Enqueue(MakeJob("a1", {"probe", "transcript"})));
  EXPECT_EQ(again.job_id, id);
  EXPECT_EQ(again.enqueued, Stages{"probe"});
  EXPECT_EQ(again.already_active, Stages{"transcript"});
  EXPECT_EQ(Ok(catalog_->GetJob(id, {})).stages, (Stages{"probe", "transcript"}));

  clock_.Advance(8 * kSecond);
  std::vector<Job> claimed = Ok(catalog_->ClaimJobs(Claimer("w2")));
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].attempts, 2);
  EXPECT_EQ(claimed[0].stages, (Stages{"probe", "transcript"}));
}

// ---------------------------------------------------------------------------------------
// Retry and cancel

TEST_P(CatalogContractTest, RetryJobsRequeuesFailedAndCancelledJobsMatchingTheFilter) {
  for (const auto& id : {"a1", "a2", "a3"}) Ok(catalog_->InsertAsset(MakeAsset(id)));
  Ok(catalog_->InsertAsset(MakeAsset("b1", "bob")));
  auto run_and_finish = [&](const std::string& asset, Stages stages, JobState state) {
    int64_t id = Ok(catalog_->Enqueue(MakeJob(asset, std::move(stages)))).job_id;
    std::vector<Job> claimed = Ok(catalog_->ClaimJobs(Claimer("w1")));
    EXPECT_EQ(Ids(claimed), std::vector<int64_t>{id});
    Ok(catalog_->FinishJob(id, "w1", Outcome(state, Error{ErrorCode::kIo, "disk", {}})));
    return id;
  };
  int64_t failed1 = run_and_finish("a1", {"probe", "thumbnail"}, JobState::kFailed);
  int64_t failed2 = run_and_finish("a2", {"waveform"}, JobState::kFailed);
  int64_t cancelled = run_and_finish("a3", {"probe"}, JobState::kCancelled);
  int64_t succeeded = run_and_finish("a3", {"hls"}, JobState::kSucceeded);
  int64_t bobs = run_and_finish("b1", {"probe"}, JobState::kFailed);
  // Meanwhile a1's thumbnail was queued again by someone else.
  int64_t other = Ok(catalog_->Enqueue(MakeJob("a1", {"thumbnail"}))).job_id;

  JobFilter none_match;
  none_match.stage = "transcript";
  EXPECT_EQ(Ok(catalog_->RetryJobs(none_match)), 0);
  JobFilter queued_only;
  queued_only.state = JobState::kQueued;
  EXPECT_EQ(Ok(catalog_->RetryJobs(queued_only)), 0);

  clock_.Advance(kSecond);
  JobFilter alice_failed;
  alice_failed.owner = "alice";
  alice_failed.state = JobState::kFailed;
  EXPECT_EQ(Ok(catalog_->RetryJobs(alice_failed)), 2);
  Job retried = Ok(catalog_->GetJob(failed1, {}));
  EXPECT_EQ(retried.state, JobState::kQueued);
  EXPECT_EQ(retried.attempts, 0);
  EXPECT_EQ(retried.run_after, clock_.NowMicros());
  EXPECT_EQ(retried.finished_at, 0);
  EXPECT_EQ(retried.stages, Stages{"probe"});  // thumbnail is queued in `other`
  EXPECT_EQ(Ok(catalog_->GetJob(other, {})).stages, Stages{"thumbnail"});
  EXPECT_EQ(Ok(catalog_->GetJob(failed2, {})).state, JobState::kQueued);
  EXPECT_EQ(Ok(catalog_->GetJob(cancelled, {})).state, JobState::kCancelled);
  EXPECT_EQ(Ok(catalog_->GetJob(succeeded, {})).state, JobState::kSucceeded);
  EXPECT_EQ(Ok(catalog_->GetJob(bobs, {})).state, JobState::kFailed);
  // Its stages are active again: enqueuing them is a no-op.
  EXPECT_EQ(Ok(catalog_->Enqueue(MakeJob("a2", {"waveform"}))).already_active, Stages{"waveform"});

  JobFilter by_asset;
  by_asset.asset_id = "a3";
  EXPECT_EQ(Ok(catalog_->RetryJobs(by_asset)), 1);  // the cancelled one, not the succeeded
  EXPECT_EQ(Ok(catalog_->GetJob(cancelled, {})).state, JobState::kQueued);
  JobFilter by_id;
  by_id.job_id = succeeded;
  EXPECT_EQ(Ok(catalog_->RetryJobs(by_id)), 0) << "a succeeded job is not retried";
  by_id.job_id = bobs;
  by_id.owner = "alice";
  EXPECT_EQ(Ok(catalog_->RetryJobs(by_id)), 0) << "scoped to alice, bob's job is not found";
  by_id.owner.reset();
  EXPECT_EQ(Ok(catalog_->RetryJobs(by_id)), 1);  // bob's, by its id
  EXPECT_EQ(Ok(catalog_->GetJob(bobs, {})).state, JobState::kQueued);
  EXPECT_EQ(Ok(catalog_->ListJobs(by_id, {})).items.size(), 1u);
  EXPECT_EQ(Ok(catalog_->RetryJobs({})), 0);
  std::vector<Job> claimed = Ok(catalog_->ClaimJobs(Claimer("w9", 100)));
  EXPECT_EQ(claimed.size(), 5u);  // failed1, failed2, cancelled, bobs, other
}

TEST_P(CatalogContractTest, RetryLeavesAJobWhoseEveryStageIsQueuedElsewhere) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  int64_t id = Ok(catalog_->Enqueue(MakeJob("a1", {"probe"}))).job_id;
  ASSERT_EQ(Ok(catalog_->ClaimJobs(Claimer("w1"))).size(), 1u);
  Ok(catalog_->FinishJob(id, "w1", Outcome(JobState::kFailed)));
  int64_t other = Ok(catalog_->Enqueue(MakeJob("a1", {"probe"}))).job_id;
  EXPECT_EQ(Ok(catalog_->RetryJobs({})), 0);
  EXPECT_EQ(Ok(catalog_->GetJob(id, {})).state, JobState::kFailed);
  EXPECT_EQ(Ok(catalog_->GetJob(id, {})).stages, Stages{"probe"});
  EXPECT_EQ(Ok(catalog_->GetJob(other, {})).state, JobState::kQueued);
}

TEST_P(CatalogContractTest, CancelStopsAQueuedJobAtOnceAndAsksARunningOne) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  Ok(catalog_->InsertAsset(MakeAsset("a2")));
  AssetFilter alice;
  alice.owner = "alice";
  AssetFilter bob;
  bob.owner = "bob";
  int64_t queued = Ok(catalog_->Enqueue(MakeJob("a1", {"probe"}))).job_id;
  ExpectCode(catalog_->CancelJob(queued, bob), ErrorCode::kNotFound);
  ExpectCode(catalog_->CancelJob(queued + 1000, {}), ErrorCode::kNotFound);
  clock_.Advance(kSecond);
  EXPECT_EQ(Ok(catalog_->CancelJob(queued, alice)), JobState::kCancelled);
  Job cancelled = Ok(catalog_->GetJob(queued, {}));
  EXPECT_EQ(cancelled.state, JobState::kCancelled);
  EXPECT_EQ(cancelled.finished_at, clock_.NowMicros());
  ExpectCode(catalog_->CancelJob(queued, {}), ErrorCode::kConflict);
  EXPECT_TRUE(Ok(catalog_->Enqueue(MakeJob("a1", {"probe"}))).created);  // stage freed

  int64_t running = Ok(catalog_->Enqueue(MakeJob("a2", {"probe"}))).job_id;
  const int64_t claimed_at = clock_.NowMicros();
  std::vector<Job> claimed = Ok(catalog_->ClaimJobs(Claimer("w1", 10)));
  ASSERT_EQ(claimed.size(), 2u);
  EXPECT_FALSE(Ok(catalog_->RenewLease(running, "w1", 30 * kSecond)));
  clock_.Advance(kSecond);
  EXPECT_EQ(Ok(catalog_->CancelJob(running, {})), JobState::kRunning);
  EXPECT_EQ(Ok(catalog_->CancelJob(running, {})), JobState::kRunning);  // asking twice is fine
  Job asked = Ok(catalog_->GetJob(running, {}));
  EXPECT_EQ(asked.state, JobState::kRunning);
  EXPECT_TRUE(asked.cancel_requested);
  EXPECT_EQ(asked.updated_at, claimed_at);  // a request, not yet a state change
  EXPECT_TRUE(Ok(catalog_->RenewLease(running, "w1", 30 * kSecond)));  // the worker learns
  Ok(catalog_->FinishJob(running, "w1", Outcome(JobState::kCancelled)));
  EXPECT_EQ(Ok(catalog_->GetJob(running, {})).state, JobState::kCancelled);
  ExpectCode(catalog_->CancelJob(running, {}), ErrorCode::kConflict);
}

TEST_P(CatalogContractTest, ARequestedCancelIsNeverLostToARequeue) {
  for (const auto& id : {"released", "reaped", "retried"}) {
    Ok(catalog_->InsertAsset(MakeAsset(id)));
    Ok(catalog_->Enqueue(MakeJob(id, {"probe"})));
  }
  std::map<std::string, int64_t> job_of;
  for (const auto& job : Ok(catalog_->ClaimJobs(Claimer("w1", 3)))) {
    job_of[job.asset_id] = job.id;
    EXPECT_EQ(Ok(catalog_->CancelJob(job.id, {})), JobState::kRunning);
  }
  ASSERT_EQ(job_of.size(), 3u);
  Ok(catalog_->ReleaseJob(job_of["released"], "w1"));
  Ok(catalog_->FinishJob(job_of["retried"], "w1",
                         RetryLater({"probe"}, 0, Error{ErrorCode::kIo, "x", {}})));
  clock_.Advance(31 * kSecond);
  EXPECT_EQ(Ok(catalog_->ReapExpiredLeases()), 1);
  for (const auto& [asset, id] : job_of) {
    EXPECT_EQ(Ok(catalog_->GetJob(id, {})).state, JobState::kCancelled) << asset;
  }
  EXPECT_TRUE(Ok(catalog_->ClaimJobs(Claimer("w1", 3))).empty());
}

// ---------------------------------------------------------------------------------------
// Reading the queue

TEST_P(CatalogContractTest, GetJobHonoursOwnerScope) {
  Ok(catalog_->InsertAsset(MakeAsset("a1", "alice")));
  int64_t id = Ok(catalog_->Enqueue(MakeJob("a1", {"probe"}))).job_id;
  AssetFilter alice;
  alice.owner = "alice";
  AssetFilter bob;
  bob.owner = "bob";
  EXPECT_EQ(Ok(catalog_->GetJob(id, alice)).id, id);
  ExpectCode(catalog_->GetJob(id, bob), ErrorCode::kNotFound);
  ExpectCode(catalog_->GetJob(id + 1, {}), ErrorCode::kNotFound);
}

TEST_P(CatalogContractTest, ListJobsFiltersAndPagesNewestFirst) {
  const std::vector<std::string> owners = {"alice", "bob"};
  const std::vector<std::string> stages = {"probe", "thumbnail", "waveform"};
  std::vector<Job> all;
  for (int i = 0; i < 23; ++i) {
    std::string asset = "a" + std::to_string(i);
    Ok(catalog_->InsertAsset(MakeAsset(asset, owners[i % 2])));
    Stages job_stages = {stages[i % 3]};
    if (i % 4 == 0) job_stages.push_back(stages[(i + 1) % 3]);
    Ok(catalog_->Enqueue(MakeJob(asset, job_stages)));
    clock_.Advance(kSecond);
  }
  // Some run, some finish: claim 10 (lowest ids first), fail 4 of them, succeed 3.
  std::vector<Job> claimed = Ok(catalog_->ClaimJobs(Claimer("w1", 10)));
  ASSERT_EQ(claimed.size(), 10u);
  for (int i = 0; i < 7; ++i) {
    Ok(catalog_->FinishJob(claimed[i].id, "w1",
                           Outcome(i < 4 ? JobState::kFailed : JobState::kSucceeded)));
  }
  JobPage everything = Ok(catalog_->ListJobs({}, {}));
  all = everything.items;
  ASSERT_EQ(all.size(), 23u);
  EXPECT_TRUE(everything.next_cursor.empty());
  for (size_t i = 1; i < all.size(); ++i) EXPECT_GT(all[i - 1].id, all[i].id);

  std::vector<JobFilter> filters(1);
  for (const auto& owner : owners) {
    JobFilter f;
    f.owner = owner;
    filters.push_back(f);
  }
  for (auto state : {JobState::kQueued, JobState::kRunning, JobState::kFailed, JobState::kSucceeded,
                     JobState::kCancelled}) {
    JobFilter f;
    f.state = state;
    filters.push_back(f);
    f.owner = "bob";
    filters.push_back(f);
  }
  for (const auto& stage : stages) {
    JobFilter f;
    f.stage = stage;
    filters.push_back(f);
    f.state = JobState::kQueued;
    filters.push_back(f);
  }
  JobFilter one_asset;
  one_asset.asset_id = "a4";
  filters.push_back(one_asset);
  JobFilter no_backfill;
  no_backfill.backfill_id = 1;
  filters.push_back(no_backfill);

  for (size_t f = 0; f < filters.size(); ++f) {
    const JobFilter& filter = filters[f];
    std::vector<int64_t> expected;
    for (const auto& job : all) {
      if (filter.owner && job.owner != *filter.owner) continue;
      if (filter.state && job.state != *filter.state) continue;
      if (filter.asset_id && job.asset_id != *filter.asset_id) continue;
      if (filter.backfill_id && job.backfill_id != filter.backfill_id) continue;
      if (filter.stage &&
          std::find(job.stages.begin(), job.stages.end(), *filter.stage) == job.stages.end()) {
        continue;
      }
      expected.push_back(job.id);
    }
    for (int limit : {1, 2, 7, 1000}) {
      std::vector<int64_t> walked;
      PageRequest request;
      request.limit = limit;
      int pages = 0;
      while (true) {
        JobPage page = Ok(catalog_->ListJobs(filter, request));
        ++pages;
        EXPECT_LE(static_cast<int>(page.items.size()), limit);
        for (const auto& job : page.items) walked.push_back(job.id);
        if (page.next_cursor.empty()) break;
        request.cursor = page.next_cursor;
        ASSERT_LT(pages, 100) << "pagination does not end";
      }
      EXPECT_EQ(walked, expected) << "filter " << f << " limit " << limit;
      EXPECT_EQ(pages, std::max(1, (static_cast<int>(expected.size()) + limit - 1) / limit));
    }
  }
  for (const std::string bad : {"zz", "00", "6a6f623a", "6a6f623a2d31", "' OR 1=1 --"}) {
    PageRequest request;
    request.cursor = bad;
    ExpectCode(catalog_->ListJobs({}, request), ErrorCode::kInvalidArgument);
  }
  PageRequest zero;
  zero.limit = 0;
  ExpectCode(catalog_->ListJobs({}, zero), ErrorCode::kInvalidArgument);
  JobFilter evil;
  evil.owner = "x' OR '1'='1";
  EXPECT_TRUE(Ok(catalog_->ListJobs(evil, {})).items.empty());
}

TEST_P(CatalogContractTest, QueueStatsCountDepthRunningAndQuarantine) {
  EXPECT_TRUE(Ok(catalog_->GetQueueStats({})).depth.empty());
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  Ok(catalog_->InsertAsset(MakeAsset("a2")));
  Ok(catalog_->InsertAsset(MakeAsset("a3")));
  Ok(catalog_->InsertAsset(MakeAsset("b1", "bob")));
  const int64_t t0 = clock_.NowMicros();
  int64_t j1 = Ok(catalog_->Enqueue(MakeJob("a1", {"probe", "thumbnail"}))).job_id;
  clock_.Advance(kSecond);
  int64_t j2 = Ok(catalog_->Enqueue(MakeJob("a2", {"probe"}))).job_id;
  clock_.Advance(kSecond);
  NewJob later = MakeJob("a3", {"probe", "waveform"});
  later.run_after = clock_.NowMicros() + 3600 * kSecond;
  Ok(catalog_->Enqueue(later));
  int64_t b1 = Ok(catalog_->Enqueue(MakeJob("b1", {"probe"}))).job_id;
  // j1 runs under w1, b1 fails; j2 and a3's job wait (a3's not yet due).
  ClaimRequest claim = Claimer("w1");
  ASSERT_EQ(Ids(Ok(catalog_->ClaimJobs(claim))), std::vector<int64_t>{j1});
  const int64_t claimed_at = clock_.NowMicros();
  clock_.Advance(kSecond);
  Ok(catalog_->RenewLease(j1, "w1", 60 * kSecond));
  std::vector<Job> next = Ok(catalog_->ClaimJobs(Claimer("w2", 2)));
  ASSERT_EQ(Ids(next), (std::vector<int64_t>{j2, b1}));
  Ok(catalog_->ReleaseJob(j2, "w2"));
  Ok(catalog_->FinishJob(b1, "w2", Outcome(JobState::kFailed)));

  QueueStats stats = Ok(catalog_->GetQueueStats({}));
  auto depth = [](const QueueStats& s) {
    std::map<std::pair<std::string, JobState>, int64_t> by;
    for (const auto& d : s.depth) by[{d.stage, d.state}] = d.jobs;
    return by;
  };
  using Depth = std::map<std::pair<std::string, JobState>, int64_t>;
  EXPECT_EQ(depth(stats), (Depth{{{"probe", JobState::kQueued}, 2},
                                 {{"waveform", JobState::kQueued}, 1},
                                 {{"probe", JobState::kRunning}, 1},
                                 {{"thumbnail", JobState::kRunning}, 1},
                                 {{"probe", JobState::kFailed}, 1}}));
  EXPECT_EQ(stats.oldest_queued_at, t0 + kSecond);  // j2; a3's job is not due
  ASSERT_EQ(stats.running.size(), 1u);
  EXPECT_EQ(stats.running[0].job_id, j1);
  EXPECT_EQ(stats.running[0].asset_id, "a1");
  EXPECT_EQ(stats.running[0].worker, "w1");
  EXPECT_EQ(stats.running[0].stages, (Stages{"probe", "thumbnail"}));
  EXPECT_EQ(stats.running[0].started_at, claimed_at);
  EXPECT_EQ(stats.running[0].lease_expires_at, clock_.NowMicros() + 60 * kSecond);
  EXPECT_EQ(stats.quarantined, 0);

  AssetFilter bob;
  bob.owner = "bob";
  QueueStats bobs = Ok(catalog_->GetQueueStats(bob));
  EXPECT_EQ(depth(bobs), (Depth{{{"probe", JobState::kFailed}, 1}}));
  EXPECT_EQ(bobs.oldest_queued_at, 0);
  EXPECT_TRUE(bobs.running.empty());

  // Quarantine is counted per content the scope can see.
  for (int i = 0; i < 2; ++i) {
    Ok(catalog_->CompleteDerivative(Ok(catalog_->StartDerivative("b1", "probe", 1, "p1", {})),
                                    Failed()));
  }
  EXPECT_TRUE(Ok(catalog_->QuarantineIfRepeated("b1", "probe", "p1", 2)));
  EXPECT_EQ(Ok(catalog_->GetQueueStats({})).quarantined, 1);
  EXPECT_EQ(Ok(catalog_->GetQueueStats(bob)).quarantined, 1);
  AssetFilter alice;
  alice.owner = "alice";
  EXPECT_EQ(Ok(catalog_->GetQueueStats(alice)).quarantined, 0);
}

// ---------------------------------------------------------------------------------------
// Quarantine

TEST_P(CatalogContractTest, QuarantineCountsFailuresOfTheSameContentAcrossAssets) {
  NewAsset mine = MakeAsset("mine", "alice");
  NewAsset copy = MakeAsset("copy", "bob");
  NewAsset other = MakeAsset("other", "alice");
  mine.sha256_hex = copy.sha256_hex = "same-bytes";
  for (const auto& asset : {mine, copy, other}) Ok(catalog_->InsertAsset(asset));
  auto fail = [&](const std::string& asset, const std::string& recipe, std::string message) {
    int64_t id = Ok(catalog_->StartDerivative(asset, "thumbnail", 1, recipe, {}));
    Ok(catalog_->CompleteDerivative(id, Failed(ErrorCode::kUnsupportedMedia, std::move(message))));
  };
  const StageRecipe today{"thumbnail", "r1"};

  fail("mine", "r1", "first");
  fail("other", "r1", "unrelated");
  fail("other", "r1", "unrelated");
  fail("mine", "r0", "old recipe");  // another recipe's failures do not count
  EXPECT_FALSE(Ok(catalog_->QuarantineIfRepeated("mine", "thumbnail", "r1", 3)));
  clock_.Advance(kSecond);
  fail("copy", "r1", "second");
  EXPECT_FALSE(Ok(catalog_->QuarantineIfRepeated("copy", "thumbnail", "r1", 3)));
  EXPECT_EQ(Ok(catalog_->GetStageStatuses("mine", {today}))[0], StageStatus::kFailed);
  fail("mine", "r1", "third");
  const int64_t quarantined_at = clock_.NowMicros();
  EXPECT_TRUE(Ok(catalog_->QuarantineIfRepeated("mine", "thumbnail", "r1", 3)));

  std::vector<QuarantineEntry> entries = Ok(catalog_->ListQuarantine({}));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].sha256_hex, "same-bytes");
  EXPECT_EQ(entries[0].stage, "thumbnail");
  EXPECT_EQ(entries[0].recipe, "r1");
  EXPECT_EQ(entries[0].failures, 3);
  EXPECT_EQ(entries[0].error_code, "unsupported_media");
  EXPECT_EQ(entries[0].error_message, "third");
  EXPECT_EQ(entries[0].created_at, quarantined_at);

  // Both copies are quarantined, whoever owns them; different content is not.
  EXPECT_EQ(Ok(catalog_->GetStageStatuses("mine", {today}))[0], StageStatus::kQuarantined);
  EXPECT_EQ(Ok(catalog_->GetStageStatuses("copy", {today}))[0], StageStatus::kQuarantined);
  EXPECT_EQ(Ok(catalog_->GetStageStatuses("other", {today}))[0], StageStatus::kFailed);
  AssetFilter bob;
  bob.owner = "bob";
  AssetFilter carol;
  carol.owner = "carol";
  EXPECT_EQ(Ok(catalog_->ListQuarantine(bob)).size(), 1u);
  EXPECT_TRUE(Ok(catalog_->ListQuarantine(carol)).empty());
  StageCounts counts = Ok(catalog_->CountStageStatuses(today, {}));
  EXPECT_EQ(counts.quarantined, 2);
  EXPECT_EQ(counts.failed, 1);
  EXPECT_EQ(Ok(catalog_->CountStageStatuses(today, bob)).quarantined, 1);

  // Checking again updates the count and the latest error, not the date.
  clock_.Advance(kSecond);
  fail("copy", "r1", "fourth");
  EXPECT_TRUE(Ok(catalog_->QuarantineIfRepeated("copy", "thumbnail", "r1", 3)));
  entries = Ok(catalog_->ListQuarantine({}));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].failures, 4);
  EXPECT_EQ(entries[0].error_message, "fourth");
  EXPECT_EQ(entries[0].created_at, quarantined_at);

  // A new recipe starts afresh: the failures of r1 are outdated, not quarantined.
  const StageRecipe bumped{"thumbnail", "r2"};
  EXPECT_EQ(Ok(catalog_->GetStageStatuses("mine", {bumped}))[0], StageStatus::kOutdated);
  EXPECT_FALSE(Ok(catalog_->QuarantineIfRepeated("mine", "thumbnail", "r2", 3)));

  ExpectCode(catalog_->QuarantineIfRepeated("nope", "thumbnail", "r1", 3), ErrorCode::kNotFound);
  ExpectCode(catalog_->QuarantineIfRepeated("mine", "thumbnail", "r1", 0),
             ErrorCode::kInvalidArgument);
  ExpectCode(catalog_->QuarantineIfRepeated("mine", "", "r1", 3), ErrorCode::kInvalidArgument);
}

TEST_P(CatalogContractTest, QuarantineYieldsToSkipsAndCurrentResultsButNotToOldOnes) {
  // Four copies of one content, each with its own history, all under one quarantine entry.
  const std::vector<std::string> copies = {"failed", "skipped", "current", "outdated"};
  for (const auto& id : copies) {
    NewAsset asset = MakeAsset(id);
    asset.sha256_hex = "same";
    Ok(catalog_->InsertAsset(asset));
  }
  auto run = [&](const std::string& asset, const std::string& recipe, DerivativeOutcome outcome) {
    int64_t id = Ok(catalog_->StartDerivative(asset, "thumbnail", 1, recipe, {}));
    Ok(catalog_->CompleteDerivative(id, outcome));
  };
  run("failed", "r1", Failed());
  run("failed", "r1", Failed());
  run("skipped", "r1", Failed());
  run("skipped", "r1", Skipped());
  run("current", "r1", Failed());
  run("current", "r1", Done());
  run("outdated", "r0", Done());
  EXPECT_TRUE(Ok(catalog_->QuarantineIfRepeated("failed", "thumbnail", "r1", 3)));

  const StageRecipe today{"thumbnail", "r1"};
  std::vector<StageStatus> statuses;
  for (const auto& id : copies) statuses.push_back(Ok(catalog_->GetStageStatuses(id, {today}))[0]);
  EXPECT_EQ(statuses, (std::vector<StageStatus>{StageStatus::kQuarantined, StageStatus::kSkipped,
                                                StageStatus::kCurrent, StageStatus::kQuarantined}));
  StageCounts counts = Ok(catalog_->CountStageStatuses(today, {}));
  EXPECT_EQ(counts.quarantined, 2);
  EXPECT_EQ(counts.skipped, 1);
  EXPECT_EQ(counts.current, 1);
  EXPECT_EQ(counts.failed + counts.outdated + counts.missing, 0);
}

// ---------------------------------------------------------------------------------------
// Concurrency

TEST_P(CatalogContractTest, ConcurrentClaimersOnSeparateConnectionsClaimEachJobOnce) {
  constexpr int kJobs = 500;
  constexpr int kWorkers = 4;
  for (int i = 0; i < kJobs; ++i) {
    std::string id = "a" + std::to_string(i);
    Ok(catalog_->InsertAssetWithJob(
        MakeAsset(id),
        MakeJob(id, {"probe", "thumbnail"}, i % 3 == 0 ? kLivePriority : kBackfillPriority)));
  }
  std::vector<std::unique_ptr<Catalog>> connections;
  for (int w = 0; w < kWorkers; ++w) connections.push_back(Ok(env_->Connect(clock_)));
  std::vector<std::vector<int64_t>> claimed(kWorkers);
  std::vector<std::string> errors[kWorkers];
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      Catalog& catalog = *connections[w];
      const std::string worker = "w" + std::to_string(w);
      while (true) {
        auto jobs = catalog.ClaimJobs(Claimer(worker, 1 + w % 3));
        if (!jobs) {
          errors[w].push_back(jobs.error().ToString());
          return;
        }
        if (jobs->empty()) return;
        for (const auto& job : *jobs) {
          claimed[w].push_back(job.id);
          if (job.lease_owner != worker || job.stages.size() != 2) {
            errors[w].push_back("bad claim of job " + std::to_string(job.id));
          }
          auto finished = catalog.FinishJob(job.id, worker, Outcome(JobState::kSucceeded));
          if (!finished) errors[w].push_back(finished.error().ToString());
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int w = 0; w < kWorkers; ++w) {
    for (const auto& error : errors[w]) ADD_FAILURE() << "worker " << w << ": " << error;
  }
  std::multiset<int64_t> all;
  for (const auto& ids : claimed) all.insert(ids.begin(), ids.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kJobs));
  EXPECT_EQ(std::set<int64_t>(all.begin(), all.end()).size(), static_cast<size_t>(kJobs))
      << "some job was claimed twice";
  JobFilter succeeded;
  succeeded.state = JobState::kSucceeded;
  PageRequest big;
  big.limit = 1000;
  EXPECT_EQ(Ok(catalog_->ListJobs(succeeded, big)).items.size(), static_cast<size_t>(kJobs));
  QueueStats stats = Ok(catalog_->GetQueueStats({}));
  EXPECT_TRUE(stats.depth.empty());
  EXPECT_TRUE(stats.running.empty());
}

}  // namespace
}  // namespace reprise::catalog
