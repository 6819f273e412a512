// Backfill time estimates (backfill/estimate.h and PlanBuilder::Finish): the pacing
// options bound the wall time as the Driver applies them, a job costs its slowest stage,
// and the plan says whose history each stage's estimate comes from.
#include "backfill/estimate.h"

#include <gtest/gtest.h>

#include "backfill/plan.h"

namespace reprise::backfill {
namespace {

using catalog::BackfillMode;
using catalog::StagePair;

Pacing Paced(int concurrency, double rate, double delay, double poll = 0) {
  Pacing pacing;
  pacing.concurrency = concurrency;
  pacing.rate_per_second = rate;
  pacing.delay_seconds = delay;
  pacing.poll_seconds = poll;
  return pacing;
}

TEST(PacedSeconds, WithoutPacingTheWorkIsSharedByTheSlots) {
  EXPECT_DOUBLE_EQ(PacedSeconds(0, 1.0, Paced(2, 0, 0)), 0);
  EXPECT_DOUBLE_EQ(PacedSeconds(4, 1.0, Paced(1, 0, 0)), 4);
  EXPECT_DOUBLE_EQ(PacedSeconds(4, 1.0, Paced(2, 0, 0)), 2);
  EXPECT_DOUBLE_EQ(PacedSeconds(3, 1.0, Paced(2, 0, 0)), 2) << "whole jobs, not a third each";
  EXPECT_DOUBLE_EQ(PacedSeconds(3, 1.0, Paced(8, 0, 0)), 1) << "min(concurrency, jobs) slots";
}

TEST(PacedSeconds, ADelayLeavesAtLeastJobsMinusOneDelays) {
  // Short jobs: the delays make the duration.
  EXPECT_DOUBLE_EQ(PacedSeconds(10, 0.1, Paced(4, 0, 2.0)), 9 * 2.0 + 0.1);
  // Long jobs on one slot: the work does.
  EXPECT_DOUBLE_EQ(PacedSeconds(3, 5.0, Paced(1, 0, 2.0)), 15);
  // The driver steps when a start is due: a delay is not rounded up to its polls.
  EXPECT_NEAR(PacedSeconds(3, 0, Paced(1, 0, 0.25, 0.1)), 2 * 0.25 + 0.05, 1e-9);
  EXPECT_DOUBLE_EQ(PacingSeconds(10, Paced(4, 0, 2.0)), 18);
}

TEST(PacedSeconds, ARateStartsABucketAtOnceThenOnePerInterval) {
  // 2/s: two at once, then the other four half a second apart.
  EXPECT_DOUBLE_EQ(PacedSeconds(6, 0.1, Paced(8, 2.0, 0)), 4 * 0.5 + 0.1);
  EXPECT_DOUBLE_EQ(PacingSeconds(6, Paced(8, 2.0, 0)), 2.0);
  // Slower than 1/s: the bucket holds one start.
  EXPECT_DOUBLE_EQ(PacingSeconds(3, Paced(8, 0.5, 0)), 4.0);
  // Rate and delay together: the stricter one wins.
  EXPECT_DOUBLE_EQ(PacingSeconds(6, Paced(8, 2.0, 1.0)), 5.0);
  EXPECT_DOUBLE_EQ(PacedSeconds(6, 0, Paced(8, 2.0, 1.0)), 5.0);
}

TEST(PacedSeconds, BusySlotsHoldStartsBackAndTheBucketDoesNotOverfill) {
  // One slot, 1 s jobs, 10/s: the slot, not the rate, paces; the bucket refills while
  // the slot is busy but never beyond its size.
  EXPECT_DOUBLE_EQ(PacedSeconds(5, 1.0, Paced(1, 10.0, 0)), 5.0);
  // A freed slot waits for the driver's next step, half a poll on average.
  EXPECT_DOUBLE_EQ(PacedSeconds(3, 1.0, Paced(1, 0, 0, 0.2)), 3 * 1.0 + 2 * 0.1 + 0.1);
}

TEST(JobTally, AJobCostsItsSlowestStageNotTheSumOfItsStages) {
  JobTally tally;
  // Two assets run stages 0 and 1 (60 s and 120 s of media); one runs stage 1 only
  // (an image, no duration).
  tally.Add("a", 0, 60.0);
  tally.Add("a", 1, 60.0);
  tally.Add("b", 0, 120.0);
  tally.Add("b", 1, 120.0);
  tally.Add("c", 1, std::nullopt);
  EXPECT_EQ(tally.jobs(), 3);
  const std::vector<StageTime> times = {{/*per_run=*/2.0, /*per_media_minute=*/1.0},
                                        {/*per_run=*/0.5, /*per_media_minute=*/0.0}};
  // a: max(1 s, 0.5 s); b: max(2 s, 0.5 s); c: 0.5 s.
  EXPECT_DOUBLE_EQ(tally.WorkSeconds(times), 1.0 + 2.0 + 0.5);
  EXPECT_DOUBLE_EQ(tally.StageSeconds(0, times[0]), 3.0);
  EXPECT_DOUBLE_EQ(tally.StageSeconds(1, times[1]), 1.5);
}

TEST(PlanBuilder, TheEstimateCountsThePacingAndSaysWhereItsHistoryComesFrom) {
  PlanBuilder builder({{"thumbnail", "new"}, {"hls", "new"}, {"waveform", "new"}},
                      BackfillMode::kOutdated, false, std::nullopt, 0);
  for (const char* id : {"a", "b", "c", "d", "e"}) {
    for (size_t stage = 0; stage < 3; ++stage) {
      StagePair pair;
      pair.asset_id = id;
      pair.stage_index = stage;
      pair.duration_seconds = 60;
      builder.Add(pair);
    }
  }
  catalog::StageHistory thumbnail;
  thumbnail.samples = 5;
  thumbnail.median_seconds = 0.2;
  catalog::StageHistory hls;
  hls.samples = 7;
  hls.median_seconds = 3;
  hls.median_seconds_per_media_minute = 4;
  PlanReport report = builder.Finish({{"thumbnail", {thumbnail, HistorySource::kRecipe}},
                                      {"hls", {hls, HistorySource::kOtherRecipes}},
                                      {"waveform", {}}},
                                     {}, Paced(2, 0, 2.0));
  ASSERT_EQ(report.stages.size(), 3u);
  EXPECT_EQ(report.stages[0].history_source, HistorySource::kRecipe);
  EXPECT_EQ(report.stages[1].history_source, HistorySource::kOtherRecipes);
  EXPECT_EQ(report.stages[2].history_source, HistorySource::kNone);
  EXPECT_DOUBLE_EQ(report.work_seconds, 5 * 4.0) << "each job at hls, its slowest stage";
  EXPECT_DOUBLE_EQ(report.pacing_seconds, 4 * 2.0);
  // Starts at 0, 2, 4 (a slot frees at 4), 6, 8; the last ends at 12.
  EXPECT_DOUBLE_EQ(report.estimated_seconds, 12.0);

  nlohmann::json json = PlanJson(report);
  EXPECT_EQ(json["stages"][1]["history"],
            nlohmann::json({{"samples", 7}, {"source", "other_recipes"}, {"alone", false}}));
  EXPECT_EQ(json["stages"][2]["history"],
            nlohmann::json({{"samples", 0}, {"source", "none"}, {"alone", false}}));
  EXPECT_DOUBLE_EQ(json["delay_seconds"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(json["pacing_seconds"].get<double>(), 8.0);
}

}  // namespace
}  // namespace reprise::backfill
