#include "stages/probe_stage.h"

#include <gtest/gtest.h>

#include "media/probe.h"
#include "stages/media_summary.h"
#include "stages/runner.h"
#include "tests/media/media_test_util.h"
#include "tests/stages/memory_sink.h"
#include "tests/support/media_suite.h"

namespace reprise::stages {
namespace {

namespace samples = testing::samples;

class ProbeStageTest : public testing::MediaSuite {
 protected:
  static StageOutcome Run(const std::string& path) {
    auto stage = ProbeStage::Create(nullptr);
    EXPECT_TRUE(stage.has_value());
    MemorySink sink;
    auto reader = testing::OpenOrDie(path);
    StageTask task{stage->get(), &sink};
    auto report = RunStages(*reader, std::span(&task, 1));
    EXPECT_TRUE(report.has_value()) << (report ? "" : report.error().ToString());
    EXPECT_TRUE(sink.files.empty());  // probe writes no files
    if (!report) return {};
    EXPECT_EQ(report->stats.packets_read, 0);  // the opened input was enough
    return report->outcomes[0];
  }
};

TEST_F(ProbeStageTest, MetadataIsTheProbeJsonAndTheAssetSummaryIsSet) {
  StageOutcome outcome = Run(samples_->H264AacMp4());
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone);
  auto reader = testing::OpenOrDie(samples_->H264AacMp4());
  auto info = media::ProbeReader(*reader);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(outcome.result.metadata, media::ToJson(*info));

  ASSERT_TRUE(outcome.result.asset_media.has_value());
  const catalog::MediaSummary& summary = *outcome.result.asset_media;
  EXPECT_EQ(summary.kind, catalog::AssetKind::kVideo);
  EXPECT_EQ(summary.container, info->container);
  ASSERT_TRUE(summary.duration_seconds);
  EXPECT_NEAR(*summary.duration_seconds, samples::kSmallSeconds, 0.1);
  EXPECT_EQ(summary.width, samples::kSmallWidth);
  EXPECT_EQ(summary.height, samples::kSmallHeight);
}

TEST_F(ProbeStageTest, RotatedVideoSummaryHasDisplaySize) {
  StageOutcome outcome = Run(samples_->RotatedPhoneMp4());
  ASSERT_TRUE(outcome.result.asset_media.has_value());
  EXPECT_EQ(outcome.result.asset_media->width, samples::kPhoneCodedHeight);
  EXPECT_EQ(outcome.result.asset_media->height, samples::kPhoneCodedWidth);
  EXPECT_EQ(outcome.result.metadata["streams"][0]["rotation"], 90);
}

TEST_F(ProbeStageTest, KindsOfAudioAndImages) {
  struct Case {
    std::string path;
    catalog::AssetKind kind;
    bool has_size;
  };
  for (const Case& c : {Case{samples_->Mp3WithCover(), catalog::AssetKind::kAudio, false},
                        Case{samples_->Mp3(), catalog::AssetKind::kAudio, false},
                        Case{samples_->Wav(), catalog::AssetKind::kAudio, false},
                        Case{samples_->PngImage(), catalog::AssetKind::kImage, true},
                        Case{samples_->VideoOnlyMp4(), catalog::AssetKind::kVideo, true}}) {
    StageOutcome outcome = Run(c.path);
    ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone) << c.path;
    ASSERT_TRUE(outcome.result.asset_media.has_value());
    EXPECT_EQ(outcome.result.asset_media->kind, c.kind) << c.path;
    EXPECT_EQ(outcome.result.asset_media->width.has_value(), c.has_size) << c.path;
  }
}

TEST_F(ProbeStageTest, HasNoParams) {
  auto stage = ProbeStage::Create(nlohmann::json::object());
  ASSERT_TRUE(stage.has_value());
  EXPECT_EQ((*stage)->Params(), nlohmann::json::object());
  auto bad = ProbeStage::Create({{"deep", true}});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("'probe'"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("'deep'"), std::string::npos) << bad.error().message;
}

}  // namespace
}  // namespace reprise::stages
