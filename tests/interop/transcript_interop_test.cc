// The transcript stage's captions.vtt as an independent WebVTT parser reads it (npm
// webvtt-parser 2.2.0, installed by scripts/install-deps.sh; tests/interop/webvtt/
// check_captions.js): no parse errors, the cue times the stage wrote, and cue text that
// the parser takes for text, not markup, also where it holds '<', '&' and "-->".
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "stages/speech/captions.h"
#include "stages/transcript_stage.h"
#include "tests/stages/memory_sink.h"
#include "tests/stages/speech_test_util.h"
#include "tests/support/media_suite.h"

namespace reprise::stages {
namespace {

class TranscriptInterop : public testing::MediaSuite {
 protected:
  void SetUp() override {
    ASSERT_EQ(testing::RunCommand({"test", "-d", std::string(kDir) + "/node_modules/webvtt-parser"})
                  .exit_code,
              0)
        << "the WebVTT parser is missing: run scripts/install-deps.sh (npm ci in " << kDir << ")";
  }

  // The parser's reading of `vtt`: {"cues": [...]}, or a test failure and null.
  nlohmann::json Parse(const std::string& vtt, const std::string& name) {
    std::string path = samples_->dir().Join(name);
    testing::WriteFile(path, vtt);
    testing::CommandResult run =
        testing::RunCommand({"node", std::string(kDir) + "/check_captions.js", path});
    EXPECT_EQ(run.exit_code, 0) << run.output << "\n" << vtt;
    return run.exit_code == 0 ? nlohmann::json::parse(run.out) : nlohmann::json();
  }

  // Each cue as the parser read it matches the cue we wrote.
  static void ExpectSame(const nlohmann::json& parsed, const std::vector<speech::Cue>& cues) {
    ASSERT_TRUE(parsed.is_object());  // Parse() failed the test already
    ASSERT_EQ(parsed.at("cues").size(), cues.size());
    for (size_t i = 0; i < cues.size(); ++i) {
      const nlohmann::json& cue = parsed["cues"][i];
      EXPECT_NEAR(cue.at("start").get<double>(), cues[i].start, 0.0005);
      EXPECT_NEAR(cue.at("end").get<double>(), cues[i].end, 0.0005);
      std::string text;
      for (const std::string& line : cues[i].lines) {
        text += (text.empty() ? "" : "\n") + speech::EscapeVttText(line);
      }
      EXPECT_EQ(cue.at("text"), text);
      EXPECT_EQ(cue.at("tags"), 0) << text;
    }
  }

  static constexpr const char* kDir = REPRISE_WEBVTT_DIR;
};

TEST_F(TranscriptInterop, TheStagesCaptionsOfRecordedSpeechParse) {
  auto stage = TranscriptStage::Create(nullptr);
  ASSERT_TRUE(stage.has_value()) << stage.error().ToString();
  MemorySink sink;
  StageOutcome outcome = RunAlone(
      **stage,
      "/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav",
      sink);
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  const std::string& vtt = sink.files.at(std::string(TranscriptStage::kVttName));
  auto ours = speech::testing::ParseVtt(vtt);
  ASSERT_TRUE(ours.has_value()) << ours.error();
  ASSERT_FALSE(ours->empty());
  ExpectSame(Parse(vtt, "captions.vtt"), *ours);
}

TEST_F(TranscriptInterop, MarkupCharactersInTextStayText) {
  std::vector<speech::Cue> cues = {{0.5, 2, {"a < b && c --> d", "<i>not italic</i>"}},
                                   {2, 3661.25, {"x > y; -- > --> &amp;"}}};
  std::string vtt = speech::VttHeader();
  for (const speech::Cue& cue : cues) vtt += speech::VttCue(cue);
  ExpectSame(Parse(vtt, "markup.vtt"), cues);
}

}  // namespace
}  // namespace reprise::stages
