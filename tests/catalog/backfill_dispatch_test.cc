#include "catalog/backfill_dispatch.h"

#include <gtest/gtest.h>

namespace reprise::catalog {
namespace {

TEST(BackfillDispatch, ForcedByTheRequestOrByTheItemsReason) {
  DispatchRequest request;
  request.force_reasons = {"quarantined"};
  EXPECT_TRUE(ForcedFor(request, "quarantined"));
  EXPECT_FALSE(ForcedFor(request, "missing"));
  request.force = true;
  EXPECT_TRUE(ForcedFor(request, "missing"));
}

TEST(BackfillDispatch, NormalStagesFirstThenForcedOnesIntoTheSameJob) {
  DispatchRequest request;
  request.priority = 7;
  request.max_attempts = 2;
  request.mark_processing = false;
  std::vector<NewJob> jobs;
  auto enqueue = [&](const NewJob& job) -> Result<EnqueueResult> {
    jobs.push_back(job);
    EnqueueResult result;
    result.job_id = 41;
    result.enqueued = job.stages;
    return result;
  };
  auto result = EnqueueBackfillItems(
      enqueue, 3, "a1", {{1, "probe", false}, {2, "thumbnail", true}, {3, "hls", false}}, request);
  ASSERT_TRUE(result) << result.error().ToString();
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].stages, (std::vector<std::string>{"probe", "hls"}));
  EXPECT_FALSE(jobs[0].force);
  EXPECT_EQ(jobs[1].stages, (std::vector<std::string>{"thumbnail"}));
  EXPECT_TRUE(jobs[1].force);
  for (const auto& job : jobs) {
    EXPECT_EQ(job.asset_id, "a1");
    EXPECT_EQ(job.backfill_id, 3);
    EXPECT_EQ(job.priority, 7);
    EXPECT_EQ(job.max_attempts, 2);
    EXPECT_TRUE(job.keep_status);
  }
  EXPECT_EQ(result->job_id, 41);
  EXPECT_EQ(result->enqueued, (std::vector<std::string>{"probe", "hls", "thumbnail"}));

  jobs.clear();
  auto none = EnqueueBackfillItems(enqueue, 3, "a1", {}, request);
  ASSERT_TRUE(none);
  EXPECT_TRUE(jobs.empty());
  EXPECT_EQ(none->job_id, 0);
}

TEST(BackfillDispatch, AnEnqueueErrorIsReturned) {
  auto enqueue = [](const NewJob&) -> Result<EnqueueResult> {
    return Fail(ErrorCode::kNotFound, "asset a1 not found");
  };
  auto result = EnqueueBackfillItems(enqueue, 1, "a1", {{1, "probe", false}}, {});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kNotFound);
}

TEST(BackfillDispatch, AnAttemptDecidesHowAQueuedItemEnds) {
  ItemEnd done = EndOfQueuedItem(ItemAttempt{"done", "", ""}, false, JobState::kFailed, "x");
  EXPECT_EQ(done.outcome, "processed");
  ItemEnd skipped =
      EndOfQueuedItem(ItemAttempt{"skipped", "no_audio", ""}, true, JobState::kSucceeded, "");
  EXPECT_EQ(skipped.outcome, "skipped");
  EXPECT_EQ(skipped.skip_reason, "no_audio");
  ItemEnd failed =
      EndOfQueuedItem(ItemAttempt{"failed", "", "timeout"}, false, JobState::kSucceeded, "");
  EXPECT_EQ(failed.outcome, "failed");
  EXPECT_EQ(failed.error_code, "timeout");
}

TEST(BackfillDispatch, WithoutAnAttemptTheJobAndTheCurrentResultDecide) {
  auto end = [](bool is_current, JobState state, std::string_view code) {
    return EndOfQueuedItem(std::nullopt, is_current, state, code);
  };
  EXPECT_EQ(end(true, JobState::kSucceeded, "").skip_reason, "current");
  EXPECT_EQ(end(true, JobState::kFailed, "boom").skip_reason, "current");
  EXPECT_EQ(end(true, JobState::kCancelled, "").outcome, "cancelled");
  EXPECT_EQ(end(false, JobState::kCancelled, "").outcome, "cancelled");
  ItemEnd failed = end(false, JobState::kFailed, "");
  EXPECT_EQ(failed.outcome, "failed");
  EXPECT_EQ(failed.error_code, "internal");
  EXPECT_EQ(end(false, JobState::kFailed, "oom").error_code, "oom");
  ItemEnd not_due = end(false, JobState::kSucceeded, "");
  EXPECT_EQ(not_due.outcome, "skipped");
  EXPECT_EQ(not_due.skip_reason, "not_due");
}

TEST(BackfillDispatch, MediansOfRunsPerMediaMinuteAndBytes) {
  EXPECT_EQ(Median({}), 0);
  EXPECT_EQ(Median({3, 1, 2}), 2);
  EXPECT_EQ(Median({4, 1, 3, 2}), 3);  // the upper middle
  StageHistorySamples samples;
  samples.Add(2'000'000, 100, 60.0);
  samples.Add(4'000'000, 300, std::nullopt);  // no duration: no per-minute sample
  samples.Add(6'000'000, 200, 30.0);
  StageHistory history = samples.Medians();
  EXPECT_EQ(history.samples, 3);
  EXPECT_DOUBLE_EQ(history.median_seconds, 4);
  EXPECT_DOUBLE_EQ(history.median_bytes, 200);
  EXPECT_DOUBLE_EQ(history.median_seconds_per_media_minute, 12);  // {2, 12}: upper
}

}  // namespace
}  // namespace reprise::catalog
