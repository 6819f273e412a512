#include "catalog/backfill_plan.h"

#include <random>

#include <gtest/gtest.h>

namespace reprise::catalog {
namespace {

PlanItem Item(int64_t stage, ItemOutcome outcome) {
  PlanItem item;
  item.stage = stage;
  item.reason = "missing";
  item.outcome = outcome;
  item.updated_at = 17;
  return item;
}

TEST(PlanItems, RoundTripEveryFieldAndLeaveDefaultsOut) {
  PlanItem full = Item(2, ItemOutcome::kFailed);
  full.from_recipe = "r\"0\\\n\x01";  // quotes, escapes and a control character
  full.job_id = 9;
  full.after_derivative = 12;
  full.skip_reason = "ütf-8";
  full.error_code = "io";
  const PlanItem bare = Item(0, ItemOutcome::kPending);
  const std::string text = EncodePlanItems({bare, full});
  EXPECT_EQ(text.substr(0, 35), R"([[0,"missing","","pending",17],[2,")") << text;
  auto decoded = DecodePlanItems(text);
  ASSERT_TRUE(decoded) << decoded.error().ToString();
  EXPECT_EQ(*decoded, (std::vector<PlanItem>{bare, full}));
  EXPECT_EQ(EncodePlanItems({}), "[]");
  EXPECT_TRUE(DecodePlanItems("[]")->empty());
}

TEST(PlanItems, DecodingSortsByStageAndTakesTheSpacedFormOfTheMigrations) {
  auto decoded = DecodePlanItems(
      R"([[2, "missing", "", "queued", 5, 7, 3, "", ""], [0, "outdated", "r0", "skipped", 4, 0, 0, "current", ""]])");
  ASSERT_TRUE(decoded) << decoded.error().ToString();
  ASSERT_EQ(decoded->size(), 2u);
  EXPECT_EQ((*decoded)[0].stage, 0);
  EXPECT_EQ((*decoded)[0].skip_reason, "current");
  EXPECT_EQ((*decoded)[1].job_id, 7);
  EXPECT_EQ((*decoded)[1].after_derivative, 3);
}

TEST(PlanItems, GarbageIsAnErrorNeverACrash) {
  for (const char* bad :
       {"", "{", "{}", "[1]", "[[]]", "[[0,\"r\",\"\",\"pending\"]]",
        "[[0,\"r\",\"\",\"pending\",1,2,3,\"\",\"\",9]]", "[[\"0\",\"r\",\"\",\"pending\",1]]",
        "[[0,1,\"\",\"pending\",1]]", "[[0,\"r\",\"\",\"lost\",1]]",
        "[[-1,\"r\",\"\",\"pending\",1]]", "[[0,\"r\",\"\",\"pending\",1.5]]",
        "[[0,\"r\",\"\",\"pending\",1],[0,\"r\",\"\",\"failed\",1]]",
        "[[0,\"r\",null,\"pending\",1]]", "\xff\xfe"}) {
    auto decoded = DecodePlanItems(bad);
    ASSERT_FALSE(decoded) << bad;
    EXPECT_EQ(decoded.error().code, ErrorCode::kInternal) << bad;
  }
  // Every cut and every byte flip of a valid text decodes or fails; none crashes.
  PlanItem item = Item(1, ItemOutcome::kSkipped);
  item.skip_reason = "not_applicable";
  const std::string text = EncodePlanItems({Item(0, ItemOutcome::kQueued), item});
  std::mt19937 random(7);
  for (size_t cut = 0; cut < text.size(); ++cut) EXPECT_FALSE(DecodePlanItems(text.substr(0, cut)));
  for (int i = 0; i < 2000; ++i) {
    std::string mutated = text;
    mutated[random() % mutated.size()] = static_cast<char>(random() % 256);
    auto decoded = DecodePlanItems(mutated);
    if (decoded) {
      EXPECT_LE(decoded->size(), 2u);
    }
  }
}

TEST(PlanItems, TallyAndCountDeltasFollowOutcomes) {
  PlanItem failed = Item(1, ItemOutcome::kFailed);
  failed.error_code = "io";
  const std::vector<PlanItem> items = {Item(0, ItemOutcome::kPending), failed,
                                       Item(2, ItemOutcome::kPending)};
  const PlanRowTally tally = TallyPlanItems(items);
  EXPECT_EQ(tally.pending, 2);
  EXPECT_EQ(tally.failed, 1);

  PlanCountDeltas deltas;
  for (const auto& item : items) deltas.Add(item, 1);
  PlanItem skipped = items[0];
  skipped.outcome = ItemOutcome::kSkipped;
  skipped.skip_reason = "current";
  deltas.Move(items[0], skipped);
  using Key = PlanCountDeltas::Key;
  EXPECT_EQ(deltas.Changes(),
            (std::map<Key, int64_t>{
                {{"failed", "io"}, 1}, {{"pending", ""}, 1}, {{"skipped", "current"}, 1}}));

  BackfillCounts counts;
  for (const auto& [key, n] : deltas.Changes()) {
    ASSERT_TRUE(AddCountRow(counts, key.first, key.second, n));
  }
  EXPECT_EQ(counts.total, 3);
  EXPECT_EQ(counts.Count(ItemOutcome::kPending), 1);
  EXPECT_EQ(counts.skipped_by_reason, (std::map<std::string, int64_t>{{"current", 1}}));
  EXPECT_EQ(counts.failed_by_code, (std::map<std::string, int64_t>{{"io", 1}}));
  EXPECT_FALSE(AddCountRow(counts, "lost", "", 1));
}

TEST(PlanItems, FailedExamplesAreThreeDistinctAssetsPerCode) {
  BackfillCounts counts;
  counts.failed_by_code = {{"io", 8}};
  PlanItem failed = Item(0, ItemOutcome::kFailed);
  failed.error_code = "io";
  PlanItem also = failed;
  also.stage = 1;
  EXPECT_FALSE(AddFailedExamples(counts, "a1", {failed, also}));
  EXPECT_FALSE(AddFailedExamples(counts, "a2", {Item(0, ItemOutcome::kProcessed), also}));
  EXPECT_TRUE(AddFailedExamples(counts, "a3", {failed}));
  EXPECT_EQ(counts.failed_examples.at("io"), (std::vector<std::string>{"a1", "a2", "a3"}));
}

TEST(PlanItems, APageSkipsFiltersAndStops) {
  const std::vector<StageRecipe> stages = {{"probe", "p1"}, {"thumbnail", "t1"}};
  PlanItem failed = Item(1, ItemOutcome::kFailed);
  PlanItemPage page(stages, ItemOutcome::kFailed, 1, 2);
  EXPECT_TRUE(*page.Add(1, "a1", {Item(0, ItemOutcome::kPending), failed}));
  EXPECT_TRUE(*page.Add(2, "a2", {failed}));
  EXPECT_FALSE(*page.Add(3, "a3", {failed, failed}));
  std::vector<BackfillItem> items = page.Take();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].asset_id, "a2");
  EXPECT_EQ(items[0].stage, "thumbnail");
  EXPECT_EQ(items[0].to_recipe, "t1");
  EXPECT_EQ(items[1].asset_id, "a3");

  PlanItemPage unknown(stages, std::nullopt, 0, 10);
  EXPECT_FALSE(unknown.Add(1, "a1", {Item(5, ItemOutcome::kPending)}));
}

}  // namespace
}  // namespace reprise::catalog
