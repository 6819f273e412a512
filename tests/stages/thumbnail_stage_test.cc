#include "stages/thumbnail_stage.h"

#include <functional>
#include <ostream>

#include <gtest/gtest.h>

#include "media/ffmpeg.h"
#include "stages/runner.h"
#include "tests/media/media_test_util.h"
#include "tests/stages/memory_sink.h"
#include "tests/support/media_suite.h"

namespace reprise::stages {
namespace {

using testing::ColourNear;
using testing::MeanColour;
using testing::MediaSamples;
using testing::Rgb;
namespace samples = testing::samples;

class ThumbnailStageTest : public testing::MediaSuite {
 protected:
  static std::unique_ptr<ThumbnailStage> Stage(const nlohmann::json& overrides = nullptr) {
    auto stage = ThumbnailStage::Create(overrides);
    EXPECT_TRUE(stage.has_value()) << (stage ? "" : stage.error().ToString());
    return stage ? std::move(*stage) : nullptr;
  }

  // Runs the thumbnail stage alone on `path`.
  static StageOutcome Run(const std::string& path, const ThumbnailStage& stage, MemorySink& sink) {
    return RunAlone(stage, path, sink);
  }

  // The thumbnail written to `sink`, decoded to RGB.
  static media::FramePtr Picture(const MemorySink& sink) {
    auto it = sink.files.find("thumb.jpg");
    if (it == sink.files.end()) {
      ADD_FAILURE() << "no thumb.jpg written";
      return nullptr;
    }
    return testing::DecodeRgb(it->second, "thumb.jpg");
  }
};

struct Expected {
  const char* name;
  std::function<const std::string&(MediaSamples&)> sample;
  int width;
  int height;
  Rgb colour;
  bool from_cover;
};

// "png: 320x240 rgb(255,0,255)" in failure messages and ctest's listing, instead of the
// struct's raw bytes (which hold pointers, so they changed from run to run).
void PrintTo(const Expected& want, std::ostream* out) {
  *out << want.name << ": " << want.width << "x" << want.height << " " << want.colour
       << (want.from_cover ? " from the cover" : "");
}

class ThumbnailOfSample : public ThumbnailStageTest,
                          public ::testing::WithParamInterface<Expected> {};

TEST_P(ThumbnailOfSample, IsTheFirstFrameScaledTo320Wide) {
  const Expected& want = GetParam();
  auto stage = Stage();
  MemorySink sink;
  StageOutcome outcome = Run(want.sample(*samples_), *stage, sink);
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);

  ASSERT_EQ(sink.blobs.size(), 1u);
  EXPECT_EQ(sink.blobs[0].name, "thumb.jpg");
  EXPECT_EQ(sink.blobs[0].content_type, "image/jpeg");
  EXPECT_EQ(sink.blobs[0].size, static_cast<int64_t>(sink.files["thumb.jpg"].size()));

  const nlohmann::json& meta = outcome.result.metadata;
  EXPECT_EQ(meta["width"], want.width);
  EXPECT_EQ(meta["height"], want.height);
  EXPECT_EQ(meta["from_cover"], want.from_cover);
  EXPECT_NEAR(meta["pts"].get<double>(), 0.0, 0.02);  // WebM muxing starts video at 7 ms

  media::FramePtr picture = Picture(sink);
  ASSERT_NE(picture, nullptr);
  EXPECT_EQ(picture->width, want.width);
  EXPECT_EQ(picture->height, want.height);
  EXPECT_EQ(picture->height % 2, 0);
  EXPECT_TRUE(ColourNear(MeanColour(*picture), want.colour, 24));
}

INSTANTIATE_TEST_SUITE_P(
    Samples, ThumbnailOfSample,
    ::testing::Values(
        Expected{"h264", &MediaSamples::H264AacMp4, 320, 240, samples::kRed, false},
        Expected{"vp9", &MediaSamples::Vp9OpusWebm, 320, 240, samples::kBlue, false},
        // 607 * 320 / 1081 = 179.7 -> 180
        Expected{"odd", &MediaSamples::OddSizeMp4, 320, 180, samples::kRed, false},
        Expected{"video_only", &MediaSamples::VideoOnlyMp4, 320, 180, samples::kYellow, false},
        Expected{"png", &MediaSamples::PngImage, 320, 240, samples::kMagenta, false},
        Expected{"mp3_cover", &MediaSamples::Mp3WithCover, 320, 240, samples::kGreen, true}),
    [](const ::testing::TestParamInfo<Expected>& param) { return std::string(param.param.name); });

// The coded picture is red left, blue right; shown 90 degrees clockwise it is red on
// top. The thumbnail must be portrait and upright, as ffmpeg's own player shows it.
TEST_F(ThumbnailStageTest, RotatedPhoneVideoIsPortraitAndUpright) {
  auto stage = Stage();
  MemorySink sink;
  StageOutcome outcome = Run(samples_->RotatedPhoneMp4(), *stage, sink);
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  media::FramePtr picture = Picture(sink);
  ASSERT_NE(picture, nullptr);
  EXPECT_EQ(picture->width, 320);
  EXPECT_EQ(picture->height, 568);  // 320 * 1280 / 720 = 568.9 -> even 568
  EXPECT_TRUE(ColourNear(MeanColour(*picture, 0.1, 0.05, 0.9, 0.4), samples::kRed, 30));
  EXPECT_TRUE(ColourNear(MeanColour(*picture, 0.1, 0.6, 0.9, 0.95), samples::kBlue, 30));

  // ffmpeg's CLI rotates by the display matrix on decode: same orientation expected.
  std::string reference = samples_->dir().Join("cli_autorotated.png");
  ASSERT_TRUE(testing::Ffmpeg(
      {"-i", samples_->RotatedPhoneMp4(), "-frames:v", "1", "-vf", "scale=320:-2", reference}));
  auto reader = testing::OpenOrDie(reference);
  media::FramePtr cli = testing::DecodeRgb(*reader);
  ASSERT_NE(cli, nullptr);
  EXPECT_EQ(cli->width, picture->width);
  EXPECT_NEAR(cli->height, picture->height, 2);
  EXPECT_TRUE(ColourNear(MeanColour(*picture, 0, 0, 1, 0.4), MeanColour(*cli, 0, 0, 1, 0.4), 30));
  EXPECT_TRUE(ColourNear(MeanColour(*picture, 0, 0.6, 1, 1), MeanColour(*cli, 0, 0.6, 1, 1), 30));
}

TEST_F(ThumbnailStageTest, AudioWithoutPictureIsSkipped) {
  auto stage = Stage();
  for (const std::string& path : {samples_->Mp3(), samples_->Wav(), samples_->AudioOnlyM4a()}) {
    MemorySink sink;
    StageOutcome outcome = Run(path, *stage, sink);
    EXPECT_EQ(outcome.state, catalog::DerivativeState::kSkipped) << path;
    EXPECT_EQ(outcome.skip_reason, "no_video_stream") << path;
    EXPECT_TRUE(sink.files.empty());
  }
}

TEST_F(ThumbnailStageTest, WidthParamScalesKeepingAspect) {
  auto stage = Stage({{"width", 480}});
  EXPECT_EQ(stage->Params(), nlohmann::json({{"width", 480}, {"quality", 3}}));
  MemorySink sink;
  StageOutcome outcome = Run(samples_->H264AacMp4(), *stage, sink);
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone);
  media::FramePtr picture = Picture(sink);
  ASSERT_NE(picture, nullptr);
  EXPECT_EQ(picture->width, 480);
  EXPECT_EQ(picture->height, 360);
}

TEST_F(ThumbnailStageTest, ParamsAreValidated) {
  for (const nlohmann::json& bad :
       {nlohmann::json{{"width", "wide"}}, nlohmann::json{{"width", 4}},
        nlohmann::json{{"quality", 0}}, nlohmann::json{{"colour", "red"}}}) {
    auto stage = ThumbnailStage::Create(bad);
    ASSERT_FALSE(stage.has_value()) << bad.dump();
    EXPECT_EQ(stage.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(stage.error().message.find("thumbnail"), std::string::npos) << stage.error().message;
  }
}

}  // namespace
}  // namespace reprise::stages
