#include "stages/storyboard_stage.h"

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "media/ffmpeg.h"
#include "stages/runner.h"
#include "tests/media/media_test_util.h"
#include "tests/stages/memory_sink.h"
#include "tests/stages/storyboard_samples.h"
#include "tests/support/media_suite.h"

namespace reprise::stages {
namespace {

using testing::ColourNear;
using testing::ColourSteps;
using testing::ColourStepsSpec;
using testing::MeanColour;
using testing::StepColour;
using testing::StoryboardCue;

// What a run wrote, read back: the cues and each sheet decoded to RGB.
struct Storyboard {
  StageOutcome outcome;
  std::vector<StoryboardCue> cues;
  std::map<std::string, media::FramePtr> sheets;
  const nlohmann::json& meta() const { return outcome.result.metadata; }
};

class StoryboardStageTest : public testing::MediaSuite {
 protected:
  static std::unique_ptr<StoryboardStage> Stage(const nlohmann::json& overrides = nullptr) {
    auto stage = StoryboardStage::Create(overrides);
    EXPECT_TRUE(stage.has_value()) << (stage ? "" : stage.error().ToString());
    return stage ? std::move(*stage) : nullptr;
  }

  std::string Make(const std::string& name, const ColourStepsSpec& spec) {
    std::string path = dir_.Join(name);
    EXPECT_TRUE(ColourSteps(path, spec));
    return path;
  }

  // Runs the stage on `path` and checks what every storyboard must satisfy: files as
  // recorded, cues in order covering [0, end] without gaps or overlaps, each #xywh tile
  // of the tile size and inside its (decoded) sheet, every sheet named by some cue.
  static Storyboard Run(const std::string& path, const nlohmann::json& overrides = nullptr) {
    Storyboard board;
    auto stage = Stage(overrides);
    MemorySink sink;
    board.outcome = RunAlone(*stage, path, sink);
    if (board.outcome.state != catalog::DerivativeState::kDone) return board;
    const nlohmann::json& meta = board.meta();
    EXPECT_EQ(sink.blobs.size(), sink.files.size());
    EXPECT_EQ(sink.blobs.size(), meta["sheets"].get<size_t>() + 1);
    for (const catalog::OutputBlob& blob : sink.blobs) {
      EXPECT_EQ(blob.content_type, blob.name == "storyboard.vtt" ? "text/vtt" : "image/jpeg");
      EXPECT_EQ(blob.size, static_cast<int64_t>(sink.files[blob.name].size())) << blob.name;
    }
    EXPECT_EQ(sink.blobs.back().name, "storyboard.vtt");  // after the sheets it names
    auto cues = testing::ParseStoryboardVtt(sink.files["storyboard.vtt"]);
    if (!cues) return board;
    board.cues = *cues;
    EXPECT_EQ(board.cues.size(), meta["tiles"].get<size_t>());
    for (size_t i = 0; i < meta["sheets"].get<size_t>(); ++i) {
      std::string name = StoryboardStage::SheetName(static_cast<int64_t>(i));
      EXPECT_EQ(sink.blobs[i].name, name);
      board.sheets[name] = testing::DecodeRgb(sink.files[name], name);
    }
    int64_t covered = 0;
    for (const StoryboardCue& cue : board.cues) {
      EXPECT_EQ(cue.start_ms, covered) << "gap or overlap at " << cue.start_ms;
      EXPECT_GT(cue.end_ms, cue.start_ms);
      covered = cue.end_ms;
      EXPECT_EQ(cue.w, meta["tile_width"]);
      EXPECT_EQ(cue.h, meta["tile_height"]);
      auto sheet = board.sheets.find(cue.sheet);
      if (sheet == board.sheets.end() || sheet->second == nullptr) {
        ADD_FAILURE() << "cue names a sheet not written: " << cue.sheet;
        continue;
      }
      EXPECT_LE(cue.x + cue.w, sheet->second->width) << cue.sheet << " at " << cue.start_ms;
      EXPECT_LE(cue.y + cue.h, sheet->second->height) << cue.sheet << " at " << cue.start_ms;
    }
    EXPECT_EQ(static_cast<double>(covered) / 1000, meta["duration_seconds"].get<double>());
    return board;
  }

  // The mean colour of the middle of the tile a cue shows.
  static testing::Rgb TileColour(const Storyboard& board, const StoryboardCue& cue) {
    const AVFrame& sheet = *board.sheets.at(cue.sheet);
    auto fx = [&](double px) { return px / sheet.width; };
    auto fy = [&](double py) { return py / sheet.height; };
    return MeanColour(sheet, fx(cue.x + cue.w * 0.25), fy(cue.y + cue.h * 0.25),
                      fx(cue.x + cue.w * 0.75), fy(cue.y + cue.h * 0.75));
  }

  // Each tile shows the colour of the step its cue starts in.
  static void ExpectTilesShowTheirMoment(const Storyboard& board, double step_seconds) {
    for (const StoryboardCue& cue : board.cues) {
      auto k = static_cast<int64_t>(static_cast<double>(cue.start_ms) / 1000 / step_seconds);
      EXPECT_TRUE(ColourNear(TileColour(board, cue), StepColour(k), 48))
          << "tile at " << cue.start_ms << " ms should show step " << k;
    }
  }

  static void ExpectSheet(const Storyboard& board, const std::string& name, int width, int height) {
    ASSERT_TRUE(board.sheets.count(name)) << name;
    ASSERT_NE(board.sheets.at(name), nullptr) << name;
    EXPECT_EQ(board.sheets.at(name)->width, width) << name;
    EXPECT_EQ(board.sheets.at(name)->height, height) << name;
  }

  testing::TempDir dir_;
};

void ExpectDone(const StageOutcome& outcome) {
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
}

TEST(StoryboardInterval, BoundsTileCountForShortVideosAndFixesItForLongOnes) {
  auto stage = StoryboardStage::Create(nullptr);
  ASSERT_TRUE(stage.has_value());
  const StoryboardStage& s = **stage;
  EXPECT_EQ(s.IntervalMillis(3'000), 1'000);       // never below min_interval
  EXPECT_EQ(s.IntervalMillis(100'000), 1'000);     // 100 tiles of 1 s
  EXPECT_EQ(s.IntervalMillis(100'050), 1'001);     // rounded up: still at most 100 tiles
  EXPECT_EQ(s.IntervalMillis(300'000), 3'000);     // 100 tiles
  EXPECT_EQ(s.IntervalMillis(1'000'000), 10'000);  // 100 tiles of max_interval
  EXPECT_EQ(s.IntervalMillis(7'200'000), 10'000);  // long: every max_interval
  EXPECT_EQ(s.IntervalMillis(std::nullopt), 10'000);
  auto custom =
      StoryboardStage::Create({{"max_tiles", 50}, {"min_interval", 0.5}, {"max_interval", 4}});
  ASSERT_TRUE(custom.has_value()) << custom.error().ToString();
  EXPECT_EQ((*custom)->IntervalMillis(10'000), 500);
  EXPECT_EQ((*custom)->IntervalMillis(60'000), 1'200);
  EXPECT_EQ((*custom)->IntervalMillis(600'000), 4'000);
}

TEST(StoryboardParams, RejectsWhatWouldBreakTheLayout) {
  for (const nlohmann::json& bad :
       {nlohmann::json{{"tile_width", 161}}, nlohmann::json{{"tile_width", 8}},
        nlohmann::json{{"columns", 0}}, nlohmann::json{{"min_interval", 20.0}},  // > max_interval
        nlohmann::json{{"max_interval", 0.05}}, nlohmann::json{{"quality", 40}},
        nlohmann::json{{"interval", 5}}}) {
    auto stage = StoryboardStage::Create(bad);
    ASSERT_FALSE(stage.has_value()) << bad.dump();
    EXPECT_EQ(stage.error().code, ErrorCode::kInvalidArgument) << bad.dump();
  }
}

TEST_F(StoryboardStageTest, ShortVideoGetsATileEverySecondShowingThatMoment) {
  std::string path = Make("short.mp4", {.frame_rate = 5, .seconds = 3, .step = 1});
  Storyboard board = Run(path);
  ExpectDone(board.outcome);
  EXPECT_EQ(board.meta()["interval_seconds"], 1.0);
  EXPECT_EQ(board.meta()["tiles"], 3);
  EXPECT_EQ(board.meta()["sheets"], 1);
  EXPECT_EQ(board.meta()["tile_height"], 90);  // 160 * 36 / 64
  EXPECT_EQ(board.meta()["duration_known"], true);
  ASSERT_EQ(board.cues.size(), 3u);
  EXPECT_EQ(board.cues[1].sheet, "sheet-000.jpg");
  EXPECT_EQ(board.cues[1].x, 160);
  EXPECT_EQ(board.cues[1].y, 0);
  EXPECT_EQ(board.cues[2].end_ms, 3000);
  ExpectSheet(board, "sheet-000.jpg", 480, 90);  // one row, cut to the 3 tiles it holds
  ExpectTilesShowTheirMoment(board, 1);
}

TEST_F(StoryboardStageTest, MediumVideoGetsMaxTilesOnOneFullSheet) {
  std::string path = Make("medium.mp4", {.frame_rate = 2, .seconds = 300, .step = 3});
  Storyboard board = Run(path);
  ExpectDone(board.outcome);
  EXPECT_EQ(board.meta()["interval_seconds"], 3.0);
  EXPECT_EQ(board.meta()["tiles"], 100);
  EXPECT_EQ(board.meta()["sheets"], 1);
  ExpectSheet(board, "sheet-000.jpg", 1600, 900);
  ASSERT_EQ(board.cues.size(), 100u);
  EXPECT_EQ(board.cues[99].x, 1440);
  EXPECT_EQ(board.cues[99].y, 810);
  EXPECT_EQ(board.cues[99].end_ms, 300'000);
  ExpectTilesShowTheirMoment(board, 3);
}

TEST_F(StoryboardStageTest, LongVideoGetsATileEveryTenSecondsOverSeveralSheets) {
  std::string path = Make("long.mp4", {.frame_rate = 2, .seconds = 1200, .step = 10});
  Storyboard board = Run(path);
  ExpectDone(board.outcome);
  EXPECT_EQ(board.meta()["interval_seconds"], 10.0);
  EXPECT_EQ(board.meta()["tiles"], 120);
  EXPECT_EQ(board.meta()["sheets"], 2);
  ExpectSheet(board, "sheet-000.jpg", 1600, 900);
  ExpectSheet(board, "sheet-001.jpg", 1600, 180);  // 20 tiles: two rows
  ASSERT_EQ(board.cues.size(), 120u);
  EXPECT_EQ(board.cues[100].sheet, "sheet-001.jpg");
  EXPECT_EQ(board.cues[100].x, 0);
  EXPECT_EQ(board.cues[100].y, 0);
  EXPECT_EQ(board.cues[119].start_ms, 1'190'000);
  EXPECT_EQ(board.cues[119].end_ms, 1'200'000);
  EXPECT_EQ(board.cues[119].y, 90);
  ExpectTilesShowTheirMoment(board, 10);
}

TEST_F(StoryboardStageTest, SheetGridFollowsColumnsAndRows) {
  std::string path = Make("grid.mp4", {.frame_rate = 5, .seconds = 25, .step = 1});
  Storyboard board = Run(path, {{"columns", 4}, {"rows", 3}, {"tile_width", 96}});
  ExpectDone(board.outcome);
  EXPECT_EQ(board.meta()["tiles"], 25);
  EXPECT_EQ(board.meta()["sheets"], 3);
  EXPECT_EQ(board.meta()["tile_height"], 54);
  ExpectSheet(board, "sheet-000.jpg", 384, 162);
  ExpectSheet(board, "sheet-001.jpg", 384, 162);
  ExpectSheet(board, "sheet-002.jpg", 96, 54);  // the 25th tile alone
  ASSERT_EQ(board.cues.size(), 25u);
  EXPECT_EQ(board.cues[13].sheet, "sheet-001.jpg");  // second sheet, first row, second tile
  EXPECT_EQ(board.cues[13].x, 96);
  EXPECT_EQ(board.cues[13].y, 0);
  EXPECT_EQ(board.cues[23].x, 288);  // last tile of the second sheet
  EXPECT_EQ(board.cues[23].y, 108);
  ExpectTilesShowTheirMoment(board, 1);
}

// When the video stops before the container's duration (longer audio), the last tile's
// cue stretches to the end: no gap a player would scrub into.
TEST_F(StoryboardStageTest, CuesFollowTheFramesWhenTheVideoEndsEarly) {
  std::string path =
      Make("short_video.mp4", {.frame_rate = 5, .seconds = 3, .step = 1, .audio_seconds = 6});
  Storyboard board = Run(path);
  ExpectDone(board.outcome);
  EXPECT_EQ(board.meta()["interval_seconds"], 1.0);
  ASSERT_EQ(board.cues.size(), 3u);
  EXPECT_EQ(board.cues[2].start_ms, 2000);
  EXPECT_GE(board.cues[2].end_ms, 5990);  // AAC priming may add a few ms
  EXPECT_LE(board.cues[2].end_ms, 6100);
  ExpectTilesShowTheirMoment(board, 1);
}

// A live-like input (no duration in the container or stream) still gets a storyboard:
// a tile every max_interval, the last cue ending one frame after the last frame.
TEST_F(StoryboardStageTest, UnknownDurationUsesMaxIntervalAndTheFramesSeen) {
  std::string path =
      Make("live.mkv", {.frame_rate = 2, .seconds = 25, .step = 10, .unknown_duration = true});
  Storyboard board = Run(path);
  ExpectDone(board.outcome);
  EXPECT_EQ(board.meta()["duration_known"], false);
  EXPECT_EQ(board.meta()["interval_seconds"], 10.0);
  ASSERT_EQ(board.cues.size(), 3u);
  EXPECT_EQ(board.cues[2].start_ms, 20'000);
  EXPECT_EQ(board.cues[2].end_ms, 25'000);  // last frame at 24.5 s, frames 0.5 s apart
  ExpectTilesShowTheirMoment(board, 10);
}

TEST_F(StoryboardStageTest, OddSizedVideoKeepsItsAspect) {
  Storyboard board = Run(samples_->OddSizeMp4());
  ExpectDone(board.outcome);
  EXPECT_EQ(board.meta()["tile_height"], 90);  // 160 * 607 / 1081 = 89.8 -> even 90
  ASSERT_EQ(board.cues.size(), 1u);
  ExpectSheet(board, "sheet-000.jpg", 160, 90);
  EXPECT_TRUE(ColourNear(TileColour(board, board.cues[0]), testing::samples::kRed, 30));
}

TEST_F(StoryboardStageTest, PortraitVideoGetsTallTiles) {
  std::string path =
      Make("portrait.mp4", {.width = 360, .height = 640, .frame_rate = 5, .seconds = 2});
  Storyboard board = Run(path);
  ExpectDone(board.outcome);
  EXPECT_EQ(board.meta()["tile_height"], 284);  // 160 * 640 / 360 = 284.4
  ExpectSheet(board, "sheet-000.jpg", 320, 284);
  ExpectTilesShowTheirMoment(board, 1);
}

// Coded landscape, shown portrait by its display matrix: tiles are upright, red on top.
TEST_F(StoryboardStageTest, RotatedVideoTilesAreUpright) {
  Storyboard board = Run(samples_->RotatedPhoneMp4());
  ExpectDone(board.outcome);
  EXPECT_EQ(board.meta()["tile_height"], 284);  // 160 * 1280 / 720 = 284.4
  ASSERT_FALSE(board.cues.empty());
  const AVFrame& sheet = *board.sheets.at("sheet-000.jpg");
  EXPECT_TRUE(ColourNear(MeanColour(sheet, 0.1, 0.05, 0.9, 0.4), testing::samples::kRed, 30));
  EXPECT_TRUE(ColourNear(MeanColour(sheet, 0.1, 0.6, 0.9, 0.95), testing::samples::kBlue, 30));
}

TEST_F(StoryboardStageTest, InputsWithoutMovingVideoAreSkipped) {
  for (const std::string& path :
       {samples_->AudioOnlyM4a(), samples_->Mp3WithCover(), samples_->PngImage()}) {
    auto stage = Stage();
    MemorySink sink;
    StageOutcome outcome = RunAlone(*stage, path, sink);
    EXPECT_EQ(outcome.state, catalog::DerivativeState::kSkipped) << path;
    EXPECT_EQ(outcome.skip_reason, "no_video_stream") << path;
    EXPECT_TRUE(sink.files.empty()) << path;
  }
}

TEST_F(StoryboardStageTest, UndecodableVideoFailsAsUnsupportedMediaWritingNothing) {
  auto stage = Stage();
  MemorySink sink;
  StageOutcome outcome = RunAlone(*stage, samples_->UndecodableMp4(), sink);
  EXPECT_EQ(outcome.state, catalog::DerivativeState::kFailed);
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_EQ(outcome.error->code, ErrorCode::kUnsupportedMedia) << outcome.error->ToString();
  EXPECT_TRUE(sink.files.empty());
}

}  // namespace
}  // namespace reprise::stages
