#include "stages/builtin.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "stages/recipe.h"
#include "stages/registry.h"
#include "tests/stages/fake_stage.h"

namespace reprise::stages {
namespace {

Registry Sealed(const nlohmann::json& config) {
  Registry registry;
  auto added = AddBuiltinStages(registry, config);
  EXPECT_TRUE(added.has_value()) << (added ? "" : added.error().ToString());
  auto sealed = registry.Seal();
  EXPECT_TRUE(sealed.has_value()) << (sealed ? "" : sealed.error().ToString());
  return registry;
}

Error AddError(const nlohmann::json& config) {
  Registry registry;
  auto added = AddBuiltinStages(registry, config);
  EXPECT_FALSE(added.has_value()) << config.dump();
  return added ? Error{} : added.error();
}

TEST(BuiltinStages, RegistersEveryStageInOrderWithDefaults) {
  Registry registry = Sealed(nullptr);
  std::vector<std::string> names;
  for (const Stage* stage : registry.All()) {
    names.emplace_back(stage->Name());
    // scenes@2 added per-scene motion.
    EXPECT_EQ(stage->Version(), stage->Name() == "scenes" ? 2 : 1) << stage->Name();
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"probe", "thumbnail", "cover", "audio", "waveform", "hls",
                                      "loudness", "tempo", "key", "fingerprint", "scenes",
                                      "storyboard", "transcript", "semantics", "chapters"}));
  auto all = registry.All();
  EXPECT_EQ(all[1]->Params(), nlohmann::json({{"width", 320}, {"quality", 3}}));
  EXPECT_EQ(registry.Recipe("thumbnail"),
            ComputeRecipe("thumbnail", 1, {{"width", 320}, {"quality", 3}}, {}));
  EXPECT_EQ(registry.Recipe("thumbnail").size(), 16u);
  // An empty table is the same as no table.
  EXPECT_EQ(Sealed(nlohmann::json::object()).Recipe("thumbnail"), registry.Recipe("thumbnail"));
}

TEST(BuiltinStages, AParamChangesOnlyThatStagesRecipe) {
  Registry defaults = Sealed(nullptr);
  Registry wider = Sealed({{"thumbnail", {{"width", 480}}}});
  EXPECT_EQ(wider.Find("thumbnail")->Params()["width"], 480);
  EXPECT_NE(wider.Recipe("thumbnail"), defaults.Recipe("thumbnail"));
  EXPECT_EQ(wider.Recipe("probe"), defaults.Recipe("probe"));
  // Setting a param to its default value is no change at all.
  EXPECT_EQ(Sealed({{"thumbnail", {{"width", 320}}}}).Recipe("thumbnail"),
            defaults.Recipe("thumbnail"));
}

TEST(BuiltinStages, APipelineListRegistersOnlyThoseInBuiltinOrder) {
  Registry registry;
  ASSERT_TRUE(AddBuiltinStages(registry, nullptr, {"hls", "probe", "audio"}));
  ASSERT_TRUE(registry.Seal());
  std::vector<std::string> names;
  for (const Stage* stage : registry.All()) names.emplace_back(stage->Name());
  EXPECT_EQ(names, (std::vector<std::string>{"probe", "audio", "hls"}));
  // Params of a stage left out are still checked, so a typo never hides.
  Registry other;
  auto typo = AddBuiltinStages(other, {{"thumbnale", {{"width", 1}}}}, {"probe"});
  ASSERT_FALSE(typo);
  Registry unknown;
  auto wrong = AddBuiltinStages(unknown, nullptr, {"probe", "subtitles"});
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("subtitles"), std::string::npos);
}

TEST(BuiltinStages, AWholeNumberForAFloatParamIsTheSameRecipe) {
  Registry defaults = Sealed(nullptr);
  Registry whole = Sealed({{"hls", {{"segment_seconds", 2}}}});
  EXPECT_EQ(whole.Recipe("hls"), defaults.Recipe("hls")) << "2 means 2.0, the default";
  EXPECT_TRUE(whole.Find("hls")->Params()["segment_seconds"].is_number_float());
  EXPECT_NE(Sealed({{"hls", {{"segment_seconds", 3}}}}).Recipe("hls"), defaults.Recipe("hls"));
}

TEST(BuiltinStages, RejectsUnknownOrMistypedParamsNamingStageAndParam) {
  Error unknown = AddError({{"thumbnail", {{"widht", 480}}}});
  EXPECT_EQ(unknown.code, ErrorCode::kInvalidArgument);
  EXPECT_NE(unknown.message.find("'thumbnail'"), std::string::npos) << unknown.message;
  EXPECT_NE(unknown.message.find("'widht'"), std::string::npos) << unknown.message;

  Error mistyped = AddError({{"thumbnail", {{"quality", "high"}}}});
  EXPECT_EQ(mistyped.code, ErrorCode::kInvalidArgument);
  EXPECT_NE(mistyped.message.find("'quality'"), std::string::npos) << mistyped.message;

  Error fractional = AddError({{"thumbnail", {{"width", 320.5}}}});
  EXPECT_EQ(fractional.code, ErrorCode::kInvalidArgument);

  Error out_of_range = AddError({{"thumbnail", {{"width", 100000}}}});
  EXPECT_NE(out_of_range.message.find("16..4096"), std::string::npos) << out_of_range.message;

  Error unknown_stage = AddError({{"thumbnails", {{"width", 480}}}});
  EXPECT_NE(unknown_stage.message.find("thumbnails"), std::string::npos);

  EXPECT_EQ(AddError({{"thumbnail", 480}}).code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(AddError(nlohmann::json::array()).code, ErrorCode::kInvalidArgument);
}

TEST(BuiltinStages, RegisteringTwiceConflicts) {
  Registry registry;
  ASSERT_TRUE(AddBuiltinStages(registry, nullptr).has_value());
  auto again = AddBuiltinStages(registry, nullptr);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
}

TEST(Recipe, ChangesWithVersion) {
  Registry v1;
  ASSERT_TRUE(v1.Add(std::make_unique<FakeStage>("waveform", 1, nlohmann::json{{"width", 1800}},
                                                 FakeBehaviour{}))
                  .has_value());
  ASSERT_TRUE(v1.Seal().has_value());
  Registry v2;
  ASSERT_TRUE(v2.Add(std::make_unique<FakeStage>("waveform", 2, nlohmann::json{{"width", 1800}},
                                                 FakeBehaviour{}))
                  .has_value());
  ASSERT_TRUE(v2.Seal().has_value());
  EXPECT_NE(v1.Recipe("waveform"), v2.Recipe("waveform"));
  EXPECT_NE(ComputeRecipe("waveform", 1, {{"width", 1800}}, {}),
            ComputeRecipe("waveform", 1, {{"width", 1801}}, {}));
}

// A stage built from thumbnails is outdated when the thumbnails change, even though
// its own name, version and params did not.
TEST(Recipe, InputsRecipesFeedDependents) {
  auto with_sheet = [](const nlohmann::json& config) {
    Registry registry;
    EXPECT_TRUE(AddBuiltinStages(registry, config).has_value());
    EXPECT_TRUE(registry
                    .Add(std::make_unique<FakeStage>("contact_sheet", 1, nlohmann::json::object(),
                                                     FakeBehaviour{},
                                                     std::vector<std::string>{"thumbnail"}))
                    .has_value());
    EXPECT_TRUE(registry.Seal().has_value());
    return registry;
  };
  Registry before = with_sheet(nullptr);
  Registry after = with_sheet({{"thumbnail", {{"quality", 5}}}});
  EXPECT_NE(before.Recipe("contact_sheet"), after.Recipe("contact_sheet"));
  EXPECT_EQ(before.Recipe("probe"), after.Recipe("probe"));
}

}  // namespace
}  // namespace reprise::stages
