// The chapters stage's chapters.vtt as an independent WebVTT parser reads it (npm
// webvtt-parser 2.2.0 in its "chapters" mode, which allows no markup in titles;
// tests/interop/webvtt/check_chapters.js): no parse errors, cues covering [0, duration]
// without gaps or overlaps, and each cue's text the title chapters.json has, escaped as
// WebVTT requires and read as text, not markup, also where the tags it is made of hold
// '<', '&' and "-->".
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "stages/chapters_stage.h"
#include "stages/scenes_stage.h"
#include "stages/speech/captions.h"
#include "tests/media/media_test_util.h"
#include "tests/stages/chapters_inputs.h"
#include "tests/stages/memory_inputs.h"
#include "tests/stages/memory_sink.h"
#include "tests/stages/storyboard_samples.h"
#include "tests/support/media_suite.h"

namespace reprise::stages {
namespace {

class ChaptersInterop : public testing::MediaSuite {
 protected:
  void SetUp() override {
    ASSERT_EQ(testing::RunCommand({"test", "-d", std::string(kDir) + "/node_modules/webvtt-parser"})
                  .exit_code,
              0)
        << "the WebVTT parser is missing: run scripts/install-deps.sh (npm ci in " << kDir << ")";
  }

  // Runs chapters (local, chapters of any length) after `inputs` on `video`; its files.
  std::map<std::string, std::string> Chapters(const std::vector<const Stage*>& inputs,
                                              const std::string& video) {
    auto stage = ChaptersStage::Create({{"min_chapter_seconds", 0.0}});
    EXPECT_TRUE(stage) << stage.error().ToString();
    std::vector<const Stage*> stages = {stage->get()};
    stages.insert(stages.end(), inputs.begin(), inputs.end());
    MemoryInputs recorded;
    std::vector<std::unique_ptr<MemorySink>> sinks;
    auto reader = testing::OpenOrDie(video);
    auto report = RunRecorded(*reader, stages, recorded, sinks);
    EXPECT_TRUE(report.has_value()) << (report ? "" : report.error().ToString());
    if (!report) return {};
    const StageOutcome& outcome = report->outcomes[0];
    EXPECT_EQ(outcome.state, catalog::DerivativeState::kDone)
        << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
    return sinks[0]->files;
  }

  // The parser's verdict on chapters.vtt, compared with chapters.json.
  void ExpectAccepted(const std::map<std::string, std::string>& files, double duration) {
    ASSERT_EQ(files.count("chapters.vtt"), 1u);
    std::string path = dir_.Join("chapters.vtt");
    testing::WriteFile(path, files.at("chapters.vtt"));
    testing::CommandResult verdict = testing::RunCommand(
        {"node", std::string(kDir) + "/check_chapters.js", path, std::to_string(duration)});
    ASSERT_EQ(verdict.exit_code, 0) << verdict.output << "\n" << files.at("chapters.vtt");
    auto cues = nlohmann::json::parse(verdict.out).at("cues");
    auto chapters = nlohmann::json::parse(files.at("chapters.json")).at("chapters");
    ASSERT_EQ(cues.size(), chapters.size());
    for (size_t k = 0; k < cues.size(); ++k) {
      EXPECT_EQ(cues[k].at("title"),
                speech::EscapeVttText(chapters[k].at("title").get<std::string>()))
          << files.at("chapters.vtt");
      EXPECT_EQ(cues[k].at("tags"), 0) << files.at("chapters.vtt");
      EXPECT_NEAR(cues[k].at("start").get<double>(), chapters[k].at("start").get<double>(), 0.0005);
      EXPECT_NEAR(cues[k].at("end").get<double>(), chapters[k].at("end").get<double>(), 0.0005);
    }
  }

  static constexpr const char* kDir = REPRISE_WEBVTT_DIR;
  testing::TempDir dir_;
};

// After the real scenes stage on a video whose colour changes every 2 s, each scene tagged
// by a semantics stand-in: one chapter per scene up to the duration scenes.json reports.
TEST_F(ChaptersInterop, ChaptersOfRealScenesParseAndCoverTheVideo) {
  std::string video = dir_.Join("steps.mp4");
  ASSERT_TRUE(testing::ColourSteps(
      video, {.width = 64, .height = 36, .frame_rate = 10, .seconds = 8, .step = 2}));
  auto scenes = ScenesStage::Create(nullptr);
  ASSERT_TRUE(scenes) << scenes.error().ToString();
  ScenesSeen seen;
  JsonFileStage semantics("semantics", "semantics.json", TagEachScene(seen), {"scenes"});
  JsonFileStage transcript("transcript", "transcript.json", nullptr, {}, "no_audio_stream");
  auto files = Chapters({scenes->get(), &semantics, &transcript}, video);
  ASSERT_GT(seen.duration, 7.5);
  EXPECT_GE(nlohmann::json::parse(files.at("chapters.json")).at("chapters").size(), 3u);
  ExpectAccepted(files, seen.duration);
}

// Titles made of tags holding markup characters stay text, and times past an hour parse.
TEST_F(ChaptersInterop, MarkupInTitlesStaysTextAndLongTimesParse) {
  std::vector<TaggedScene> scenes = {{0, 1800, {"rock & roll", "<b>live</b>"}, "A concert."},
                                     {1800, 3700.25, {"a --> b", "x < y"}, "A lecture."},
                                     {3700.25, 4000, {"&amp;"}, "Credits."}};
  JsonFileStage scenes_stage("scenes", "scenes.json",
                             [&](const StageInputs*) { return ScenesJson(scenes, 4000.5); });
  JsonFileStage semantics("semantics", "semantics.json",
                          [&](const StageInputs*) { return SemanticsJson(scenes); });
  JsonFileStage transcript("transcript", "transcript.json", nullptr, {}, "no_speech");
  auto files = Chapters({&scenes_stage, &semantics, &transcript}, samples_->H264AacMp4());
  auto chapters = nlohmann::json::parse(files.at("chapters.json")).at("chapters");
  ASSERT_EQ(chapters.size(), 3u);
  EXPECT_EQ(chapters[0].at("title"), "Rock & roll, <b>live</b>");
  EXPECT_EQ(chapters[1].at("title"), "A --> b, x < y");
  ExpectAccepted(files, 4000.5);
}

}  // namespace
}  // namespace reprise::stages
