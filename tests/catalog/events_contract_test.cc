// The events and outgoing webhooks part of the Catalog contract (catalog.h, "Events and
// outgoing webhooks"), run against every backend like catalog_contract_test.cc: an
// event is written with the change it reports and never without it.

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/catalog/catalog_contract.h"

namespace reprise::catalog {
namespace {

std::vector<Event> AllEvents(Catalog& catalog, std::optional<std::string> owner = std::nullopt,
                             std::vector<std::string> types = {}) {
  EventQuery query;
  query.owner = std::move(owner);
  query.types = std::move(types);
  query.limit = 1000;
  return Ok(catalog.ListEvents(query));
}

std::vector<std::string> Types(const std::vector<Event>& events) {
  std::vector<std::string> types;
  for (const auto& event : events) types.push_back(event.type);
  return types;
}

NewJob JobFor(const std::string& asset_id, std::vector<std::string> stages) {
  NewJob job;
  job.asset_id = asset_id;
  job.stages = std::move(stages);
  return job;
}

ClaimRequest Claimer(const std::string& worker, int max_jobs = 100) {
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

NewWebhookSubscription Subscription(const std::string& owner, std::vector<std::string> events,
                                    const std::string& url = "http://127.0.0.1:9/hook") {
  NewWebhookSubscription subscription;
  subscription.owner = owner;
  subscription.url = url;
  subscription.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  subscription.events = std::move(events);
  return subscription;
}

Backfill SelectEverything(Catalog& catalog, const std::vector<std::string>& stages,
                          const std::string& owner = "alice") {
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

TEST_P(CatalogContractTest, InsertingAnAssetWritesAssetCreatedOnceOnly) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  Ok(catalog_->InsertAsset(MakeAsset("a1")));  // the same content again: nothing new
  auto events = AllEvents(*catalog_);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "asset.created");
  EXPECT_EQ(events[0].owner, "alice");
  EXPECT_EQ(events[0].asset_id, "a1");
  EXPECT_EQ(events[0].data["kind"], "video");
  EXPECT_EQ(events[0].created_at, clock_.NowMicros());
  EXPECT_EQ(Ok(catalog_->LatestEventId()), events[0].id);
}

TEST_P(CatalogContractTest, AFailedInsertWithJobLeavesNoEvent) {
  NewJob bad = JobFor("", {""});  // an empty stage name: the whole insert fails
  EXPECT_FALSE(catalog_->InsertAssetWithJob(MakeAsset("a1"), bad));
  EXPECT_TRUE(AllEvents(*catalog_).empty());
  EXPECT_EQ(Ok(catalog_->LatestEventId()), 0);
}

TEST_P(CatalogContractTest, AssetStatusEventsAreWrittenOnRealChangesOnly) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  Ok(catalog_->SetAssetStatus("a1", AssetStatus::kProcessing));
  Ok(catalog_->SetAssetStatus("a1", AssetStatus::kProcessing));
  Ok(catalog_->SetAssetStatus("a1", AssetStatus::kReady));
  Ok(catalog_->SetAssetStatus("a1", AssetStatus::kReady));
  Ok(catalog_->SetAssetStatus("a1", AssetStatus::kPending));
  Ok(catalog_->SetAssetStatus("a1", AssetStatus::kFailed));
  EXPECT_EQ(catalog_->SetAssetStatus("nope", AssetStatus::kReady).error().code,
            ErrorCode::kNotFound);
  auto events = AllEvents(*catalog_);
  EXPECT_EQ(Types(events), (std::vector<std::string>{"asset.created", "asset.processing",
                                                     "asset.ready", "asset.failed"}));
  EXPECT_EQ(events[2].data["previous_status"], "processing");
  EXPECT_EQ(events[3].data["previous_status"], "pending");
  for (size_t i = 1; i < events.size(); ++i) EXPECT_GT(events[i].id, events[i - 1].id);
}

TEST_P(CatalogContractTest, FinishingAJobWritesJobFinishedAndAFailedFinishWritesNothing) {
  Ok(catalog_->InsertAssetWithJob(MakeAsset("a1"), JobFor("", {"probe", "thumbnail"})));
  auto jobs = Ok(catalog_->ClaimJobs(Claimer("w1")));
  ASSERT_EQ(jobs.size(), 1u);
  int64_t before = Ok(catalog_->LatestEventId());
  // Not the holder: kConflict, and no event.
  EXPECT_EQ(catalog_->FinishJob(jobs[0].id, "w2", Outcome(JobState::kSucceeded)).error().code,
            ErrorCode::kConflict);
  EXPECT_EQ(Ok(catalog_->LatestEventId()), before);

  Ok(catalog_->FinishJob(jobs[0].id, "w1",
                         Outcome(JobState::kFailed, Error{ErrorCode::kIo, "disk gone", ""})));
  auto events = AllEvents(*catalog_, std::nullopt, {"job.finished"});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].job_id, jobs[0].id);
  EXPECT_EQ(events[0].asset_id, "a1");
  EXPECT_EQ(events[0].owner, "alice");
  EXPECT_EQ(events[0].data["state"], "failed");
  EXPECT_EQ(events[0].data["stages"], (nlohmann::json{"probe", "thumbnail"}));
  EXPECT_EQ(events[0].data["error_code"], "io");
  EXPECT_EQ(events[0].data["attempts"], 1);
}

TEST_P(CatalogContractTest, CancellingAQueuedJobAndReapingAnExhaustedOneWriteJobFinished) {
  Ok(catalog_->InsertAssetWithJob(MakeAsset("a1"), JobFor("", {"probe"})));
  NewJob once = JobFor("", {"probe"});
  once.max_attempts = 1;
  Ok(catalog_->InsertAssetWithJob(MakeAsset("a2"), once));
  auto a1_job = Ok(catalog_->ListJobs({}, PageRequest{"", 100})).items;
  ASSERT_EQ(a1_job.size(), 2u);
  int64_t a1_id = a1_job[0].asset_id == "a1" ? a1_job[0].id : a1_job[1].id;
  Ok(catalog_->CancelJob(a1_id, {}));
  auto claimed = Ok(catalog_->ClaimJobs(Claimer("w1")));
  ASSERT_EQ(claimed.size(), 1u);
  clock_.Advance(60 * kSecond);
  EXPECT_EQ(Ok(catalog_->ReapExpiredLeases()), 1);
  auto events = AllEvents(*catalog_, std::nullopt, {"job.finished"});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data["state"], "cancelled");
  EXPECT_EQ(events[1].data["state"], "failed");
  EXPECT_EQ(events[1].data["error_code"], "unavailable");
}

TEST_P(CatalogContractTest, BackfillProgressIsWrittenAtMostOncePerSecondAndFinishedOnce) {
  for (const char* id : {"a1", "a2", "a3"}) Ok(catalog_->InsertAsset(MakeAsset(id)));
  Backfill backfill = SelectEverything(*catalog_, {"probe"});
  DispatchRequest dispatch;
  dispatch.max_assets = 10;
  Ok(catalog_->DispatchBackfill(backfill.id, dispatch));
  auto jobs = Ok(catalog_->ClaimJobs(Claimer("w1")));
  ASSERT_EQ(jobs.size(), 3u);
  Ok(catalog_->FinishJob(jobs[0].id, "w1", Outcome(JobState::kSucceeded)));
  clock_.Advance(kBackfillProgressIntervalMicros - 1);
  Ok(catalog_->FinishJob(jobs[1].id, "w1", Outcome(JobState::kSucceeded)));  // too soon
  clock_.Advance(1);
  Ok(catalog_->FinishJob(jobs[2].id, "w1", Outcome(JobState::kSucceeded)));
  auto progress = AllEvents(*catalog_, std::nullopt, {"backfill.progress"});
  ASSERT_EQ(progress.size(), 2u);
  EXPECT_EQ(progress[0].backfill_id, backfill.id);
  EXPECT_EQ(progress[0].owner, "alice");
  EXPECT_EQ(progress[0].data["state"], "running");
  EXPECT_EQ(progress[0].data["counts"]["total"], 3);
  EXPECT_EQ(progress[1].data["counts"]["queued"], 0);
  // The items settled with the job, in its transaction: the counts say so.
  EXPECT_EQ(progress[0].data["counts"]["queued"], 2);
  EXPECT_EQ(progress[0].data["counts"]["skipped"].get<int>() +
                progress[0].data["counts"]["processed"].get<int>(),
            1);

  Ok(catalog_->SetBackfillState(backfill.id, {BackfillState::kRunning}, BackfillState::kSucceeded,
                                ""));
  // Refused (already final): no second event.
  EXPECT_FALSE(catalog_->SetBackfillState(backfill.id, {BackfillState::kRunning},
                                          BackfillState::kFailed, "late"));
  auto finished = AllEvents(*catalog_, std::nullopt, {"backfill.finished"});
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(finished[0].data["state"], "succeeded");
  EXPECT_EQ(finished[0].data["counts"]["total"], 3);
}

TEST_P(CatalogContractTest, PausingABackfillWritesNoFinishedEvent) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  Backfill backfill = SelectEverything(*catalog_, {"probe"});
  Ok(catalog_->SetBackfillState(backfill.id, {BackfillState::kRunning}, BackfillState::kPaused,
                                ""));
  EXPECT_TRUE(AllEvents(*catalog_, std::nullopt, {"backfill.finished"}).empty());
}

TEST_P(CatalogContractTest, EventsAreListedAfterAnIdScopedByOwnerAndType) {
  Ok(catalog_->InsertAsset(MakeAsset("a1", "alice")));
  Ok(catalog_->InsertAsset(MakeAsset("b1", "bob")));
  Ok(catalog_->SetAssetStatus("a1", AssetStatus::kReady));
  Ok(catalog_->SetAssetStatus("b1", AssetStatus::kFailed));
  auto all = AllEvents(*catalog_);
  ASSERT_EQ(all.size(), 4u);
  auto alice = AllEvents(*catalog_, "alice");
  EXPECT_EQ(Types(alice), (std::vector<std::string>{"asset.created", "asset.ready"}));
  for (const auto& event : alice) EXPECT_EQ(event.owner, "alice");
  EXPECT_EQ(Types(AllEvents(*catalog_, std::nullopt, {"asset.failed", "asset.ready"})),
            (std::vector<std::string>{"asset.ready", "asset.failed"}));

  EventQuery after;
  after.after_id = all[1].id;
  after.limit = 1;
  auto page = Ok(catalog_->ListEvents(after));
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].id, all[2].id);
  after.limit = 0;
  EXPECT_EQ(catalog_->ListEvents(after).error().code, ErrorCode::kInvalidArgument);
}

TEST_P(CatalogContractTest, TheListenerHearsCommittedEventsOnly) {
  // PostgreSQL also tells them again from its listening thread: each id once on this one.
  std::vector<int64_t> heard;
  const int64_t id = catalog_->AddChangeListener(
      [&heard, thread = std::this_thread::get_id()](const Change& change) {
        if (std::this_thread::get_id() == thread && change.Has(ChangeTopic::kEvents)) {
          heard.push_back(change.newest_event_id);
        }
      });
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  EXPECT_FALSE(catalog_->InsertAssetWithJob(MakeAsset("a2"), JobFor("", {""})));
  Ok(catalog_->SetAssetStatus("a1", AssetStatus::kPending));  // no change, no event
  Ok(catalog_->SetAssetStatus("a1", AssetStatus::kReady));
  auto events = AllEvents(*catalog_);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(heard, (std::vector<int64_t>{events[0].id, events[1].id}));
  catalog_->RemoveChangeListener(id);
}

TEST_P(CatalogContractTest, PruningDropsOldEventsAndNeverReusesTheirIds) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  Ok(catalog_->SetAssetStatus("a1", AssetStatus::kReady));
  clock_.Advance(10 * kSecond);
  const int64_t cutoff = clock_.NowMicros();
  Ok(catalog_->SetAssetStatus("a1", AssetStatus::kFailed));
  int64_t latest = Ok(catalog_->LatestEventId());
  EXPECT_EQ(Ok(catalog_->PruneEvents(cutoff)), 2);
  EXPECT_EQ(Types(AllEvents(*catalog_)), (std::vector<std::string>{"asset.failed"}));
  EXPECT_EQ(Ok(catalog_->PruneEvents(clock_.NowMicros() + 1)), 1);
  EXPECT_EQ(Ok(catalog_->LatestEventId()), latest) << "the cursor does not move back";
  Ok(catalog_->SetAssetStatus("a1", AssetStatus::kReady));
  EXPECT_GT(AllEvents(*catalog_).at(0).id, latest);
}

TEST_P(CatalogContractTest, WebhookSubscriptionsAreCheckedAndScopedByOwner) {
  auto bad_type = Subscription("alice", {"job.finished"});
  EXPECT_EQ(catalog_->CreateWebhookSubscription(bad_type).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(catalog_->CreateWebhookSubscription(Subscription("alice", {})).error().code,
            ErrorCode::kInvalidArgument);
  auto alice = Ok(catalog_->CreateWebhookSubscription(Subscription("alice", {"asset.ready"})));
  auto bob = Ok(catalog_->CreateWebhookSubscription(Subscription("bob", {"asset.ready"})));
  EXPECT_EQ(alice.origin, "api");
  EXPECT_EQ(alice.events, (std::vector<std::string>{"asset.ready"}));

  AssetFilter as_alice;
  as_alice.owner = "alice";
  auto listed = Ok(catalog_->ListWebhookSubscriptions(as_alice));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id, alice.id);
  EXPECT_EQ(Ok(catalog_->ListWebhookSubscriptions({})).size(), 2u);
  EXPECT_EQ(catalog_->GetWebhookSubscription(bob.id, as_alice).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(catalog_->DeleteWebhookSubscription(bob.id, as_alice).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(catalog_->ListWebhookDeliveries(bob.id, as_alice, 10).error().code,
            ErrorCode::kNotFound);
  Ok(catalog_->DeleteWebhookSubscription(bob.id, {}));
  EXPECT_EQ(catalog_->GetWebhookSubscription(bob.id, {}).error().code, ErrorCode::kNotFound);
}

TEST_P(CatalogContractTest, WebhookEventsFanOutToMatchingSubscriptionsInTheirTransaction) {
  auto alice = Ok(catalog_->CreateWebhookSubscription(Subscription("alice", {"asset.ready"})));
  auto bob = Ok(catalog_->CreateWebhookSubscription(Subscription("bob", {"asset.ready"})));
  auto everyone = Ok(catalog_->CreateWebhookSubscription(
      Subscription("", {"asset.failed", "asset.ready", "backfill.finished"})));
  Ok(catalog_->InsertAsset(MakeAsset("a1", "alice")));  // asset.created: never delivered
  Ok(catalog_->SetAssetStatus("a1", AssetStatus::kProcessing));
  Ok(catalog_->SetAssetStatus("a1", AssetStatus::kReady));

  EXPECT_EQ(Ok(catalog_->ListWebhookDeliveries(bob.id, {}, 10)).size(), 0u);
  auto to_alice = Ok(catalog_->ListWebhookDeliveries(alice.id, {}, 10));
  auto to_everyone = Ok(catalog_->ListWebhookDeliveries(everyone.id, {}, 10));
  ASSERT_EQ(to_alice.size(), 1u);
  ASSERT_EQ(to_everyone.size(), 1u);
  EXPECT_EQ(to_alice[0].event_type, "asset.ready");
  EXPECT_EQ(to_alice[0].state, DeliveryState::kPending);
  EXPECT_EQ(to_alice[0].next_attempt_at, clock_.NowMicros());
  auto payload = nlohmann::json::parse(to_alice[0].payload);
  EXPECT_EQ(payload["type"], "asset.ready");
  EXPECT_EQ(payload["data"]["asset_id"], "a1");
  EXPECT_EQ(payload["data"]["id"], to_alice[0].event_id);
  EXPECT_EQ(to_everyone[0].payload, to_alice[0].payload);
}

TEST_P(CatalogContractTest, DeliveriesAreLeasedRetriedAndEndWithTheirAttemptLog) {
  auto hook = Ok(catalog_->CreateWebhookSubscription(Subscription("alice", {"asset.ready"})));
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  Ok(catalog_->SetAssetStatus("a1", AssetStatus::kReady));

  auto claim = Ok(catalog_->ClaimWebhookDeliveries(10, 30 * kSecond));
  ASSERT_EQ(claim.deliveries.size(), 1u);
  const int64_t id = claim.deliveries[0].id;
  EXPECT_EQ(claim.next_due_at, clock_.NowMicros() + 30 * kSecond) << "leased, not gone";
  EXPECT_TRUE(Ok(catalog_->ClaimWebhookDeliveries(10, 30 * kSecond)).deliveries.empty());

  WebhookAttempt refused;
  refused.status_code = 500;
  refused.error = "HTTP 500";
  refused.duration_micros = 1200;
  auto retried = Ok(catalog_->RecordWebhookAttempt(id, refused, clock_.NowMicros() + kSecond));
  EXPECT_EQ(retried.state, DeliveryState::kPending);
  EXPECT_EQ(retried.attempts, 1);
  EXPECT_EQ(retried.last_status, 500);
  EXPECT_TRUE(Ok(catalog_->ClaimWebhookDeliveries(10, 30 * kSecond)).deliveries.empty());
  clock_.Advance(kSecond);
  ASSERT_EQ(Ok(catalog_->ClaimWebhookDeliveries(10, 30 * kSecond)).deliveries.size(), 1u);

  WebhookAttempt accepted;
  accepted.status_code = 204;
  auto done = Ok(catalog_->RecordWebhookAttempt(id, accepted, std::nullopt));
  EXPECT_EQ(done.state, DeliveryState::kSucceeded);
  EXPECT_EQ(done.finished_at, clock_.NowMicros());
  EXPECT_EQ(catalog_->RecordWebhookAttempt(id, accepted, std::nullopt).error().code,
            ErrorCode::kConflict);
  EXPECT_FALSE(Ok(catalog_->ClaimWebhookDeliveries(10, kSecond)).next_due_at);

  auto log = Ok(catalog_->ListWebhookDeliveries(hook.id, {}, 10));
  ASSERT_EQ(log.size(), 1u);
  ASSERT_EQ(log[0].attempt_log.size(), 2u);
  EXPECT_EQ(log[0].attempt_log[0].attempt, 1);
  EXPECT_EQ(log[0].attempt_log[0].status_code, 500);
  EXPECT_EQ(log[0].attempt_log[0].error, "HTTP 500");
  EXPECT_EQ(log[0].attempt_log[1].attempt, 2);
  EXPECT_EQ(log[0].attempt_log[1].status_code, 204);
}

TEST_P(CatalogContractTest, ADeliveryWithoutARetryTimeFailsAndDeletingItsSubscriptionDropsIt) {
  auto hook = Ok(catalog_->CreateWebhookSubscription(Subscription("alice", {"asset.failed"})));
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  Ok(catalog_->SetAssetStatus("a1", AssetStatus::kFailed));
  auto claim = Ok(catalog_->ClaimWebhookDeliveries(10, kSecond));
  ASSERT_EQ(claim.deliveries.size(), 1u);
  WebhookAttempt refused;
  refused.error = "connection refused";
  auto failed = Ok(catalog_->RecordWebhookAttempt(claim.deliveries[0].id, refused, std::nullopt));
  EXPECT_EQ(failed.state, DeliveryState::kFailed);
  EXPECT_FALSE(failed.last_status);
  Ok(catalog_->DeleteWebhookSubscription(hook.id, {}));
  EXPECT_EQ(
      catalog_->RecordWebhookAttempt(claim.deliveries[0].id, refused, std::nullopt).error().code,
      ErrorCode::kNotFound);
}

TEST_P(CatalogContractTest, ConfiguredSubscriptionsAreSyncedByUrlAndOwner) {
  auto api = Ok(catalog_->CreateWebhookSubscription(Subscription("alice", {"asset.ready"})));
  Ok(catalog_->SyncConfigWebhookSubscriptions({Subscription("", {"asset.ready"}, "http://one/"),
                                               Subscription("", {"asset.ready"}, "http://two/")}));
  auto first = Ok(catalog_->ListWebhookSubscriptions({}));
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[1].origin, "config");
  Ok(catalog_->SyncConfigWebhookSubscriptions({Subscription("", {"asset.failed"}, "http://two/")}));
  auto second = Ok(catalog_->ListWebhookSubscriptions({}));
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second[0].id, api.id) << "subscriptions made through the API are left alone";
  EXPECT_EQ(second[1].id, first[2].id) << "kept: same id";
  EXPECT_EQ(second[1].events, (std::vector<std::string>{"asset.failed"}));
}

}  // namespace
}  // namespace reprise::catalog
