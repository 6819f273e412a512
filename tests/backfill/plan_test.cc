// The selection rule of backfill/plan.h, pair by pair, for every mode.
#include "backfill/plan.h"

#include <gtest/gtest.h>

namespace reprise::backfill {
namespace {

using catalog::BackfillMode;
using catalog::DerivativeState;
using catalog::PairDecision;
using catalog::StagePair;

const std::string kToday = "today";

// The situations a pair can be in, named as the status precedence reads them.
StagePair Pair(const std::string& situation) {
  StagePair pair;
  pair.asset_id = "a";
  if (situation == "missing") return pair;
  pair.result_recipe = kToday;
  if (situation == "current") {
    pair.current_recipe = kToday;
    pair.latest = DerivativeState::kDone;
  } else if (situation == "outdated") {
    pair.current_recipe = "older";
    pair.result_recipe = "older";
  } else if (situation == "skipped_by_older_recipe") {
    pair.result_recipe = "older";
  } else if (situation == "failed_by_older_recipe") {
    pair.result_recipe = "older";
  } else if (situation == "failed") {
    pair.latest = DerivativeState::kFailed;
    pair.latest_error_code = "io";
  } else if (situation == "failed_with_older_result") {
    pair.current_recipe = "older";
    pair.latest = DerivativeState::kFailed;
  } else if (situation == "not_applicable") {
    pair.latest = DerivativeState::kSkipped;
    pair.latest_skip_reason = "no_audio_stream";
  } else if (situation == "quarantined") {
    pair.latest = DerivativeState::kFailed;
    pair.quarantined = true;
  } else if (situation == "active") {
    pair.current_recipe = "older";
    pair.result_recipe = "older";
    pair.active = true;
  }
  return pair;
}

std::string Decide(const std::string& situation, BackfillMode mode, bool quarantined = false) {
  PairDecision decision = Classify(Pair(situation), kToday, mode, quarantined);
  std::string action = decision.action == PairDecision::kSelect ? "select " : "leave ";
  return action + decision.reason;
}

TEST(Classify, OutdatedSelectsMissingAndOtherRecipesWhateverTheirOutcome) {
  EXPECT_EQ(Decide("missing", BackfillMode::kOutdated), "select missing");
  EXPECT_EQ(Decide("outdated", BackfillMode::kOutdated), "select outdated");
  EXPECT_EQ(Decide("skipped_by_older_recipe", BackfillMode::kOutdated), "select outdated");
  EXPECT_EQ(Decide("failed_by_older_recipe", BackfillMode::kOutdated), "select outdated");
  EXPECT_EQ(Decide("current", BackfillMode::kOutdated), "leave current");
  EXPECT_EQ(Decide("failed", BackfillMode::kOutdated), "leave failed");
  EXPECT_EQ(Decide("failed_with_older_result", BackfillMode::kOutdated), "leave failed");
  EXPECT_EQ(Decide("not_applicable", BackfillMode::kOutdated), "leave no_audio_stream");
  EXPECT_EQ(Decide("quarantined", BackfillMode::kOutdated), "leave quarantined");
  EXPECT_EQ(Decide("active", BackfillMode::kOutdated), "leave already_active");
}

TEST(Classify, MissingSelectsOnlyPairsNeverAttempted) {
  EXPECT_EQ(Decide("missing", BackfillMode::kMissing), "select missing");
  EXPECT_EQ(Decide("outdated", BackfillMode::kMissing), "leave outdated");
  EXPECT_EQ(Decide("skipped_by_older_recipe", BackfillMode::kMissing), "leave outdated");
  EXPECT_EQ(Decide("failed_by_older_recipe", BackfillMode::kMissing), "leave outdated");
  EXPECT_EQ(Decide("current", BackfillMode::kMissing), "leave current");
  EXPECT_EQ(Decide("failed", BackfillMode::kMissing), "leave failed");
}

TEST(Classify, FailedSelectsTodaysFailuresAndQuarantineOnlyWhenAsked) {
  EXPECT_EQ(Decide("failed", BackfillMode::kFailed), "select failed");
  EXPECT_EQ(Decide("failed_with_older_result", BackfillMode::kFailed), "select failed");
  EXPECT_EQ(Decide("failed_by_older_recipe", BackfillMode::kFailed), "leave outdated");
  EXPECT_EQ(Decide("missing", BackfillMode::kFailed), "leave missing");
  EXPECT_EQ(Decide("current", BackfillMode::kFailed), "leave current");
  EXPECT_EQ(Decide("quarantined", BackfillMode::kFailed), "leave quarantined");
  EXPECT_EQ(Decide("quarantined", BackfillMode::kFailed, true), "select quarantined");
}

TEST(Classify, AllRebuildsEverythingButActiveQuarantinedAndNotApplicablePairs) {
  EXPECT_EQ(Decide("current", BackfillMode::kAll), "select rebuild");
  EXPECT_EQ(Decide("not_applicable", BackfillMode::kAll), "leave no_audio_stream");
  EXPECT_EQ(Decide("missing", BackfillMode::kAll), "select missing");
  EXPECT_EQ(Decide("outdated", BackfillMode::kAll), "select outdated");
  EXPECT_EQ(Decide("skipped_by_older_recipe", BackfillMode::kAll), "select outdated");
  EXPECT_EQ(Decide("failed", BackfillMode::kAll), "select failed");
  EXPECT_EQ(Decide("active", BackfillMode::kAll), "leave already_active");
  EXPECT_EQ(Decide("quarantined", BackfillMode::kAll), "leave quarantined");
  EXPECT_EQ(Decide("quarantined", BackfillMode::kAll, true), "select quarantined");
}

TEST(Classify, NotApplicableIsMarkedInEveryMode) {
  for (auto mode : {BackfillMode::kOutdated, BackfillMode::kMissing, BackfillMode::kFailed,
                    BackfillMode::kAll}) {
    PairDecision decision = Classify(Pair("not_applicable"), kToday, mode, true);
    EXPECT_EQ(decision.action, PairDecision::kLeave) << Name(mode);
    EXPECT_TRUE(decision.not_applicable) << Name(mode);
    EXPECT_FALSE(Classify(Pair("current"), kToday, mode, true).not_applicable) << Name(mode);
  }
}

TEST(Classify, AQuarantineEntryDoesNotHideAResultOfTodaysRecipe) {
  StagePair pair = Pair("current");
  pair.quarantined = true;
  EXPECT_EQ(Classify(pair, kToday, BackfillMode::kOutdated, false).reason, "current");
}

TEST(Selector, LimitCountsAssetsNotPairsAndStopsAtTheNextAsset) {
  Selector select({{"probe", kToday}, {"thumbnail", kToday}}, BackfillMode::kOutdated, false, 2);
  auto pair = [](const std::string& asset, size_t stage) {
    StagePair p;
    p.asset_id = asset;
    p.stage_index = stage;
    return p;
  };
  EXPECT_EQ(select(pair("a", 0)).action, PairDecision::kSelect);
  EXPECT_EQ(select(pair("a", 1)).action, PairDecision::kSelect);
  StagePair current = pair("b", 0);
  current.current_recipe = kToday;
  EXPECT_EQ(select(current).action, PairDecision::kLeave);  // b not counted yet
  EXPECT_EQ(select(pair("b", 1)).action, PairDecision::kSelect);
  EXPECT_EQ(select(pair("c", 0)).action, PairDecision::kStop);
  EXPECT_EQ(select.assets_selected(), 2);
  EXPECT_TRUE(select.limited());
}

// A plan of chapters (asked for) over semantics and scenes, consumers first, as
// Service::Recipes orders them: chapters consumes semantics, which consumes scenes.
std::string Decided(Selector& select, const std::string& asset, size_t stage,
                    const std::string& situation) {
  StagePair pair = Pair(situation);
  pair.asset_id = asset;
  pair.stage_index = stage;
  PairDecision decision = select(pair);
  return (decision.action == PairDecision::kSelect ? "select " : "leave ") + decision.reason;
}

TEST(Selector, InputsOfASelectedConsumerComeAlongWhenTheyAreNotCurrent) {
  StageGraph graph{{{1}, {2}, {}}, {false, true, true}};
  Selector select({{"chapters", kToday}, {"semantics", kToday}, {"scenes", kToday}},
                  BackfillMode::kOutdated, false, std::nullopt, graph);
  // Asset a: chapters missing, so its outdated input comes and that one's missing input.
  EXPECT_EQ(Decided(select, "a", 0, "missing"), "select missing");
  EXPECT_EQ(Decided(select, "a", 1, "outdated"), "select input");
  EXPECT_EQ(Decided(select, "a", 2, "missing"), "select input");
  // Asset b: chapters missing, its inputs current: they stay.
  EXPECT_EQ(Decided(select, "b", 0, "missing"), "select missing");
  EXPECT_EQ(Decided(select, "b", 1, "current"), "leave current");
  EXPECT_EQ(Decided(select, "b", 2, "current"), "leave current");
  // Asset c: chapters current, so nothing of its inputs is planned, outdated or not: they
  // were not asked for. (A current consumer has current inputs unless one was rebuilt
  // since, which outdates the consumer.)
  EXPECT_EQ(Decided(select, "c", 0, "current"), "leave current");
  EXPECT_EQ(Decided(select, "c", 1, "outdated"), "leave outdated");
  EXPECT_EQ(Decided(select, "c", 2, "missing"), "leave missing");
  // Asset d: an input failed under today's recipe is retried only in modes failed and all;
  // one a job holds now is left to it.
  EXPECT_EQ(Decided(select, "d", 0, "outdated"), "select outdated");
  EXPECT_EQ(Decided(select, "d", 1, "failed"), "leave failed");
  EXPECT_EQ(Decided(select, "e", 0, "outdated"), "select outdated");
  EXPECT_EQ(Decided(select, "e", 1, "active"), "leave already_active");
  EXPECT_EQ(select.assets_selected(), 4);

  Selector all({{"chapters", kToday}, {"semantics", kToday}, {"scenes", kToday}},
               BackfillMode::kAll, false, std::nullopt, graph);
  EXPECT_EQ(Decided(all, "a", 0, "current"), "select rebuild");
  EXPECT_EQ(Decided(all, "a", 1, "failed"), "select input");
  // Mode all rebuilds what was asked for, not current inputs.
  EXPECT_EQ(Decided(all, "a", 2, "current"), "leave current");
}

TEST(Selector, AStageAskedForAndConsumedIsSelectedEitherWay) {
  // thumbnail asked for; contact_sheet asked for and consumes it.
  StageGraph graph{{{1}, {}}, {false, false}};
  Selector select({{"contact_sheet", kToday}, {"thumbnail", kToday}}, BackfillMode::kMissing, false,
                  std::nullopt, graph);
  // Mode missing leaves an outdated thumbnail, but the missing sheet needs today's.
  EXPECT_EQ(Decided(select, "a", 0, "missing"), "select missing");
  EXPECT_EQ(Decided(select, "a", 1, "outdated"), "select input");
  EXPECT_EQ(Decided(select, "b", 0, "current"), "leave current");
  EXPECT_EQ(Decided(select, "b", 1, "outdated"), "leave outdated");
  EXPECT_EQ(Decided(select, "c", 0, "current"), "leave current");
  EXPECT_EQ(Decided(select, "c", 1, "missing"), "select missing");
}

TEST(PlanBuilder, EstimatesFromHistoryPerMediaMinuteAndCosts) {
  PlanBuilder builder({{"transcript", kToday}}, BackfillMode::kOutdated, false, std::nullopt, 1);
  for (const char* id : {"a", "b", "c"}) {
    StagePair pair;
    pair.asset_id = id;
    pair.duration_seconds = 120;  // two media minutes each
    builder.Add(pair);
  }
  catalog::StageHistory history;
  history.samples = 10;
  history.median_seconds = 99;  // not used: per media minute is known
  history.median_seconds_per_media_minute = 3;
  history.median_bytes = 1000;
  CostModel cost;
  cost.per_asset = 0.5;
  cost.per_media_minute = 0.25;
  Pacing pacing;
  pacing.concurrency = 2;
  PlanReport report = builder.Finish({{"transcript", {history, HistorySource::kRecipe}}},
                                     {{"transcript", cost}}, pacing);
  ASSERT_EQ(report.stages.size(), 1u);
  EXPECT_EQ(report.items, 3);
  EXPECT_EQ(report.first_items.size(), 1u);
  EXPECT_DOUBLE_EQ(report.stages[0].media_seconds, 360);
  EXPECT_DOUBLE_EQ(report.stages[0].estimated_seconds, 18);  // 6 media minutes x 3 s
  EXPECT_DOUBLE_EQ(report.estimated_seconds, 12);            // 3 jobs of 6 s on 2 slots
  EXPECT_DOUBLE_EQ(report.estimated_cost, 3 * 0.5 + 6 * 0.25);
  EXPECT_DOUBLE_EQ(report.estimated_bytes, 3000);
}

TEST(PlanBuilder, CountsNotApplicablePairsApartAndOlderSkipsAsOutdatedFromTheirRecipe) {
  PlanBuilder builder({{"thumbnail", kToday}}, BackfillMode::kAll, false, std::nullopt, 10);
  for (const char* situation : {"not_applicable", "not_applicable", "skipped_by_older_recipe"}) {
    builder.Add(Pair(situation));
  }
  PlanReport report = builder.Finish({}, {}, Pacing{});
  const StagePlan& stage = report.stages.at(0);
  using Counts = std::map<std::string, int64_t>;
  EXPECT_EQ(stage.selected_by_reason, (Counts{{"outdated", 1}}));
  EXPECT_EQ(stage.outdated_from, (Counts{{"older", 1}}));
  EXPECT_EQ(stage.left_by_reason, (Counts{{"no_audio_stream", 2}}));
  EXPECT_EQ(stage.not_applicable, (Counts{{"no_audio_stream", 2}}));
  ASSERT_EQ(report.first_items.size(), 1u);
  EXPECT_EQ(report.first_items[0].from_recipe, "older");
  nlohmann::json doc = PlanJson(report)["stages"][0];
  EXPECT_EQ(doc["not_applicable"], nlohmann::json({{"no_audio_stream", 2}}));
  EXPECT_EQ(doc["left_by_reason"], nlohmann::json({{"no_audio_stream", 2}}));
}

TEST(CostModels, UnknownKeysAndNegativePricesAreRefused) {
  EXPECT_TRUE(ParseCostModels({{"transcript", {{"per_media_minute", 0.006}}}}));
  EXPECT_FALSE(ParseCostModels({{"transcript", {{"per_minute", 1}}}}));
  EXPECT_FALSE(ParseCostModels({{"transcript", {{"per_asset", -1}}}}));
  EXPECT_FALSE(ParseCostModels({{"transcript", 3}}));
}

}  // namespace
}  // namespace reprise::backfill
