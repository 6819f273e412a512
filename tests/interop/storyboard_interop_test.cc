// The storyboard stage's storyboard.vtt as an independent WebVTT parser reads it (npm
// webvtt-parser 2.2.0, installed by scripts/install-deps.sh): it parses without errors,
// its cues cover the whole duration without gaps, and each #xywh tile lies inside its
// sheet as the JPEG itself says (tests/interop/webvtt/check_storyboard.js). The stage
// runs on generated videos in the real decode pass; its files are written to a folder
// with the relative names a player resolves.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "stages/storyboard_stage.h"
#include "tests/stages/memory_sink.h"
#include "tests/stages/storyboard_samples.h"
#include "tests/support/media_suite.h"

namespace reprise::stages {
namespace {

using ::testing::HasSubstr;

class StoryboardInterop : public testing::MediaSuite {
 protected:
  void SetUp() override {
    ASSERT_EQ(testing::RunCommand({"test", "-d", std::string(kDir) + "/node_modules/webvtt-parser"})
                  .exit_code,
              0)
        << "the WebVTT parser is missing: run scripts/install-deps.sh (npm ci in " << kDir << ")";
  }

  // Runs the stage on `input` and writes its files into a fresh folder; its metadata.
  nlohmann::json Storyboard(const std::string& input, const std::string& folder) {
    auto stage = StoryboardStage::Create(nullptr);
    EXPECT_TRUE(stage.has_value());
    MemorySink sink;
    StageOutcome outcome = RunAlone(**stage, input, sink);
    EXPECT_EQ(outcome.state, catalog::DerivativeState::kDone)
        << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
    EXPECT_EQ(testing::RunCommand({"mkdir", "-p", dir_.Join(folder)}).exit_code, 0);
    for (const auto& [name, bytes] : sink.files) {
      testing::WriteFile(dir_.Join(folder + "/" + name), bytes);
    }
    return outcome.result.metadata;
  }

  // The parser's verdict: its JSON summary, or its list of problems.
  testing::CommandResult Check(const std::string& folder, double duration) {
    return testing::RunCommand({"node", std::string(kDir) + "/check_storyboard.js",
                                dir_.Join(folder), std::to_string(duration)});
  }

  // The whole check for one input: accepted, every cue and sheet seen as the stage says.
  void ExpectAccepted(const std::string& input, const std::string& folder,
                      std::optional<double> duration) {
    nlohmann::json meta = Storyboard(input, folder);
    ASSERT_TRUE(meta.contains("tiles")) << meta.dump();
    double end = duration ? *duration : meta["duration_seconds"].get<double>();
    testing::CommandResult verdict = Check(folder, end);
    ASSERT_EQ(verdict.exit_code, 0) << verdict.output;
    auto summary = nlohmann::json::parse(verdict.out);
    EXPECT_EQ(summary["cues"], meta["tiles"]);
    EXPECT_EQ(summary["sheets"].size(), meta["sheets"].get<size_t>());
    const int full_width = meta["tile_width"].get<int>() * meta["columns"].get<int>();
    const int full_height = meta["tile_height"].get<int>() * meta["rows"].get<int>();
    for (const auto& [name, size] : summary["sheets"].items()) {
      EXPECT_LE(size[0].get<int>(), full_width) << name;
      EXPECT_LE(size[1].get<int>(), full_height) << name;
    }
  }

  static constexpr const char* kDir = REPRISE_WEBVTT_DIR;
  testing::TempDir dir_;
};

TEST_F(StoryboardInterop, ShortVideo) {
  std::string input = dir_.Join("short.mp4");
  ASSERT_TRUE(testing::ColourSteps(input, {.frame_rate = 5, .seconds = 3, .step = 1}));
  ExpectAccepted(input, "short", 3.0);
}

TEST_F(StoryboardInterop, TwentyMinuteVideoOverTwoSheets) {
  std::string input = dir_.Join("long.mp4");
  ASSERT_TRUE(testing::ColourSteps(input, {.frame_rate = 2, .seconds = 1200, .step = 10}));
  ExpectAccepted(input, "long", 1200.0);
}

TEST_F(StoryboardInterop, OddSizedAndRotatedVideos) {
  ExpectAccepted(samples_->OddSizeMp4(), "odd", 1.0);
  ExpectAccepted(samples_->RotatedPhoneMp4(), "rotated", std::nullopt);
}

TEST_F(StoryboardInterop, LiveLikeVideoWithoutDuration) {
  std::string input = dir_.Join("live.mkv");
  ASSERT_TRUE(testing::ColourSteps(
      input, {.frame_rate = 2, .seconds = 25, .step = 10, .unknown_duration = true}));
  ExpectAccepted(input, "live", 25.0);
}

// The judge is not blind: a storyboard with a cue removed, or a tile moved off its
// sheet, is rejected with the reason.
TEST_F(StoryboardInterop, TheCheckRejectsAGapAndATileOutsideItsSheet) {
  std::string input = dir_.Join("short.mp4");
  ASSERT_TRUE(testing::ColourSteps(input, {.frame_rate = 5, .seconds = 3, .step = 1}));
  Storyboard(input, "broken");
  const std::string vtt_path = dir_.Join("broken/storyboard.vtt");
  const std::string vtt = testing::ReadFile(vtt_path);

  std::string gap = vtt;
  size_t second = gap.find("00:00:01.000 -->");
  ASSERT_NE(second, std::string::npos) << vtt;
  gap.erase(second, gap.find("\n\n", second) + 2 - second);
  testing::WriteFile(vtt_path, gap);
  testing::CommandResult verdict = Check("broken", 3.0);
  EXPECT_EQ(verdict.exit_code, 1);
  EXPECT_THAT(verdict.out, HasSubstr("gap or overlap"));

  std::string outside = vtt;
  size_t tile = outside.find("#xywh=320,0,");
  ASSERT_NE(tile, std::string::npos) << vtt;
  outside.replace(tile, std::string("#xywh=320,0,").size(), "#xywh=400,0,");
  testing::WriteFile(vtt_path, outside);
  verdict = Check("broken", 3.0);
  EXPECT_EQ(verdict.exit_code, 1);
  EXPECT_THAT(verdict.out, HasSubstr("outside 480x90"));

  testing::WriteFile(vtt_path, vtt);
  EXPECT_EQ(Check("broken", 3.0).exit_code, 0);
}

}  // namespace
}  // namespace reprise::stages
