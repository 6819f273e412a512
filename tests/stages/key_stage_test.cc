#include "stages/key_stage.h"

#include <cmath>
#include <iostream>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "stages/runner.h"
#include "tests/media/media_test_util.h"
#include "tests/stages/memory_sink.h"
#include "tests/support/media_suite.h"

namespace reprise::stages {
namespace {

// A three-note chord: semitones above the progression's tonic.
using Chord = std::vector<int>;

const std::vector<Chord> kMajorCadence = {{0, 4, 7}, {5, 9, 12}, {7, 11, 14}, {0, 4, 7}};
const std::vector<Chord> kMinorCadence = {{0, 3, 7}, {5, 8, 12}, {7, 11, 14}, {0, 3, 7}};

constexpr double kChordSeconds = 2.0;
constexpr double kProgressionSeconds = 16.0;  // the cadence twice

double Hz(int midi) { return 440.0 * std::pow(2.0, (midi - 69) / 12.0); }

// One chord as an aevalsrc expression: sine tones for the chord plus a triangle bass an
// octave below its lowest note (asin(sin(x)) is a triangle wave).
std::string ChordExpression(int tonic_midi, const Chord& chord) {
  std::string expr =
      "0.3*asin(sin(2*PI*" + std::to_string(Hz(tonic_midi + chord[0] - 12)) + "*t))/PI";
  for (int note : chord) expr += "+0.2*sin(2*PI*" + std::to_string(Hz(tonic_midi + note)) + "*t)";
  return expr;
}

// The cadence repeated over kProgressionSeconds, one chord every kChordSeconds, as a
// 44.1 kHz mono WAV (the stage resamples it).
void WriteCadence(const std::string& path, int tonic_midi, const std::vector<Chord>& cadence) {
  const double cycle = kChordSeconds * static_cast<double>(cadence.size());
  std::string expr = ChordExpression(tonic_midi, cadence.back());
  for (size_t i = cadence.size() - 1; i-- > 0;) {
    expr = "if(lt(mod(t\\," + std::to_string(cycle) + ")\\," +
           std::to_string(kChordSeconds * static_cast<double>(i + 1)) + ")\\," +
           ChordExpression(tonic_midi, cadence[i]) + "\\," + expr + ")";
  }
  ASSERT_TRUE(
      testing::Ffmpeg({"-f", "lavfi", "-i",
                       "aevalsrc=" + expr + ":s=44100:d=" + std::to_string(kProgressionSeconds),
                       "-c:a", "pcm_s16le", path}));
}

class KeyStageTest : public testing::MediaSuite {
 protected:
  static std::unique_ptr<KeyStage> Stage(const nlohmann::json& overrides = nullptr) {
    auto stage = KeyStage::Create(overrides);
    EXPECT_TRUE(stage.has_value()) << (stage ? "" : stage.error().ToString());
    return stage ? std::move(*stage) : nullptr;
  }

  static StageOutcome Run(const std::string& path, const KeyStage& stage) {
    auto reader = testing::OpenOrDie(path);
    MemorySink sink;
    StageTask task{&stage, &sink};
    auto report = RunStages(*reader, std::span(&task, 1));
    EXPECT_TRUE(report.has_value()) << (report ? "" : report.error().ToString());
    EXPECT_TRUE(sink.files.empty());
    if (!report) return {};
    return report->outcomes[0];
  }

  // The key metadata of a generated cadence.
  static nlohmann::json KeyOf(const std::string& name, int tonic_midi,
                              const std::vector<Chord>& cadence) {
    std::string path = samples_->dir().Join(name + ".wav");
    WriteCadence(path, tonic_midi, cadence);
    auto stage = Stage();
    StageOutcome outcome = Run(path, *stage);
    EXPECT_EQ(outcome.state, catalog::DerivativeState::kDone)
        << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
    std::cout << "[ key      ] " << name << ": " << outcome.result.metadata.dump() << "\n";
    return outcome.result.metadata;
  }
};

struct Expected {
  const char* name;
  int tonic_midi;
  bool minor;
  const char* key;
  const char* camelot;
  const char* open_key;
};

void PrintTo(const Expected& want, std::ostream* out) {
  *out << want.key << (want.minor ? " minor" : " major");
}

class KeyOfCadence : public KeyStageTest, public ::testing::WithParamInterface<Expected> {};

TEST_P(KeyOfCadence, FindsTonicAndMode) {
  const Expected& want = GetParam();
  nlohmann::json meta =
      KeyOf(want.name, want.tonic_midi, want.minor ? kMinorCadence : kMajorCadence);
  std::string mode = want.minor ? "minor" : "major";
  EXPECT_EQ(meta["key"], want.key);
  EXPECT_EQ(meta["mode"], mode);
  EXPECT_EQ(meta["name"], std::string(want.key) + " " + mode);
  EXPECT_EQ(meta["camelot"], want.camelot);
  EXPECT_EQ(meta["open_key"], want.open_key);
  EXPECT_GT(meta["confidence"].get<double>(), 0.02);
  EXPECT_GT(meta["correlation"].get<double>(), 0.6);
  ASSERT_EQ(meta["chroma"].size(), 12u);
  double sum = 0;
  for (const auto& value : meta["chroma"]) sum += value.get<double>();
  EXPECT_NEAR(sum, 1.0, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Cadences, KeyOfCadence,
                         ::testing::Values(Expected{"c_major", 60, false, "C", "8B", "1d"},
                                           Expected{"a_minor", 57, true, "A", "8A", "1m"},
                                           Expected{"f_sharp_major", 66, false, "F#", "2B", "7d"},
                                           // E-flat is spelled with sharps: D# minor.
                                           Expected{"e_flat_minor", 63, true, "D#", "2A", "7m"},
                                           Expected{"g_major", 55, false, "G", "9B", "2d"},
                                           Expected{"d_minor", 62, true, "D", "7A", "12m"}),
                         [](const ::testing::TestParamInfo<Expected>& param) {
                           return std::string(param.param.name);
                         });

// C major and A minor use the same seven pitches; only the weight of the tonic triad
// and A minor's raised seventh (G#) tell them apart.
TEST_F(KeyStageTest, RelativeMajorAndMinorAreToldApart) {
  nlohmann::json major = KeyOf("relative_major", 60, kMajorCadence);
  nlohmann::json minor = KeyOf("relative_minor", 57, kMinorCadence);
  EXPECT_EQ(major["name"], "C major");
  EXPECT_EQ(minor["name"], "A minor");
  EXPECT_EQ(major["camelot"].get<std::string>().substr(0, 1), "8");
  EXPECT_EQ(minor["camelot"].get<std::string>().substr(0, 1), "8");
  // The chroma shows the tonics: C weighs more in C major, A in A minor.
  EXPECT_GT(major["chroma"][0].get<double>(), major["chroma"][9].get<double>());
  EXPECT_GT(minor["chroma"][9].get<double>(), minor["chroma"][0].get<double>());
}

TEST_F(KeyStageTest, InputsWithoutEnoughAudioAreSkipped) {
  auto stage = Stage();
  EXPECT_EQ(Run(samples_->VideoOnlyMp4(), *stage).skip_reason, "no_audio_stream");
  EXPECT_EQ(Run(samples_->PngImage(), *stage).skip_reason, "no_audio_stream");
  StageOutcome wav = Run(samples_->Wav(), *stage);  // 1.5 s
  EXPECT_EQ(wav.state, catalog::DerivativeState::kSkipped);
  EXPECT_EQ(wav.skip_reason, "too_short");
}

TEST_F(KeyStageTest, SilenceFailsAsUnsupported) {
  std::string path = samples_->dir().Join("silence.wav");
  ASSERT_TRUE(testing::Ffmpeg(
      {"-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "3", "-c:a", "pcm_s16le", path}));
  auto stage = Stage();
  StageOutcome outcome = Run(path, *stage);
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kFailed);
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_EQ(outcome.error->code, ErrorCode::kUnsupportedMedia);
}

TEST_F(KeyStageTest, ParamsAreValidated) {
  EXPECT_EQ(Stage()->Params(), nlohmann::json({{"frame_size", 8192}}));
  EXPECT_EQ(Stage({{"frame_size", 4096}})->Params(), nlohmann::json({{"frame_size", 4096}}));
  for (const nlohmann::json& bad :
       {nlohmann::json{{"frame_size", 5000}}, nlohmann::json{{"frame_size", 512}},
        nlohmann::json{{"frame_size", "big"}}, nlohmann::json{{"profile", "temperley"}}}) {
    auto stage = KeyStage::Create(bad);
    ASSERT_FALSE(stage.has_value()) << bad.dump();
    EXPECT_EQ(stage.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(stage.error().message.find("key"), std::string::npos) << stage.error().message;
  }
}

}  // namespace
}  // namespace reprise::stages
