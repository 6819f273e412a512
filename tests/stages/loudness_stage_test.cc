#include "stages/loudness_stage.h"

#include <cmath>
#include <iostream>
#include <ostream>
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

class LoudnessStageTest : public testing::MediaSuite {
 protected:
  static std::unique_ptr<LoudnessStage> Stage() {
    auto stage = LoudnessStage::Create(nullptr);
    EXPECT_TRUE(stage.has_value()) << (stage ? "" : stage.error().ToString());
    return stage ? std::move(*stage) : nullptr;
  }

  // Runs the loudness stage alone on `path` through the one decode pass.
  static StageOutcome Run(const std::string& path) {
    auto stage = Stage();
    MemorySink sink;
    auto reader = testing::OpenOrDie(path);
    StageTask task{stage.get(), &sink};
    auto report = RunStages(*reader, std::span(&task, 1));
    EXPECT_TRUE(report.has_value()) << (report ? "" : report.error().ToString());
    if (!report) return {};
    EXPECT_TRUE(sink.files.empty());
    return report->outcomes[0];
  }

  // Makes `name` in the samples directory from a lavfi graph (ffmpeg's -i argument).
  static std::string Generate(const std::string& name, const std::string& graph,
                              const std::vector<std::string>& output_args = {}) {
    std::string path = samples_->dir().Join(name);
    std::vector<std::string> args = {"-f", "lavfi", "-i", graph};
    args.insert(args.end(), output_args.begin(), output_args.end());
    args.push_back(path);
    EXPECT_TRUE(testing::Ffmpeg(args));
    return path;
  }
};

// What FFmpeg's own ebur128 filter reports in its Summary, the ground truth.
struct Reference {
  double integrated = NAN;
  double range = NAN;
  double true_peak = NAN;
};

double NumberAfter(const std::string& text, const std::string& label, size_t from) {
  size_t at = text.find(label, from);
  if (at == std::string::npos) return NAN;
  return std::stod(text.substr(at + label.size()));
}

Reference FfmpegEbur128(const std::string& path) {
  testing::CommandResult run =
      testing::RunCommand({"ffmpeg", "-hide_banner", "-nostats", "-i", path, "-af",
                           "ebur128=peak=true", "-f", "null", "-"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  size_t summary = run.err.rfind("Summary:");
  if (summary == std::string::npos) {
    ADD_FAILURE() << "no ebur128 summary: " << run.output;
    return {};
  }
  return {NumberAfter(run.err, "I:", summary), NumberAfter(run.err, "LRA:", summary),
          NumberAfter(run.err, "Peak:", summary)};
}

struct Signal {
  const char* name;
  const char* graph;
  const char* file;
};

void PrintTo(const Signal& signal, std::ostream* out) { *out << signal.name; }

class LoudnessOfSignal : public LoudnessStageTest, public ::testing::WithParamInterface<Signal> {};

TEST_P(LoudnessOfSignal, MatchesFfmpegEbur128) {
  const Signal& signal = GetParam();
  std::string path = Generate(signal.file, signal.graph);
  Reference want = FfmpegEbur128(path);
  StageOutcome outcome = Run(path);
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  const nlohmann::json& meta = outcome.result.metadata;
  ASSERT_TRUE(meta["integrated_lufs"].is_number()) << meta.dump();
  double integrated = meta["integrated_lufs"].get<double>();
  double range = meta["loudness_range_lu"].get<double>();
  double true_peak = meta["true_peak_dbtp"].get<double>();
  std::cout << signal.name << ": I " << integrated << " vs " << want.integrated << ", LRA " << range
            << " vs " << want.range << ", TP " << true_peak << " vs " << want.true_peak << "\n";
  EXPECT_NEAR(integrated, want.integrated, 0.3);
  EXPECT_NEAR(range, want.range, 0.3);
  EXPECT_NEAR(true_peak, want.true_peak, 0.5);
  EXPECT_GE(true_peak, meta["sample_peak_dbfs"].get<double>() - 0.01);
}

INSTANTIATE_TEST_SUITE_P(
    Signals, LoudnessOfSignal,
    ::testing::Values(
        Signal{"pink_loud", "anoisesrc=c=pink:seed=11:a=0.3:d=12:r=48000,pan=stereo|c0=c0|c1=c0",
               "pink_loud.wav"},
        Signal{"pink_quiet", "anoisesrc=c=pink:seed=12:a=0.02:d=12:r=48000", "pink_quiet.wav"},
        Signal{"sine_fade",
               "sine=f=997:sample_rate=44100:d=12,volume=0.5,afade=t=in:d=4,"
               "afade=t=out:st=8:d=4",
               "sine_fade.flac"},
        Signal{"music_mix",
               "aevalsrc='0.3*sin(2*PI*220*t)*(0.6+0.4*sin(2*PI*0.25*t))+0.2*sin(2*PI*330*t)*"
               "exp(-4*mod(t,0.5))+0.1*sin(2*PI*55*t)*exp(-8*mod(t,1))|0.25*sin(2*PI*277*t)*"
               "(0.5+0.5*sin(2*PI*0.1*t))+0.2*sin(2*PI*440*t)*exp(-3*mod(t+0.25,0.5))':"
               "s=44100:d=15",
               "music_mix.flac"}),
    [](const ::testing::TestParamInfo<Signal>& param) { return std::string(param.param.name); });

// libebur128 documents -HUGE_VAL when every block is under the -70 LUFS gate; -inf is
// not JSON, so it is stored as null, and so are the peaks of digital silence.
TEST_F(LoudnessStageTest, SilenceHasNullLoudnessAndPeaks) {
  std::string path = Generate("silence.wav", "anullsrc=r=48000:cl=stereo", {"-t", "3"});
  StageOutcome outcome = Run(path);
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  const nlohmann::json& meta = outcome.result.metadata;
  EXPECT_TRUE(meta["integrated_lufs"].is_null()) << meta.dump();
  EXPECT_TRUE(meta["true_peak_dbtp"].is_null()) << meta.dump();
  EXPECT_TRUE(meta["sample_peak_dbfs"].is_null()) << meta.dump();
  EXPECT_EQ(meta["loudness_range_lu"], 0.0);
  EXPECT_EQ(meta["sample_rate"], 48000);
  EXPECT_EQ(meta["channels"], 2);
}

TEST_F(LoudnessStageTest, MetadataNamesSourceFormat) {
  StageOutcome outcome = Run(samples_->Wav());
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  const nlohmann::json& meta = outcome.result.metadata;
  EXPECT_EQ(meta["sample_rate"], 44100);
  EXPECT_EQ(meta["channels"], 1);
  for (const char* key :
       {"integrated_lufs", "loudness_range_lu", "true_peak_dbtp", "sample_peak_dbfs"}) {
    EXPECT_TRUE(meta[key].is_number()) << key << " in " << meta.dump();
  }
}

TEST_F(LoudnessStageTest, SkipsInputsWithoutEnoughAudio) {
  StageOutcome video_only = Run(samples_->VideoOnlyMp4());
  EXPECT_EQ(video_only.state, catalog::DerivativeState::kSkipped);
  EXPECT_EQ(video_only.skip_reason, "no_audio_stream");

  std::string blip = Generate("blip.wav", "sine=f=440:sample_rate=48000:d=0.3");
  StageOutcome short_one = Run(blip);
  EXPECT_EQ(short_one.state, catalog::DerivativeState::kSkipped);
  EXPECT_EQ(short_one.skip_reason, "too_short");
}

TEST_F(LoudnessStageTest, HasNoParams) {
  EXPECT_EQ(Stage()->Params(), nlohmann::json::object());
  auto bad = LoudnessStage::Create({{"target", -23}});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

// Loudness shares the pass with a thumbnail that stops after one frame: both get what
// they asked for, and the audio is read to its end.
TEST_F(LoudnessStageTest, SharesTheDecodePassWithThumbnail) {
  auto loudness = Stage();
  auto thumbnail = ThumbnailStage::Create(nullptr);
  ASSERT_TRUE(thumbnail.has_value());
  MemorySink sinks[2];
  StageTask tasks[] = {{thumbnail->get(), &sinks[0]}, {loudness.get(), &sinks[1]}};
  auto reader = testing::OpenOrDie(samples_->LongMp4());
  auto report = RunStages(*reader, tasks);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  for (const StageOutcome& outcome : report->outcomes) {
    EXPECT_EQ(outcome.state, catalog::DerivativeState::kDone)
        << outcome.stage->Name() << ": "
        << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  }
  EXPECT_EQ(sinks[0].files.count("thumb.jpg"), 1u);
  EXPECT_TRUE(report->outcomes[1].result.metadata["integrated_lufs"].is_number());
  EXPECT_TRUE(report->stats.input_ended);
}

}  // namespace
}  // namespace reprise::stages
