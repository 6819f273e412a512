#include "stages/tempo_stage.h"

#include <cmath>
#include <iostream>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "stages/loudness_stage.h"
#include "stages/runner.h"
#include "stages/thumbnail_stage.h"
#include "tests/media/media_test_util.h"
#include "tests/stages/memory_sink.h"
#include "tests/support/media_suite.h"

namespace reprise::stages {
namespace {

class TempoStageTest : public testing::MediaSuite {
 protected:
  // Runs the tempo stage (default params) alone on `path` through the one decode pass.
  static StageOutcome Run(const std::string& path) {
    auto stage = TempoStage::Create(nullptr);
    EXPECT_TRUE(stage.has_value()) << (stage ? "" : stage.error().ToString());
    if (!stage) return {};
    MemorySink sink;
    auto reader = testing::OpenOrDie(path);
    StageTask task{stage->get(), &sink};
    auto report = RunStages(*reader, std::span(&task, 1));
    EXPECT_TRUE(report.has_value()) << (report ? "" : report.error().ToString());
    if (!report) return {};
    EXPECT_TRUE(sink.files.empty());
    return report->outcomes[0];
  }

  // `seconds` of a drum loop at `bpm`: a kick (a 150 -> 50 Hz sine sweep decaying in
  // ~80 ms) on every beat and a noise hi-hat on every off-beat, 44.1 kHz mono WAV.
  static std::string DrumLoop(int bpm, int seconds) {
    std::string beat = std::to_string(60.0 / bpm);
    std::string phase = "mod(t," + beat + ")";
    std::string offbeat = "mod(t+" + beat + "/2," + beat + ")";
    std::string expr = "0.8*sin(2*PI*(50+100*exp(-30*" + phase + "))*" + phase + ")*exp(-12*" +
                       phase + ")+0.25*(2*random(0)-1)*exp(-80*" + offbeat + ")";
    std::string path = samples_->dir().Join("drums_" + std::to_string(bpm) + ".wav");
    EXPECT_TRUE(
        testing::Ffmpeg({"-f", "lavfi", "-i",
                         "aevalsrc='" + expr + "':s=44100:d=" + std::to_string(seconds), path}));
    return path;
  }
};

class TempoOfDrums : public TempoStageTest, public ::testing::WithParamInterface<int> {};

// Within 1 BPM as played; a half or double tempo counts as wrong (174 must not be 87).
TEST_P(TempoOfDrums, FindsThePlayedTempo) {
  int bpm = GetParam();
  StageOutcome outcome = Run(DrumLoop(bpm, 25));
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  const nlohmann::json& meta = outcome.result.metadata;
  ASSERT_TRUE(meta["bpm"].is_number()) << meta.dump();
  double found = meta["bpm"].get<double>();
  double confidence = meta["confidence"].get<double>();
  std::cout << bpm << " BPM drums: found " << found << ", confidence " << confidence << ", "
            << meta["beats"].size() << " beats\n";
  EXPECT_NEAR(found, bpm, 1.0);
  EXPECT_GT(confidence, 0.5);
  // Beats lie on the grid: consecutive ones whole half-beats apart (aubio ticks the
  // 90 BPM loop on every eighth, 180 a minute, and the octave rule folds the bpm only).
  const nlohmann::json& beats = meta["beats"];
  ASSERT_GT(beats.size(), 25u * bpm / 60 / 3);
  double period = 30.0 / found;
  for (size_t i = beats.size() / 2; i + 1 < beats.size(); ++i) {
    double gap = beats[i + 1].get<double>() - beats[i].get<double>();
    double multiple = std::round(gap / period);
    EXPECT_GE(multiple, 1) << "beat " << i;
    EXPECT_NEAR(gap, multiple * period, 0.03) << "beat " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Tempos, TempoOfDrums, ::testing::Values(90, 120, 128, 174),
                         [](const ::testing::TestParamInfo<int>& param) {
                           return std::to_string(param.param) + "bpm";
                         });

TEST_F(TempoStageTest, StationaryNoiseHasLowConfidence) {
  std::string path = samples_->dir().Join("pink_noise.wav");
  ASSERT_TRUE(
      testing::Ffmpeg({"-f", "lavfi", "-i", "anoisesrc=c=pink:seed=5:a=0.3:d=20:r=44100", path}));
  StageOutcome outcome = Run(path);
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  double confidence = outcome.result.metadata["confidence"].get<double>();
  std::cout << "pink noise: confidence " << confidence << " "
            << outcome.result.metadata["bpm"].dump() << " BPM\n";
  EXPECT_LT(confidence, 0.3);
}

TEST_F(TempoStageTest, SkipsInputsWithoutEnoughAudio) {
  StageOutcome video_only = Run(samples_->VideoOnlyMp4());
  EXPECT_EQ(video_only.state, catalog::DerivativeState::kSkipped);
  EXPECT_EQ(video_only.skip_reason, "no_audio_stream");
  StageOutcome short_wav = Run(samples_->Wav());  // 1.5 s
  EXPECT_EQ(short_wav.state, catalog::DerivativeState::kSkipped);
  EXPECT_EQ(short_wav.skip_reason, "too_short");
}

// Tempo shares the pass with loudness (another audio request: source rate, stereo) and
// a thumbnail that stops after one frame; each gets all it asked for.
TEST_F(TempoStageTest, SharesTheDecodePassWithThumbnailAndLoudness) {
  auto thumbnail = ThumbnailStage::Create(nullptr);
  auto loudness = LoudnessStage::Create(nullptr);
  auto tempo = TempoStage::Create(nullptr);
  ASSERT_TRUE(thumbnail.has_value() && loudness.has_value() && tempo.has_value());
  MemorySink sinks[3];
  StageTask tasks[] = {
      {thumbnail->get(), &sinks[0]}, {tempo->get(), &sinks[1]}, {loudness->get(), &sinks[2]}};
  auto reader = testing::OpenOrDie(DrumLoop(120, 10));
  auto report = RunStages(*reader, tasks);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_EQ(report->outcomes[0].state, catalog::DerivativeState::kSkipped);  // no picture
  for (size_t i : {1u, 2u}) {
    const StageOutcome& outcome = report->outcomes[i];
    EXPECT_EQ(outcome.state, catalog::DerivativeState::kDone)
        << outcome.stage->Name() << ": "
        << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  }
  EXPECT_NEAR(report->outcomes[1].result.metadata["bpm"].get<double>(), 120, 1.0);
  EXPECT_TRUE(report->outcomes[2].result.metadata["integrated_lufs"].is_number());

  // With a video in the same pass the thumbnail is done after one frame; tempo still
  // gets the whole 10 s of audio.
  auto video = testing::OpenOrDie(samples_->LongMp4());
  report = RunStages(*video, tasks);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_EQ(report->outcomes[0].state, catalog::DerivativeState::kDone);
  EXPECT_EQ(sinks[0].files.count("thumb.jpg"), 1u);
  ASSERT_EQ(report->outcomes[1].state, catalog::DerivativeState::kDone);
  const nlohmann::json& beats = report->outcomes[1].result.metadata["beats"];
  ASSERT_TRUE(beats.is_array());
  EXPECT_TRUE(report->stats.input_ended);
}

TEST(FoldTempo, FoldsOctavesIntoTheRange) {
  EXPECT_DOUBLE_EQ(FoldTempo(87, 88, 176), 174);
  EXPECT_DOUBLE_EQ(FoldTempo(180, 88, 176), 90);
  EXPECT_DOUBLE_EQ(FoldTempo(360, 88, 176), 90);
  EXPECT_DOUBLE_EQ(FoldTempo(120, 88, 176), 120);
  EXPECT_DOUBLE_EQ(FoldTempo(70, 88, 176), 140);  // the documented cost of the rule
  EXPECT_DOUBLE_EQ(FoldTempo(0, 88, 176), 0);
}

TEST(TempoStageParams, DefaultsAndValidation) {
  auto stage = TempoStage::Create(nullptr);
  ASSERT_TRUE(stage.has_value());
  EXPECT_EQ((*stage)->Params(), nlohmann::json({{"win_size", 1024},
                                                {"hop_size", 256},
                                                {"sample_rate", 44100},
                                                {"min_bpm", 88},
                                                {"max_bpm", 176},
                                                {"max_beats", 10000}}));
  for (const nlohmann::json& bad :
       {nlohmann::json{{"hop_size", 300}}, nlohmann::json{{"hop_size", 2048}},
        nlohmann::json{{"min_bpm", 100}, {"max_bpm", 150}}, nlohmann::json{{"bpm", 120}},
        nlohmann::json{{"sample_rate", "fast"}}}) {
    auto made = TempoStage::Create(bad);
    ASSERT_FALSE(made.has_value()) << bad.dump();
    EXPECT_EQ(made.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(made.error().message.find("tempo"), std::string::npos) << made.error().message;
  }
}

}  // namespace
}  // namespace reprise::stages
