// The chapters stage through the runner, after stand-ins for its inputs (scenes.json,
// semantics.json and transcript.json written in their stages' shapes by
// tests/stages/chapters_inputs.h) or after the real scenes stage on a generated video:
// local grouping by tags, the model backend against an OpenAI-compatible server on
// loopback, and the recipe's params.
#include "stages/chapters_stage.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ai/service_directory.h"
#include "stages/scenes_stage.h"
#include "tests/media/media_test_util.h"
#include "tests/stages/chapters_inputs.h"
#include "tests/stages/memory_inputs.h"
#include "tests/stages/memory_sink.h"
#include "tests/stages/speech_test_util.h"
#include "tests/stages/storyboard_samples.h"
#include "tests/support/media_suite.h"
#include "tests/support/openai_test_server.h"

namespace reprise::stages {
namespace {

using catalog::DerivativeState;
using ::testing::HasSubstr;

struct Ran {
  StageOutcome outcome;
  std::map<std::string, std::string> files;  // what chapters wrote
};

// Ten-second scenes whose tag sets are A, A, A, B, B, C (A's share "dog"; B's "beach",
// "sea"); the first frame at 0.04 s, as a video's first timestamp may be.
std::vector<TaggedScene> AaaBbc() {
  return {{0.04, 10, {"dog", "park", "running"}, "A dog runs across a park."},
          {10, 20, {"Dog", "park"}, "The dog sniffs the grass of the park."},
          {20, 30, {"dog", "running", "ball"}, "The dog chases a ball."},
          {30, 40, {"beach", "sea"}, "Waves break on a sandy beach."},
          {40, 50, {"beach", "sea", "sunset"}, "The sun sets over the sea."},
          {50, 60, {"city", "night"}, "A city street at night."}};
}

class ChaptersStageTest : public testing::MediaSuite {
 protected:
  // Runs `chapters` after stand-ins writing `scenes` (lasting `duration`), their
  // semantics and `speech` (no speech: transcript skipped with "no_speech").
  Ran RunAfter(const Stage& chapters, const std::vector<TaggedScene>& scenes, double duration,
               const std::vector<SpokenSegment>& speech = {}) {
    JsonFileStage scenes_stage("scenes", "scenes.json",
                               [&](const StageInputs*) { return ScenesJson(scenes, duration); });
    JsonFileStage semantics("semantics", "semantics.json",
                            [&](const StageInputs*) { return SemanticsJson(scenes); }, {"scenes"});
    JsonFileStage transcript(
        "transcript", "transcript.json", [&](const StageInputs*) { return TranscriptJson(speech); },
        {}, speech.empty() ? std::optional<std::string>("no_speech") : std::nullopt);
    return RunWith(chapters, {&scenes_stage, &semantics, &transcript});
  }

  // Runs `chapters` with `inputs` in one job.
  Ran RunWith(const Stage& chapters, std::vector<const Stage*> inputs,
              const std::string& video = "") {
    MemoryInputs recorded;
    std::vector<std::unique_ptr<MemorySink>> sinks;
    inputs.insert(inputs.begin(), &chapters);
    auto reader = testing::OpenOrDie(video.empty() ? samples_->H264AacMp4() : video);
    auto report = RunRecorded(*reader, inputs, recorded, sinks);
    EXPECT_TRUE(report.has_value()) << (report ? "" : report.error().ToString());
    if (!report) return {};
    for (size_t i = 1; i < inputs.size(); ++i) {
      EXPECT_NE(report->outcomes[i].state, DerivativeState::kFailed)
          << inputs[i]->Name() << ": " << report->outcomes[i].error->ToString();
    }
    return {report->outcomes[0], sinks[0]->files};
  }

  static std::unique_ptr<ChaptersStage> Local(const nlohmann::json& overrides = nullptr) {
    auto stage = ChaptersStage::Create(overrides);
    EXPECT_TRUE(stage) << stage.error().ToString();
    return stage ? std::move(*stage) : nullptr;
  }
};

// Checks that chapters.json and chapters.vtt agree and cover [0, duration] without gaps or
// overlaps, every scene in exactly one chapter; the chapters.json document.
nlohmann::json ExpectCovering(const Ran& ran, double duration, size_t scene_count) {
  EXPECT_EQ(ran.outcome.state, DerivativeState::kDone)
      << (ran.outcome.error ? ran.outcome.error->ToString() : ran.outcome.skip_reason);
  if (!ran.files.count("chapters.json") || !ran.files.count("chapters.vtt")) {
    ADD_FAILURE() << "files missing";
    return nlohmann::json::object();
  }
  auto document = nlohmann::json::parse(ran.files.at("chapters.json"));
  auto cues = speech::testing::ParseVtt(ran.files.at("chapters.vtt"));
  EXPECT_TRUE(cues.has_value()) << cues.error();
  if (!cues) return document;
  const nlohmann::json& chapters = document.at("chapters");
  EXPECT_EQ(cues->size(), chapters.size());
  double covered = 0;
  size_t next_scene = 0;
  for (size_t k = 0; k < chapters.size(); ++k) {
    const nlohmann::json& chapter = chapters[k];
    EXPECT_EQ(chapter.at("index"), k);
    EXPECT_DOUBLE_EQ(chapter.at("start").get<double>(), covered) << chapter.dump();
    EXPECT_GT(chapter.at("end").get<double>(), chapter.at("start").get<double>());
    covered = chapter.at("end").get<double>();
    EXPECT_EQ(chapter.at("scenes")[0], next_scene) << chapter.dump();
    next_scene = chapter.at("scenes")[1].get<size_t>() + 1;
    if (k < cues->size()) {
      const speech::Cue& cue = (*cues)[k];
      EXPECT_NEAR(cue.start, chapter.at("start").get<double>(), 0.0005);
      EXPECT_NEAR(cue.end, chapter.at("end").get<double>(), 0.0005);
      EXPECT_EQ(cue.lines, (std::vector<std::string>{chapter.at("title").get<std::string>()}));
    }
  }
  EXPECT_NEAR(covered, duration, 0.0005);
  EXPECT_EQ(next_scene, scene_count);
  return document;
}

std::vector<std::string> Titles(const nlohmann::json& document) {
  std::vector<std::string> titles;
  for (const auto& chapter : document.at("chapters")) {
    titles.push_back(chapter.at("title").get<std::string>());
  }
  return titles;
}

std::vector<std::vector<size_t>> SceneRanges(const nlohmann::json& document) {
  std::vector<std::vector<size_t>> ranges;
  for (const auto& chapter : document.at("chapters")) {
    ranges.push_back(chapter.at("scenes").get<std::vector<size_t>>());
  }
  return ranges;
}

// --- local ---

TEST_F(ChaptersStageTest, LocalChaptersStartWhereTheTagsChangeAndAreTitledByThem) {
  auto stage = Local({{"min_chapter_seconds", 10.0}});
  EXPECT_EQ(stage->Params().at("backend"), "local");
  EXPECT_TRUE(stage->Services().empty());
  Ran ran = RunAfter(
      *stage, AaaBbc(), 60,
      {{31.5, 34, "we reached the beach at last and the water was cold"}, {52, 53, "look"}});
  nlohmann::json document = ExpectCovering(ran, 60, 6);
  EXPECT_EQ(document.at("source"), "local");
  EXPECT_FALSE(document.contains("usage"));
  EXPECT_EQ(SceneRanges(document), (std::vector<std::vector<size_t>>{{0, 2}, {3, 4}, {5, 5}}));
  // Most frequent first (dog 3; park and running 2, park seen first), tags lowercased.
  EXPECT_EQ(Titles(document),
            (std::vector<std::string>{"Dog, park, running", "Beach, sea, sunset", "City, night"}));
  const auto& chapters = document.at("chapters");
  EXPECT_EQ(chapters[1].at("start"), 30.0);
  EXPECT_EQ(chapters[2].at("start"), 50.0);
  // Words spoken in a chapter, as transcribed: its first eight; none where none were.
  EXPECT_FALSE(chapters[0].contains("subtitle"));
  EXPECT_EQ(chapters[1].at("subtitle"), "we reached the beach at last and the");
  EXPECT_EQ(chapters[2].at("subtitle"), "look");
  const nlohmann::json& meta = ran.outcome.result.metadata;
  EXPECT_EQ(meta.at("source"), "local");
  EXPECT_EQ(meta.at("chapters"), 3);
  EXPECT_EQ(meta.at("scenes"), 6);
  EXPECT_EQ(meta.at("duration"), 60.0);
}

TEST_F(ChaptersStageTest, MinChapterSecondsAndMaxChaptersMergeChapters) {
  // C lasts 10 s, under the default 30 s: it joins B.
  Ran merged = RunAfter(*Local(), AaaBbc(), 60);
  nlohmann::json document = ExpectCovering(merged, 60, 6);
  EXPECT_EQ(SceneRanges(document), (std::vector<std::vector<size_t>>{{0, 2}, {3, 5}}));
  EXPECT_EQ(Titles(document)[1], "Beach, sea, sunset");
  // Longer than the video: one chapter.
  document = ExpectCovering(RunAfter(*Local({{"min_chapter_seconds", 31.0}}), AaaBbc(), 60), 60, 6);
  EXPECT_EQ(SceneRanges(document), (std::vector<std::vector<size_t>>{{0, 5}}));
  EXPECT_EQ(Titles(document), (std::vector<std::string>{"Dog, park, running"}));
  // Two of three possible chapters: both boundaries are as different, the earlier wins.
  document = ExpectCovering(
      RunAfter(*Local({{"min_chapter_seconds", 0.0}, {"max_chapters", 2}}), AaaBbc(), 60), 60, 6);
  EXPECT_EQ(SceneRanges(document), (std::vector<std::vector<size_t>>{{0, 2}, {3, 5}}));
}

TEST_F(ChaptersStageTest, TheLeastSimilarBoundaryIsKeptFirst) {
  // Between 0 and 1 the tags half change (1/3), between 1 and 2 wholly: with room for
  // two chapters the wholly different boundary is the one kept.
  std::vector<TaggedScene> scenes = {
      {0, 10, {"a", "b"}, "one"}, {10, 20, {"b", "c"}, "two"}, {20, 30, {"x", "y"}, "three"}};
  auto stage =
      Local({{"min_chapter_seconds", 0.0}, {"max_chapters", 2}, {"similarity_threshold", 0.5}});
  nlohmann::json document = ExpectCovering(RunAfter(*stage, scenes, 30), 30, 3);
  EXPECT_EQ(SceneRanges(document), (std::vector<std::vector<size_t>>{{0, 1}, {2, 2}}));
  EXPECT_EQ(Titles(document), (std::vector<std::string>{"B, a, c", "X, y"}));
}

TEST_F(ChaptersStageTest, ScenesThatFailedInSemanticsJoinTheirNeighbours) {
  std::vector<TaggedScene> scenes = AaaBbc();
  scenes[0].failed = true;  // first: joins the chapter after it
  scenes[4].failed = true;  // between B and C: joins B, and C still starts a chapter
  auto stage = Local({{"min_chapter_seconds", 5.0}});
  nlohmann::json document = ExpectCovering(RunAfter(*stage, scenes, 60), 60, 6);
  EXPECT_EQ(SceneRanges(document), (std::vector<std::vector<size_t>>{{0, 2}, {3, 4}, {5, 5}}));
  EXPECT_EQ(Titles(document),
            (std::vector<std::string>{"Dog, park, running", "Beach, sea", "City, night"}));
  // All failed: one untitled chapter, named by its number.
  for (TaggedScene& scene : scenes) scene.failed = true;
  document = ExpectCovering(RunAfter(*stage, scenes, 60), 60, 6);
  EXPECT_EQ(Titles(document), (std::vector<std::string>{"Chapter 1"}));
}

TEST_F(ChaptersStageTest, AVideoWithOneSceneIsOneChapter) {
  Ran ran = RunAfter(*Local({{"min_chapter_seconds", 0.0}}),
                     {{0, 7.5, {"kitchen", "cooking"}, "Someone cooks."}}, 7.5);
  nlohmann::json document = ExpectCovering(ran, 7.5, 1);
  EXPECT_EQ(Titles(document), (std::vector<std::string>{"Kitchen, cooking"}));
}

// The real scenes stage on a generated video whose colour changes every 2 s, then a
// semantics stand-in tagging each scene it found by its index: one chapter per scene,
// covering the duration scenes.json reports.
TEST_F(ChaptersStageTest, ChaptersFollowTheRealScenesStage) {
  std::string video = samples_->dir().Join("colour-steps.mp4");
  ASSERT_TRUE(testing::ColourSteps(
      video, {.width = 64, .height = 36, .frame_rate = 10, .seconds = 8, .step = 2}));
  auto scenes = ScenesStage::Create(nullptr);
  ASSERT_TRUE(scenes) << scenes.error().ToString();
  ScenesSeen seen;
  JsonFileStage semantics("semantics", "semantics.json", TagEachScene(seen), {"scenes"});
  JsonFileStage transcript("transcript", "transcript.json", nullptr, {}, "no_audio_stream");
  auto stage = Local({{"min_chapter_seconds", 0.0}});
  Ran ran = RunWith(*stage, {scenes->get(), &semantics, &transcript}, video);
  ASSERT_GE(seen.count, 3u) << "cuts at 4 s and 6 s at least";
  nlohmann::json document = ExpectCovering(ran, seen.duration, seen.count);
  EXPECT_EQ(document.at("chapters").size(), seen.count);
  EXPECT_EQ(Titles(document)[0], "Colour 0");
}

TEST_F(ChaptersStageTest, SkippedWhenScenesWasSkipped) {
  JsonFileStage scenes("scenes", "scenes.json", nullptr, {}, "no_video_stream");
  JsonFileStage semantics("semantics", "semantics.json", nullptr, {"scenes"}, "no_video_stream");
  JsonFileStage transcript("transcript", "transcript.json", [](const StageInputs*) {
    return TranscriptJson({{0, 1, "hello"}});
  });
  auto stage = Local();
  Ran ran = RunWith(*stage, {&scenes, &semantics, &transcript}, samples_->Wav());
  EXPECT_EQ(ran.outcome.state, DerivativeState::kSkipped);
  EXPECT_EQ(ran.outcome.skip_reason, "no_video_stream");
  EXPECT_TRUE(ran.files.empty());
}

TEST_F(ChaptersStageTest, InputsNotInTheirShapeFailNamingTheFile) {
  auto stage = Local();
  JsonFileStage scenes("scenes", "scenes.json", [](const StageInputs*) {
    return R"({"duration": 10, "scenes": [{"start": 0}, {"start": 0}]})";
  });
  JsonFileStage semantics("semantics", "semantics.json", nullptr, {}, "no_video_stream");
  JsonFileStage transcript("transcript", "transcript.json", nullptr, {}, "no_speech");
  Ran ran = RunWith(*stage, {&scenes, &semantics, &transcript});
  ASSERT_EQ(ran.outcome.state, DerivativeState::kFailed);
  EXPECT_EQ(ran.outcome.error->code, ErrorCode::kInternal);
  EXPECT_THAT(ran.outcome.error->message, HasSubstr("scenes.json scene 1 starts at 0"));

  JsonFileStage good_scenes("scenes", "scenes.json",
                            [](const StageInputs*) { return ScenesJson(AaaBbc(), 60); });
  JsonFileStage bad_semantics("semantics", "semantics.json", [](const StageInputs*) {
    return R"({"scenes": [{"index": 6, "description": "", "tags": []}]})";
  });
  ran = RunWith(*stage, {&good_scenes, &bad_semantics, &transcript});
  ASSERT_EQ(ran.outcome.state, DerivativeState::kFailed);
  EXPECT_THAT(ran.outcome.error->message, HasSubstr("semantics.json scene entry 0 has index 6"));
}

// --- backend "openai" ---

nlohmann::json ChapterAt(int start_scene, std::string title) {
  return {{"start_scene", start_scene}, {"title", std::move(title)}};
}

// The model's answer: {"chapters": [...]}.
nlohmann::json Answer(std::vector<nlohmann::json> chapters) {
  return {{"chapters", nlohmann::json(std::move(chapters))}};
}

ServiceSettings ServiceAt(const std::string& base_url) {
  ServiceSettings settings;
  settings.base_url = base_url;
  settings.api_key = "test-key";
  settings.max_attempts = 1;
  settings.timeout_seconds = 30;
  return settings;
}

std::unique_ptr<ai::ServiceDirectory> Directory(
    const std::map<std::string, ServiceSettings>& services, const Clock& clock) {
  auto directory = ai::ServiceDirectory::Create(services, clock);
  EXPECT_TRUE(directory) << directory.error().ToString();
  return directory ? std::move(*directory) : nullptr;
}

class ChaptersModelTest : public ChaptersStageTest {
 protected:
  void SetUp() override {
    directory_ = Directory({{"openai", ServiceAt(server_.base_url())}}, clock_);
  }

  std::unique_ptr<ChaptersStage> Remote(const nlohmann::json& overrides = nullptr) {
    auto stage = ChaptersStage::Create(
        overrides, StageServices(clock_, directory_.get(), {{"chapters", 0.5}}));
    EXPECT_TRUE(stage) << stage.error().ToString();
    return stage ? std::move(*stage) : nullptr;
  }

  SystemClock clock_;
  testing::OpenAiTestServer server_{
      testing::OpenAiTestServer::Options{.models = {"test-chat", "gpt-4o-mini"}}};
  std::unique_ptr<ai::ServiceDirectory> directory_;
};

TEST_F(ChaptersModelTest, OneRequestWithTheScenesAndTranscriptGivesTheModelsChapters) {
  server_.SetChatAnswer(Answer({ChapterAt(0, "Walking  the\ndog"), ChapterAt(3, "At the beach"),
                                ChapterAt(5, "City lights")}));
  auto stage = Remote({{"model", "test-chat"}});
  EXPECT_EQ(stage->Params().at("backend"), "openai");
  EXPECT_EQ(stage->Services(), (std::vector<ServiceUse>{{"openai", {"test-chat"}}}));
  Ran ran = RunAfter(*stage, AaaBbc(), 60, {{31.5, 34, "we reached the beach at last"}});
  nlohmann::json document = ExpectCovering(ran, 60, 6);
  EXPECT_EQ(document.at("source"), "model");
  EXPECT_EQ(document.at("model"), "test-chat-2024-test");
  // Whitespace in a title becomes one space: a title is one cue line.
  EXPECT_EQ(Titles(document),
            (std::vector<std::string>{"Walking the dog", "At the beach", "City lights"}));
  EXPECT_EQ(SceneRanges(document), (std::vector<std::vector<size_t>>{{0, 2}, {3, 4}, {5, 5}}));
  EXPECT_EQ(document.at("chapters")[1].at("subtitle"), "we reached the beach at last");

  std::vector<testing::OpenAiCall> calls = server_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].path, "/v1/chat/completions");
  EXPECT_EQ(calls[0].model, "test-chat");
  EXPECT_EQ(calls[0].images, 0);
  const std::string body = calls[0].body.dump();
  for (const char* expected :
       {"A dog runs across a park.", "The sun sets over the sea.", "Tags: city, night.",
        "[3] 30.0-40.0 s", "[31.5] we reached the beach at last", "at most 20 chapters",
        "You divide a video into chapters"}) {
    EXPECT_THAT(body, HasSubstr(expected));
  }
  const nlohmann::json& usage = document.at("usage");
  EXPECT_EQ(usage.at("requests"), 1);
  EXPECT_GT(usage.at("prompt_tokens").get<int64_t>(), 0);
  EXPECT_EQ(
      usage.at("total_tokens").get<int64_t>(),
      usage.at("prompt_tokens").get<int64_t>() + usage.at("completion_tokens").get<int64_t>());
  const nlohmann::json& meta = ran.outcome.result.metadata;
  EXPECT_EQ(meta.at("source"), "model");
  EXPECT_EQ(meta.at("total_tokens"), usage.at("total_tokens"));
  EXPECT_DOUBLE_EQ(meta.at("cost").get<double>(),
                   usage.at("total_tokens").get<double>() / 1000 * 0.5);
}

TEST_F(ChaptersModelTest, TheTranscriptSentIsBoundedByMaxTranscriptChars) {
  server_.SetChatAnswer(Answer({ChapterAt(0, "All of it")}));
  std::vector<SpokenSegment> speech;
  for (int i = 0; i < 100; ++i)
    speech.push_back({i * 0.5, i * 0.5 + 0.4, "word" + std::to_string(i)});
  auto stage = Remote({{"max_transcript_chars", 100}});
  Ran ran = RunAfter(*stage, AaaBbc(), 60, speech);
  ExpectCovering(ran, 60, 6);
  ASSERT_EQ(server_.calls().size(), 1u);
  const std::string body = server_.calls()[0].body.dump();
  EXPECT_THAT(body, HasSubstr("its first 100 characters"));
  EXPECT_THAT(body, HasSubstr("word0"));
  EXPECT_THAT(body, ::testing::Not(HasSubstr("word20")));
  EXPECT_EQ(server_.calls()[0].model, "gpt-4o-mini");  // the default model
}

TEST_F(ChaptersModelTest, AnUnusableAnswerFailsTheRunAsInternalNamingTheProblem) {
  auto chapter = ChapterAt;
  struct Bad {
    std::vector<nlohmann::json> chapters;
    std::string problem;
  };
  const std::vector<Bad> answers = {
      {{chapter(0, "a"), chapter(3, "b"), chapter(3, "c")},
       "chapter 2 starts at scene 3, not after scene 3 (start_scene must strictly increase)"},
      {{chapter(0, "a"), chapter(4, "b"), chapter(2, "c")}, "chapter 2 starts at scene 2"},
      {{chapter(1, "a")}, "chapter 0 starts at scene 1, not at scene 0"},
      {{chapter(0, "a"), chapter(6, "b")}, "the video has scenes 0..5"},
      {{chapter(0, "a"), chapter(2, " \n ")}, "chapter 1 has no title"},
      {{chapter(0, std::string(81, 'x'))}, "81 characters, more than max_title_chars 80"},
      {{}, "no chapters"},
  };
  auto stage = Remote();
  for (const Bad& bad : answers) {
    server_.SetChatAnswer(Answer(bad.chapters));
    Ran ran = RunAfter(*stage, AaaBbc(), 60);
    ASSERT_EQ(ran.outcome.state, DerivativeState::kFailed) << bad.problem;
    EXPECT_EQ(ran.outcome.error->code, ErrorCode::kInternal);
    EXPECT_THAT(ran.outcome.error->message, HasSubstr("the model's answer is unusable"));
    EXPECT_THAT(ran.outcome.error->message, HasSubstr(bad.problem));
    EXPECT_TRUE(ran.files.empty());
  }
  // More chapters than max_chapters.
  server_.SetChatAnswer(Answer({chapter(0, "a"), chapter(1, "b"), chapter(2, "c")}));
  Ran ran = RunAfter(*Remote({{"max_chapters", 2}}), AaaBbc(), 60);
  ASSERT_EQ(ran.outcome.state, DerivativeState::kFailed);
  EXPECT_THAT(ran.outcome.error->message, HasSubstr("3 chapters, more than max_chapters 2"));
}

TEST_F(ChaptersModelTest, AServiceThatFailsFailsTheRunWithItsCode) {
  testing::OpenAiFaultSpec failure;
  failure.fault = testing::OpenAiFault::kServerError;
  server_.QueueFaults({failure});
  Ran ran = RunAfter(*Remote(), AaaBbc(), 60);
  ASSERT_EQ(ran.outcome.state, DerivativeState::kFailed);
  EXPECT_EQ(ran.outcome.error->code, ErrorCode::kUnavailable);  // retried by the queue
  EXPECT_THAT(ran.outcome.error->message, HasSubstr("service 'openai'"));
  EXPECT_TRUE(ran.files.empty());
}

// --- params ---

TEST(ChaptersStageParams, TheBackendFollowsTheServiceAndOnlyItsParamsAreRecipe) {
  SystemClock clock;
  auto here = Directory({{"openai", ServiceAt("http://127.0.0.1:9/v1")},
                         {"other", ServiceAt("http://127.0.0.1:10/v1")}},
                        clock);
  auto elsewhere = Directory({{"openai", ServiceAt("http://10.0.0.1:8080/v1")}}, clock);
  StageServices services(clock, here.get());
  auto remote = ChaptersStage::Create(nullptr, services);
  auto moved = ChaptersStage::Create(nullptr, StageServices(clock, elsewhere.get()));
  auto reworded = ChaptersStage::Create({{"prompt", "Chapters, please."}}, services);
  auto other = ChaptersStage::Create({{"service", "other"}}, services);
  ASSERT_TRUE(remote && moved && reworded && other);
  EXPECT_EQ((*remote)->Params().at("backend"), "openai");
  EXPECT_EQ((*remote)->Params().at("model"), "gpt-4o-mini");
  EXPECT_FALSE((*remote)->Params().contains("min_chapter_seconds"));
  // Another endpoint serving the same model: the same recipe. Another prompt: another.
  EXPECT_EQ((*remote)->Params(), (*moved)->Params());
  EXPECT_EQ((*remote)->Params(), (*other)->Params());
  EXPECT_FALSE((*other)->Params().contains("service"));
  EXPECT_EQ((*other)->Services(), (std::vector<ServiceUse>{{"other", {"gpt-4o-mini"}}}));
  EXPECT_NE((*remote)->Params(), (*reworded)->Params());
  EXPECT_EQ((*reworded)->Params().at("prompt"), "Chapters, please.");

  // Without the service: local, and a prompt in the table changes nothing.
  auto local = ChaptersStage::Create(nullptr);
  auto local_reworded = ChaptersStage::Create({{"prompt", "Chapters, please."}});
  auto forced = ChaptersStage::Create({{"backend", "local"}}, services);
  ASSERT_TRUE(local && local_reworded && forced);
  EXPECT_EQ((*local)->Params().at("backend"), "local");
  EXPECT_FALSE((*local)->Params().contains("prompt"));
  EXPECT_EQ((*local)->Params(), (*local_reworded)->Params());
  EXPECT_EQ((*local)->Params(), (*forced)->Params());
  EXPECT_TRUE((*forced)->Services().empty());
  EXPECT_NE((*local)->Params(),
            ChaptersStage::Create({{"min_chapter_seconds", 10}}).value()->Params());

  for (const nlohmann::json& bad :
       std::vector<nlohmann::json>{{{"backend", "openai"}},  // no service configured
                                   {{"service", "llm"}},     // named, not configured
                                   {{"backend", "gpt"}},
                                   {{"backend", "local"}, {"service", "openai"}},
                                   {{"similarity_threshold", 1.5}},
                                   {{"min_chapter_seconds", -1.0}},
                                   {{"max_chapters", 0}},
                                   {{"model", ""}},
                                   {{"prompt", "  "}},
                                   {{"title", "x"}}}) {
    auto refused = ChaptersStage::Create(bad);
    ASSERT_FALSE(refused) << bad.dump();
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument) << bad.dump();
  }
  auto unconfigured = ChaptersStage::Create({{"service", "llm"}}, services);
  ASSERT_FALSE(unconfigured);
  EXPECT_THAT(unconfigured.error().message, HasSubstr("[services.llm]"));
}

}  // namespace
}  // namespace reprise::stages
