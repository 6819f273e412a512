// A corrupt input is the input's fault, whichever step notices it: the decoder, a
// converter, or the muxer that copies its packets (the HLS remux). Every such failure is
// unsupported_media (permanent, never retried), not internal.
#include <iostream>
#include <memory>
#include <span>
#include <string>

#include <gtest/gtest.h>

#include "stages/audio_stage.h"
#include "stages/hls_stage.h"
#include "stages/runner.h"
#include "stages/thumbnail_stage.h"
#include "tests/media/media_test_util.h"
#include "tests/stages/memory_sink.h"
#include "tests/support/media_suite.h"

namespace reprise::stages {
namespace {

class CorruptInputTest : public testing::MediaSuite {
 protected:
  static StageOutcome RunAlone(const Stage& stage, const std::string& path) {
    MemorySink sink;
    return stages::RunAlone(stage, path, sink);
  }

  static void ExpectUnsupportedIfFailed(const StageOutcome& outcome, const std::string& stage) {
    if (outcome.state != catalog::DerivativeState::kFailed) return;
    ASSERT_TRUE(outcome.error.has_value()) << stage;
    EXPECT_EQ(outcome.error->code, ErrorCode::kUnsupportedMedia)
        << stage << ": " << outcome.error->ToString();
  }
};

TEST_F(CorruptInputTest, RemuxingAScrambledMp4FailsAsUnsupportedMedia) {
  // 320x240 H.264: the 240p rung copies the source's packets.
  auto stage = HlsStage::Create({{"renditions", {240}}});
  ASSERT_TRUE(stage.has_value()) << stage.error().ToString();
  StageOutcome outcome = RunAlone(**stage, samples_->ScrambledMp4());
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kFailed)
      << "the scrambled middle should stop the copy";
  ExpectUnsupportedIfFailed(outcome, "hls");
}

TEST_F(CorruptInputTest, EveryStageBlamesTheInputForAScrambledMp4) {
  auto hls = HlsStage::Create(nullptr);
  ASSERT_TRUE(hls.has_value()) << hls.error().ToString();
  auto thumbnail = ThumbnailStage::Create(nullptr);
  ASSERT_TRUE(thumbnail.has_value()) << thumbnail.error().ToString();
  auto audio = AudioStage::Create(nullptr);
  ASSERT_TRUE(audio.has_value()) << audio.error().ToString();
  for (const Stage* stage :
       {static_cast<const Stage*>(hls->get()), static_cast<const Stage*>(thumbnail->get()),
        static_cast<const Stage*>(audio->get())}) {
    StageOutcome outcome = RunAlone(*stage, samples_->ScrambledMp4());
    std::cout << stage->Name() << ": " << catalog::Name(outcome.state) << " "
              << (outcome.error ? outcome.error->ToString() : "") << "\n";
    ExpectUnsupportedIfFailed(outcome, std::string(stage->Name()));
  }
}

}  // namespace
}  // namespace reprise::stages
