#include "stages/fingerprint_stage.h"

#include <iostream>
#include <string>

#include <gtest/gtest.h>

#include "stages/runner.h"
#include "tests/media/media_test_util.h"
#include "tests/stages/memory_sink.h"
#include "tests/support/media_suite.h"

namespace reprise::stages {
namespace {

using catalog::DerivativeState;

constexpr double kTuneSeconds = 20.0;

// A melody of sine tones: a new note every 1/`notes_per_second` s, stepping `step`
// semitones at a time through `range` semitones above 220 Hz. Different arguments make
// unrelated tunes; fixed ones make the same tune every time.
std::string Tune(int notes_per_second, int step, int range) {
  std::string note = "mod(floor(t*" + std::to_string(notes_per_second) + ")*" +
                     std::to_string(step) + "\\," + std::to_string(range) + ")";
  return "aevalsrc=0.5*sin(2*PI*t*220*pow(2\\," + note +
         "/12)):s=44100:d=" + std::to_string(kTuneSeconds);
}

class FingerprintStageTest : public testing::MediaSuite {
 protected:
  static std::unique_ptr<FingerprintStage> Stage(const nlohmann::json& overrides = nullptr) {
    auto stage = FingerprintStage::Create(overrides);
    EXPECT_TRUE(stage.has_value()) << (stage ? "" : stage.error().ToString());
    return stage ? std::move(*stage) : nullptr;
  }

  static RunReport Run(const std::string& path, const FingerprintStage& stage) {
    auto reader = testing::OpenOrDie(path);
    MemorySink sink;
    StageTask task{&stage, &sink};
    auto report = RunStages(*reader, std::span(&task, 1));
    EXPECT_TRUE(report.has_value()) << (report ? "" : report.error().ToString());
    EXPECT_TRUE(sink.files.empty());
    return report ? std::move(*report) : RunReport{};
  }

  // The fingerprint metadata of `path` with default params.
  static nlohmann::json FingerprintOf(const std::string& path) {
    auto stage = Stage();
    RunReport report = Run(path, *stage);
    if (report.outcomes.size() != 1) return nullptr;
    const StageOutcome& outcome = report.outcomes[0];
    EXPECT_EQ(outcome.state, DerivativeState::kDone)
        << path << ": " << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
    return outcome.result.metadata;
  }

  static double Similarity(const nlohmann::json& a, const nlohmann::json& b, const char* what) {
    auto similarity = FingerprintSimilarity(a["fingerprint"].get<std::string>(),
                                            b["fingerprint"].get<std::string>());
    EXPECT_TRUE(similarity.has_value()) << (similarity ? "" : similarity.error().ToString());
    std::cout << "[ similar  ] " << what << ": " << similarity.value_or(-1) << "\n";
    return similarity.value_or(-1);
  }

  static std::string MakeTune(const std::string& name, int notes_per_second, int step, int range) {
    std::string path = samples_->dir().Join(name + ".wav");
    EXPECT_TRUE(testing::Ffmpeg(
        {"-f", "lavfi", "-i", Tune(notes_per_second, step, range), "-c:a", "pcm_s16le", path}));
    return path;
  }
};

TEST_F(FingerprintStageTest, MetadataHasTheFingerprintAndHowMuchAudioItCovers) {
  nlohmann::json meta = FingerprintOf(MakeTune("meta", 4, 7, 24));
  ASSERT_TRUE(meta.is_object());
  EXPECT_EQ(meta["algorithm"], 1);  // CHROMAPRINT_ALGORITHM_DEFAULT
  EXPECT_NEAR(meta["duration_seconds_used"].get<double>(), kTuneSeconds, 0.1);
  std::string fingerprint = meta["fingerprint"].get<std::string>();
  EXPECT_GT(fingerprint.size(), 100u);
  EXPECT_EQ(fingerprint.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  EXPECT_EQ(FingerprintSimilarity(fingerprint, fingerprint).value_or(-1), 1.0);
}

TEST_F(FingerprintStageTest, SameAudioAsWavAndMp3IsSimilar) {
  std::string wav = MakeTune("tune", 4, 7, 24);
  std::string mp3 = samples_->dir().Join("tune.mp3");
  ASSERT_TRUE(testing::Ffmpeg({"-i", wav, "-c:a", "libmp3lame", "-b:a", "128k", mp3}));
  std::string delayed = samples_->dir().Join("tune_delayed.mp3");
  ASSERT_TRUE(testing::Ffmpeg(
      {"-i", wav, "-af", "adelay=500:all=1", "-c:a", "libmp3lame", "-b:a", "128k", delayed}));

  nlohmann::json from_wav = FingerprintOf(wav);
  nlohmann::json from_mp3 = FingerprintOf(mp3);
  nlohmann::json from_delayed = FingerprintOf(delayed);
  EXPECT_GE(Similarity(from_wav, from_mp3, "wav vs mp3 128k"), 0.8);
  EXPECT_GE(Similarity(from_wav, from_delayed, "wav vs mp3 with 0.5 s of leading silence"), 0.8);
  EXPECT_GE(Similarity(from_delayed, from_wav, "the same, the other way round"), 0.8);
}

TEST_F(FingerprintStageTest, DifferentAudioIsNotSimilar) {
  nlohmann::json a = FingerprintOf(MakeTune("a", 4, 7, 24));
  nlohmann::json b = FingerprintOf(MakeTune("b", 3, 5, 19));
  nlohmann::json c = FingerprintOf(MakeTune("c", 5, 11, 17));
  EXPECT_LE(Similarity(a, b, "tune a vs tune b"), 0.5);
  EXPECT_LE(Similarity(a, c, "tune a vs tune c"), 0.5);
  EXPECT_LE(Similarity(b, c, "tune b vs tune c"), 0.5);
}

TEST_F(FingerprintStageTest, StopsReadingAfterMaxSeconds) {
  const std::string& path = samples_->LongMp4();  // 10 s
  auto whole_stage = Stage();
  RunReport whole = Run(path, *whole_stage);
  auto short_stage = Stage({{"max_seconds", 3}});
  RunReport part = Run(path, *short_stage);
  ASSERT_EQ(part.outcomes.size(), 1u);
  ASSERT_EQ(part.outcomes[0].state, DerivativeState::kDone);
  EXPECT_NEAR(part.outcomes[0].result.metadata["duration_seconds_used"].get<double>(), 3.0, 0.01);
  EXPECT_FALSE(part.stats.input_ended);
  EXPECT_TRUE(whole.stats.input_ended);
  EXPECT_LT(part.stats.packets_read * 2, whole.stats.packets_read);
  EXPECT_LT(part.stats.audio_frames_decoded * 2, whole.stats.audio_frames_decoded);
}

TEST_F(FingerprintStageTest, InputsWithoutEnoughAudioAreSkipped) {
  auto stage = Stage();
  EXPECT_EQ(Run(samples_->VideoOnlyMp4(), *stage).outcomes.at(0).skip_reason, "no_audio_stream");
  for (const std::string& path : {samples_->Wav(), samples_->H264AacMp4()}) {  // 1.5 s, 2 s
    StageOutcome outcome = Run(path, *stage).outcomes.at(0);
    EXPECT_EQ(outcome.state, DerivativeState::kSkipped) << path;
    EXPECT_EQ(outcome.skip_reason, "too_short") << path;
  }
}

TEST_F(FingerprintStageTest, SimilarityRejectsWhatIsNotAFingerprint) {
  for (const char* bad : {"", "not a fingerprint!"}) {
    auto similarity = FingerprintSimilarity(bad, bad);
    ASSERT_FALSE(similarity.has_value()) << bad;
    EXPECT_EQ(similarity.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST_F(FingerprintStageTest, ParamsAreValidated) {
  EXPECT_EQ(Stage()->Params(), nlohmann::json({{"max_seconds", 120}}));
  for (const nlohmann::json& bad :
       {nlohmann::json{{"max_seconds", 1}}, nlohmann::json{{"max_seconds", "all"}},
        nlohmann::json{{"max_seconds", 1.5}}, nlohmann::json{{"rate", 8000}}}) {
    auto stage = FingerprintStage::Create(bad);
    ASSERT_FALSE(stage.has_value()) << bad.dump();
    EXPECT_EQ(stage.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(stage.error().message.find("fingerprint"), std::string::npos)
        << stage.error().message;
  }
}

}  // namespace
}  // namespace reprise::stages
