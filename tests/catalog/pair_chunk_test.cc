#include "catalog/pair_chunk.h"

#include <gtest/gtest.h>

namespace reprise::catalog {
namespace {

std::vector<StagePair> VisitAll(PairChunk& chunk) {
  std::vector<StagePair> pairs;
  EXPECT_TRUE(chunk.Visit([&](const StagePair& pair) {
    pairs.push_back(pair);
    return true;
  }));
  return pairs;
}

TEST(PairChunk, RowsGoToEveryAssetWithTheKeyAndEveryAskedStageOfTheirName) {
  const std::vector<StageRecipe> stages = {
      {"thumbnail", "r1"}, {"probe", "p1"}, {"thumbnail", "r2"}};
  PairChunk chunk(stages);
  chunk.Add({"b", 2, 30.0, "same"});
  chunk.Add({"a", 1, std::nullopt, "same"});
  const PairChunk::Keys ids = chunk.AssetIds();
  EXPECT_EQ(ids.json, R"(["a","b"])") << "sorted";
  const PairChunk::Keys contents = chunk.Contents();
  EXPECT_EQ(contents.json, R"(["same"])") << "distinct";

  // Asset b (key 1): today's r1 failed after an older r0 result that is current, a
  // newer attempt still running, and a probe skip.
  ASSERT_TRUE(chunk.AddDerivative(ids, 1, "thumbnail", 5, "r1", false, "failed", "", "io"));
  ASSERT_TRUE(chunk.AddDerivative(ids, 1, "thumbnail", 3, "r0", true, "done", "", ""));
  ASSERT_TRUE(chunk.AddDerivative(ids, 1, "thumbnail", 9, "r1", false, "running", "", ""));
  ASSERT_TRUE(chunk.AddDerivative(ids, 1, "probe", 4, "p1", false, "skipped", "no_audio", ""));
  ASSERT_TRUE(chunk.AddDerivative(ids, 1, "waveform", 6, "w1", true, "done", "", ""))
      << "a stage not asked for is ignored";
  ASSERT_TRUE(chunk.MarkActive(ids, 0, "probe"));
  ASSERT_TRUE(chunk.MarkQuarantined(contents, 0, "thumbnail", "r2"));

  std::vector<StagePair> pairs = VisitAll(chunk);
  ASSERT_EQ(pairs.size(), 6u);
  EXPECT_EQ(pairs[0].asset_id, "b") << "plan order is the order added";
  EXPECT_EQ(pairs[0].duration_seconds, 30.0);
  EXPECT_EQ(pairs[0].stage_index, 0u);
  EXPECT_EQ(pairs[0].current_recipe, "r0");
  EXPECT_EQ(pairs[0].result_recipe, "r1") << "the finished attempt with the highest id";
  EXPECT_EQ(pairs[0].latest, DerivativeState::kFailed);
  EXPECT_EQ(pairs[0].latest_error_code, "io");
  EXPECT_FALSE(pairs[0].quarantined);
  EXPECT_EQ(pairs[1].latest, DerivativeState::kSkipped);
  EXPECT_EQ(pairs[1].latest_skip_reason, "no_audio");
  EXPECT_FALSE(pairs[1].active);
  // The thumbnail asked again with recipe r2: the same rows, another today's recipe.
  EXPECT_EQ(pairs[2].current_recipe, "r0");
  EXPECT_EQ(pairs[2].result_recipe, "r1");
  EXPECT_FALSE(pairs[2].latest);
  EXPECT_TRUE(pairs[2].quarantined) << "content shared by both assets";
  EXPECT_TRUE(pairs[5].quarantined);

  EXPECT_EQ(pairs[3].asset_id, "a");
  EXPECT_EQ(pairs[3].current_recipe, "");
  EXPECT_EQ(pairs[3].created_at, 1);
  EXPECT_TRUE(pairs[4].active);
  EXPECT_TRUE(chunk.Empty()) << "visiting empties the chunk";
}

TEST(PairChunk, AVisitorStopsTheVisitAndARowOutOfRangeIsAnError) {
  const std::vector<StageRecipe> stages = {{"thumbnail", "r1"}};
  PairChunk chunk(stages);
  chunk.Add({"a", 1, std::nullopt, "x"});
  chunk.Add({"b", 2, std::nullopt, "y"});
  const PairChunk::Keys ids = chunk.AssetIds();
  auto out_of_range = chunk.MarkActive(ids, 2, "thumbnail");
  ASSERT_FALSE(out_of_range);
  EXPECT_EQ(out_of_range.error().code, ErrorCode::kInternal);
  auto bad_state = chunk.AddDerivative(ids, 0, "thumbnail", 1, "r0", false, "weird", "", "");
  EXPECT_FALSE(bad_state);
  int visits = 0;
  EXPECT_FALSE(chunk.Visit([&](const StagePair&) { return ++visits < 1; }));
  EXPECT_EQ(visits, 1);
}

TEST(PairChunk, RowsOfTheLastAssetGoToItAndTheCapacityBoundsTheChunk) {
  const std::vector<StageRecipe> stages = {{"thumbnail", "r1"}, {"probe", "r1"}};
  PairChunk chunk(stages, 2);
  auto orphan = chunk.AddDerivativeOfLast("thumbnail", 1, "r1", true, "done", "", "");
  ASSERT_FALSE(orphan) << "a row before any asset";
  EXPECT_EQ(orphan.error().code, ErrorCode::kInternal);
  chunk.Add({"b", 1, std::nullopt, ""});
  ASSERT_TRUE(chunk.AddDerivativeOfLast("thumbnail", 4, "r0", true, "done", "", ""));
  EXPECT_FALSE(chunk.Full());
  chunk.Add({"a", 2, std::nullopt, ""});
  EXPECT_TRUE(chunk.Full()) << "capacity 2";
  ASSERT_TRUE(chunk.AddDerivativeOfLast("probe", 5, "r1", false, "failed", "", "io"));
  ASSERT_TRUE(chunk.AddDerivativeOfLast("probe", 3, "r1", true, "done", "", ""));
  EXPECT_FALSE(chunk.AddDerivativeOfLast("probe", 6, "r1", false, "weird", "", ""));

  std::vector<StagePair> pairs = VisitAll(chunk);
  ASSERT_EQ(pairs.size(), 4u);
  EXPECT_EQ(pairs[0].asset_id, "b");
  EXPECT_EQ(pairs[0].current_recipe, "r0");
  EXPECT_EQ(pairs[1].current_recipe, "") << "b has no probe row";
  EXPECT_EQ(pairs[2].current_recipe, "") << "a has no thumbnail row";
  EXPECT_EQ(pairs[3].asset_id, "a");
  EXPECT_EQ(pairs[3].current_recipe, "r1");
  EXPECT_EQ(pairs[3].latest, DerivativeState::kFailed) << "the later attempt";
  EXPECT_EQ(pairs[3].latest_error_code, "io");
}

}  // namespace
}  // namespace reprise::catalog
