#include "stages/cover_stage.h"

#include <iostream>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "stages/runner.h"
#include "stages/thumbnail_stage.h"
#include "tests/media/media_test_util.h"
#include "tests/stages/memory_sink.h"
#include "tests/support/media_suite.h"

namespace reprise::stages {
namespace {

using testing::ColourNear;
using testing::MeanColour;
namespace samples = testing::samples;

class CoverStageTest : public testing::MediaSuite {
 protected:
  static std::unique_ptr<CoverStage> Stage(const nlohmann::json& overrides = nullptr) {
    auto stage = CoverStage::Create(overrides);
    EXPECT_TRUE(stage.has_value()) << (stage ? "" : stage.error().ToString());
    return stage ? std::move(*stage) : nullptr;
  }

  // Runs the cover stage alone on `path`; `report` gets the pass's report.
  static StageOutcome Run(const std::string& path, const nlohmann::json& overrides,
                          MemorySink& sink, RunReport* report = nullptr) {
    auto stage = Stage(overrides);
    if (!stage) return {};
    auto reader = testing::OpenOrDie(path);
    StageTask task{stage.get(), &sink};
    auto ran = RunStages(*reader, std::span(&task, 1));
    EXPECT_TRUE(ran.has_value()) << (ran ? "" : ran.error().ToString());
    if (!ran) return {};
    if (report != nullptr) *report = *ran;
    return ran->outcomes[0];
  }

  // Makes `name` in the samples directory: H.264 from a lavfi graph whose output is
  // labelled [out0].
  static std::string Generate(const std::string& name, const std::string& graph) {
    std::string path = samples_->dir().Join(name);
    EXPECT_TRUE(testing::Ffmpeg(
        {"-f", "lavfi", "-i", graph, "-c:v", "libx264", "-pix_fmt", "yuv420p", path}));
    return path;
  }

  static media::FramePtr Picture(const MemorySink& sink) {
    auto it = sink.files.find("cover.jpg");
    if (it == sink.files.end()) {
      ADD_FAILURE() << "no cover.jpg written";
      return nullptr;
    }
    return testing::DecodeRgb(it->second, "cover.jpg");
  }
};

// 3 s black, 3 s of a heavily blurred test pattern, 3 s of the sharp one.
constexpr const char* kBlackBlurrySharp =
    "color=black:s=320x240:r=25:d=3[a];testsrc=s=320x240:r=25:d=3,gblur=sigma=8[b];"
    "testsrc=s=320x240:r=25:d=3[c];[a][b][c]concat=n=3:v=1:a=0[out0]";

TEST_F(CoverStageTest, SkipsBlackAndBlurryFramesForASharpOne) {
  std::string path = Generate("black_blurry_sharp.mp4", kBlackBlurrySharp);
  MemorySink sink;
  StageOutcome outcome = Run(path, nullptr, sink);
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  const nlohmann::json& meta = outcome.result.metadata;
  std::cout << "cover: " << meta.dump() << "\n";
  EXPECT_GE(meta["pts"].get<double>(), 6.0) << meta.dump();
  EXPECT_LT(meta["pts"].get<double>(), 9.0) << meta.dump();
  EXPECT_EQ(meta["fallback"], false);
  EXPECT_EQ(meta["from_cover"], false);
  EXPECT_GT(meta["score"].get<double>(), 0.0);
  EXPECT_EQ(meta["width"], 640);
  EXPECT_EQ(meta["height"], 480);
  ASSERT_EQ(sink.blobs.size(), 1u);
  EXPECT_EQ(sink.blobs[0].name, "cover.jpg");
  EXPECT_EQ(sink.blobs[0].content_type, "image/jpeg");
  media::FramePtr picture = Picture(sink);
  ASSERT_NE(picture, nullptr);
  EXPECT_EQ(picture->width, 640);
  EXPECT_EQ(picture->height, 480);
}

// Within a short scan only black and blurry frames are seen: the blurry one is the
// sharpest there, so it is the cover, and decoding stops long before the end.
TEST_F(CoverStageTest, StopsDecodingAfterScanSeconds) {
  std::string path = Generate("black_blurry_sharp.mp4", kBlackBlurrySharp);
  MemorySink sink;
  RunReport report;
  StageOutcome outcome = Run(path, {{"scan_seconds", 4}}, sink, &report);
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  double pts = outcome.result.metadata["pts"].get<double>();
  EXPECT_GE(pts, 3.0);
  EXPECT_LE(pts, 4.0);
  EXPECT_FALSE(report.stats.input_ended);
  EXPECT_LT(report.stats.video_frames_decoded, 5 * 25 + 10);
}

TEST_F(CoverStageTest, AllBlackFallsBackToTheFirstFrame) {
  std::string path = Generate("black.mp4", "color=black:s=320x240:r=25:d=4[out0]");
  MemorySink sink;
  StageOutcome outcome = Run(path, nullptr, sink);
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  EXPECT_EQ(outcome.result.metadata["fallback"], true);
  EXPECT_NEAR(outcome.result.metadata["pts"].get<double>(), 0.0, 0.02);
  media::FramePtr picture = Picture(sink);
  ASSERT_NE(picture, nullptr);
  EXPECT_TRUE(ColourNear(MeanColour(*picture), testing::Rgb{0, 0, 0}, 8));
}

TEST_F(CoverStageTest, FollowsTheThumbnailSizeRules) {
  struct Case {
    const std::string& (testing::MediaSamples::*sample)();
    int width;
    int want_width;
    int want_height;
  };
  for (Case c : {Case{&testing::MediaSamples::H264AacMp4, 480, 480, 360},
                 Case{&testing::MediaSamples::OddSizeMp4, 320, 320, 180},
                 Case{&testing::MediaSamples::RotatedPhoneMp4, 320, 320, 568}}) {
    MemorySink sink;
    StageOutcome outcome = Run((samples_->*c.sample)(), {{"width", c.width}}, sink);
    ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
        << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
    media::FramePtr picture = Picture(sink);
    ASSERT_NE(picture, nullptr);
    EXPECT_EQ(picture->width, c.want_width);
    EXPECT_EQ(picture->height, c.want_height);
    EXPECT_EQ(outcome.result.metadata["width"], c.want_width);
    EXPECT_EQ(outcome.result.metadata["height"], c.want_height);
  }
}

// H264AacMp4 is solid red for a second, then testsrc2: the detailed part wins.
TEST_F(CoverStageTest, PrefersDetailOverASolidOpening) {
  MemorySink sink;
  StageOutcome outcome = Run(samples_->H264AacMp4(), nullptr, sink);
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  EXPECT_GE(outcome.result.metadata["pts"].get<double>(), 1.0);
  EXPECT_EQ(outcome.result.metadata["fallback"], false);
}

TEST_F(CoverStageTest, StillImageAndCoverArtAreTheirOwnCover) {
  MemorySink png_sink;
  StageOutcome png = Run(samples_->PngImage(), nullptr, png_sink);
  ASSERT_EQ(png.state, catalog::DerivativeState::kDone)
      << (png.error ? png.error->ToString() : png.skip_reason);
  EXPECT_EQ(png.result.metadata["from_cover"], false);
  media::FramePtr picture = Picture(png_sink);
  ASSERT_NE(picture, nullptr);
  EXPECT_EQ(picture->width, 640);
  EXPECT_EQ(picture->height, 480);
  EXPECT_TRUE(ColourNear(MeanColour(*picture), samples::kMagenta, 24));

  MemorySink mp3_sink;
  StageOutcome mp3 = Run(samples_->Mp3WithCover(), nullptr, mp3_sink);
  ASSERT_EQ(mp3.state, catalog::DerivativeState::kDone)
      << (mp3.error ? mp3.error->ToString() : mp3.skip_reason);
  EXPECT_EQ(mp3.result.metadata["from_cover"], true);
  picture = Picture(mp3_sink);
  ASSERT_NE(picture, nullptr);
  EXPECT_EQ(picture->width, 640);
  EXPECT_EQ(picture->height, 480);
  EXPECT_TRUE(ColourNear(MeanColour(*picture), samples::kGreen, 24));
}

TEST_F(CoverStageTest, AudioWithoutPictureIsSkipped) {
  for (const std::string& path : {samples_->Mp3(), samples_->Wav()}) {
    MemorySink sink;
    StageOutcome outcome = Run(path, nullptr, sink);
    EXPECT_EQ(outcome.state, catalog::DerivativeState::kSkipped) << path;
    EXPECT_EQ(outcome.skip_reason, "no_video_stream") << path;
    EXPECT_TRUE(sink.files.empty());
  }
}

// With the thumbnail's width the cover shares its converted frames; both finish.
TEST_F(CoverStageTest, SharesTheDecodePassWithThumbnail) {
  auto cover = Stage({{"width", 320}});
  auto thumbnail = ThumbnailStage::Create(nullptr);
  ASSERT_TRUE(thumbnail.has_value());
  MemorySink sinks[2];
  StageTask tasks[] = {{thumbnail->get(), &sinks[0]}, {cover.get(), &sinks[1]}};
  auto reader = testing::OpenOrDie(samples_->LongMp4());
  auto report = RunStages(*reader, tasks);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  for (const StageOutcome& outcome : report->outcomes) {
    EXPECT_EQ(outcome.state, catalog::DerivativeState::kDone)
        << outcome.stage->Name() << ": "
        << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  }
  EXPECT_EQ(sinks[0].files.count("thumb.jpg"), 1u);
  EXPECT_EQ(sinks[1].files.count("cover.jpg"), 1u);
}

TEST_F(CoverStageTest, ParamsAreValidated) {
  EXPECT_EQ(Stage()->Params(),
            nlohmann::json(
                {{"width", 640}, {"quality", 3}, {"scan_seconds", 10}, {"max_candidates", 20}}));
  for (const nlohmann::json& bad :
       {nlohmann::json{{"width", 8}}, nlohmann::json{{"quality", 40}},
        nlohmann::json{{"scan_seconds", 0}}, nlohmann::json{{"max_candidates", "all"}},
        nlohmann::json{{"seconds", 3}}}) {
    auto stage = CoverStage::Create(bad);
    ASSERT_FALSE(stage.has_value()) << bad.dump();
    EXPECT_EQ(stage.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(stage.error().message.find("cover"), std::string::npos) << stage.error().message;
  }
}

}  // namespace
}  // namespace reprise::stages
