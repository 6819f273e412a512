// The semantics stage on real media: a video of three distinct shots made with FFmpeg's
// lavfi, cut by the real scenes stage (its scenes.json and JPEG keyframes), with a
// transcript input written by a small stage of the test (the real transcript stage on
// speech is slow and tested on its own). The "openai" backend talks HTTP to the
// OpenAI-compatible test server on loopback, which checks every image is a real JPEG.
#include "stages/semantics_stage.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ai/service_directory.h"
#include "stages/runner.h"
#include "stages/scenes_stage.h"
#include "tests/media/media_test_util.h"
#include "tests/stages/memory_inputs.h"
#include "tests/stages/memory_sink.h"
#include "tests/support/media_suite.h"
#include "tests/support/openai_test_server.h"

namespace reprise::stages {
namespace {

using catalog::DerivativeState;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr double kShotSeconds = 2.0;
constexpr int kShots = 3;

// The transcript input: a stage of the test's own that writes transcript.json in the
// transcript stage's shape, or is skipped with a reason, as the real one would be.
class TranscriptInput final : public Stage {
 public:
  TranscriptInput(nlohmann::json transcript, std::optional<std::string> skip)
      : transcript_(std::move(transcript)), skip_(std::move(skip)) {}
  std::string_view Name() const override { return "transcript"; }
  int Version() const override { return 1; }
  const nlohmann::json& Params() const override { return params_; }
  Consumption Consumes() const override { return {}; }
  std::optional<std::string> SkipReason(const media::MediaInfo& /*info*/) const override {
    return std::nullopt;
  }
  Result<std::unique_ptr<StageRun>> Start(const media::MediaInfo& /*info*/) const override {
    return std::unique_ptr<StageRun>(std::make_unique<Run>(*this));
  }

 private:
  class Run final : public StageRun {
   public:
    explicit Run(const TranscriptInput& stage) : stage_(stage) {}
    Result<StageResult> Finish(OutputSink& sink, bool /*input_ended*/) override {
      StageResult result;
      result.skip_reason = stage_.skip_;
      if (!result.skip_reason) {
        REPRISE_TRY(
            WriteOutput(sink, "transcript.json", "application/json", stage_.transcript_.dump()));
      }
      return result;
    }

   private:
    const TranscriptInput& stage_;
  };

  nlohmann::json params_ = nlohmann::json::object();
  nlohmann::json transcript_;
  std::optional<std::string> skip_;
};

nlohmann::json Segment(double start, double end, const std::string& text) {
  return {{"start", start}, {"end", end}, {"text", text}, {"words", nlohmann::json::array()}};
}

// Speech in the first two shots, none in the third.
nlohmann::json Transcript() {
  return {{"language", "en"},
          {"backend", "openai"},
          {"model", "test-whisper"},
          {"segments",
           {Segment(0.5, 1.5, "hello from the red shot"),
            Segment(2.5, 3.5, "words in the blue shot")}}};
}

// The user text of a chat request: its user message's text parts.
std::string UserText(const nlohmann::json& body) {
  std::string text;
  for (const auto& message : body.at("messages")) {
    if (message.at("role") != "user") continue;
    const auto& content = message.at("content");
    if (content.is_string()) text += content.get<std::string>();
    if (!content.is_array()) continue;
    for (const auto& part : content) {
      if (part.value("type", "") == "text") text += part.at("text").get<std::string>();
    }
  }
  return text;
}

// The scene number ("Scene 2 of 3" -> 2) a scene request names, 0 for the summary.
int SceneNumber(const nlohmann::json& body) {
  std::smatch match;
  std::string text = UserText(body);
  if (!std::regex_search(text, match, std::regex("Scene ([0-9]+) of"))) return 0;
  return std::stoi(match[1]);
}

nlohmann::json SceneAnswer(int scene) {
  std::string n = std::to_string(scene);
  return {{"description", "Shot " + n + " shows a coloured screen."},
          {"entities",
           {{"people", nlohmann::json::array()},
            {"objects", {"screen " + n}},
            {"places", nlohmann::json::array()}}},
          {"actions", {"flickering"}},
          {"tags", {" Colour-" + n, "screen"}}};
}

// Scene requests (model test-vision) answer per scene; the summary request (model
// test-summary) answers one summary.
nlohmann::json Answer(const nlohmann::json& body) {
  if (body.at("model") == "test-summary") {
    return {{"summary", "Three coloured shots, two with speech."}, {"tags", {"Colours", "speech"}}};
  }
  return SceneAnswer(SceneNumber(body));
}

ServiceSettings ServiceAt(const std::string& base_url, int max_attempts = 1,
                          int max_concurrent = 3) {
  ServiceSettings settings;
  settings.base_url = base_url;
  settings.api_key = "test-key";
  settings.max_attempts = max_attempts;
  settings.max_concurrent = max_concurrent;
  settings.requests_per_minute = 6000;
  settings.timeout_seconds = 30;
  return settings;
}

std::unique_ptr<ai::ServiceDirectory> Directory(const ServiceSettings& settings,
                                                const Clock& clock) {
  auto directory = ai::ServiceDirectory::Create({{"openai", settings}}, clock);
  EXPECT_TRUE(directory) << directory.error().ToString();
  return directory ? std::move(*directory) : nullptr;
}

const nlohmann::json kModels = {{"scene_model", "test-vision"}, {"summary_model", "test-summary"}};

// A keyframe source of the test's own: it checks it is given a real JPEG and answers the
// signals scripted for each call in turn (the signal backend reads scenes in order).
class ScriptedSignals final : public semantics::KeyframeSignalsSource {
 public:
  explicit ScriptedSignals(std::vector<Result<semantics::KeyframeSignals>> answers)
      : answers_(std::move(answers)) {}
  Result<semantics::KeyframeSignals> Analyze(std::string_view jpeg) override {
    std::string problem = testing::JpegProblem(std::string(jpeg));
    EXPECT_EQ(problem, "");
    if (next_ >= answers_.size()) return Fail(ErrorCode::kInternal, "more keyframes than scenes");
    return answers_[next_++];
  }

 private:
  std::vector<Result<semantics::KeyframeSignals>> answers_;
  size_t next_ = 0;
};

class SemanticsStageTest : public testing::MediaSuite {
 protected:
  // Three noisy solid colours of kShotSeconds each, cut together: three scenes.
  static const std::string& ThreeShots() {
    static const std::string path = [] {
      std::string file = samples_->dir().Join("three-shots.mp4");
      std::string graph;
      const char* colours[kShots] = {"red", "blue", "green"};
      for (int i = 0; i < kShots; ++i) {
        graph +=
            "color=c=" + std::string(colours[i]) +
            ":s=320x240:r=25,noise=alls=30:allf=t+u,trim=duration=" + std::to_string(kShotSeconds) +
            ",setpts=PTS-STARTPTS,format=yuv420p[v" + std::to_string(i) + "];";
      }
      graph += "[v0][v1][v2]concat=n=3:v=1:a=0";
      EXPECT_TRUE(testing::Ffmpeg({"-f", "lavfi", "-i", graph, "-c:v", "libx264", "-preset",
                                   "ultrafast", "-pix_fmt", "yuv420p", file}));
      return file;
    }();
    return path;
  }

  // Runs the real scenes stage, the transcript input and `semantics` on `path`; the
  // semantics outcome (its files in semantics_sink_).
  StageOutcome RunSemantics(const Stage& stage, const std::string& path,
                            std::optional<std::string> transcript_skip = std::nullopt) {
    auto scenes = ScenesStage::Create(nullptr);
    EXPECT_TRUE(scenes) << scenes.error().ToString();
    if (!scenes) return {};
    TranscriptInput transcript(Transcript(), std::move(transcript_skip));
    const Stage* stages[] = {scenes->get(), &transcript, &stage};
    MemorySink* sinks[] = {&scenes_sink_, &transcript_sink_, &semantics_sink_};
    std::vector<StageTask> tasks;
    for (size_t i = 0; i < 3; ++i) tasks.push_back(StageTask{stages[i], sinks[i], &inputs_});
    RunOptions options;
    options.on_outcome = [&](size_t i, const StageOutcome& outcome) {
      inputs_.Record(outcome, *sinks[i]);
    };
    auto reader = testing::OpenOrDie(path);
    auto report = RunStages(*reader, tasks, options);
    EXPECT_TRUE(report) << report.error().ToString();
    if (!report) return {};
    const StageOutcome& scenes_outcome = report->outcomes[0];
    if (path == ThreeShots()) {
      EXPECT_EQ(scenes_outcome.state, DerivativeState::kDone);
      EXPECT_EQ(scenes_outcome.result.metadata.value("scenes", 0), kShots)
          << "the video is made of three distinct shots";
    }
    return report->outcomes[2];
  }

  nlohmann::json SemanticsJson() const {
    auto it = semantics_sink_.files.find("semantics.json");
    EXPECT_NE(it, semantics_sink_.files.end());
    if (it == semantics_sink_.files.end()) return nullptr;
    return nlohmann::json::parse(it->second);
  }

  // The chat calls the server saw for scene requests, by scene number, and the summary's.
  static std::map<int, testing::OpenAiCall> ByScene(const std::vector<testing::OpenAiCall>& calls) {
    std::map<int, testing::OpenAiCall> by_scene;
    for (const auto& call : calls) {
      if (call.path == "/v1/chat/completions") by_scene[SceneNumber(call.body)] = call;
    }
    return by_scene;
  }

  // The model backend (kModels) against server_ as the service `settings` describe, run on
  // ThreeShots().
  StageOutcome RunModel(const ServiceSettings& settings,
                        std::map<std::string, double, std::less<>> prices = {}) {
    directory_ = Directory(settings, clock_);
    auto stage =
        SemanticsStage::Create(kModels, StageServices(clock_, directory_.get(), std::move(prices)));
    EXPECT_TRUE(stage) << stage.error().ToString();
    if (!stage) return {};
    return RunSemantics(**stage, ThreeShots());
  }

  SystemClock clock_;
  testing::OpenAiTestServer server_{{.models = {"test-vision", "test-summary"}}};
  std::unique_ptr<ai::ServiceDirectory> directory_;
  MemoryInputs inputs_;
  MemorySink scenes_sink_;
  MemorySink transcript_sink_;
  MemorySink semantics_sink_;
};

std::string Why(const StageOutcome& outcome) {
  return outcome.error ? outcome.error->ToString() : outcome.skip_reason;
}

// One request per scene with its keyframe, the words spoken during it and the scene
// model; one summary request with the summary model; results in scene order, usage summed
// and priced.
TEST_F(SemanticsStageTest, TheModelBackendDescribesEachSceneAndSummarisesTheVideo) {
  server_.SetChatScript(Answer);
  auto directory = Directory(ServiceAt(server_.base_url()), clock_);
  StageServices services(clock_, directory.get(), {{"semantics", 0.01}});
  auto stage = SemanticsStage::Create(kModels, services);
  ASSERT_TRUE(stage) << stage.error().ToString();
  EXPECT_EQ((*stage)->Params().at("backend"), "openai");
  EXPECT_EQ((*stage)->Services(),
            (std::vector<ServiceUse>{{"openai", {"test-vision", "test-summary"}}}));
  EXPECT_EQ((*stage)->Inputs(), (std::vector<std::string>{"scenes", "transcript"}));

  StageOutcome outcome = RunSemantics(**stage, ThreeShots());
  ASSERT_EQ(outcome.state, DerivativeState::kDone) << Why(outcome);

  std::vector<testing::OpenAiCall> calls = server_.calls();
  ASSERT_EQ(calls.size(), static_cast<size_t>(kShots + 1));
  auto by_scene = ByScene(calls);
  ASSERT_EQ(by_scene.size(), static_cast<size_t>(kShots + 1));
  for (int scene = 1; scene <= kShots; ++scene) {
    const testing::OpenAiCall& call = by_scene.at(scene);
    // A keyframe the server could not read as a JPEG would have been a 400 and failed the
    // run (the test server records successful chat answers with status -1, not 200).
    EXPECT_NE(call.status, 400) << scene;
    EXPECT_EQ(call.model, "test-vision");
    EXPECT_EQ(call.images, 1) << "the keyframe, a JPEG the server decoded the headers of";
    EXPECT_EQ(call.image_details, (std::vector<std::string>{"low"}));
  }
  EXPECT_THAT(UserText(by_scene.at(1).body), HasSubstr("hello from the red shot"));
  EXPECT_THAT(UserText(by_scene.at(1).body), Not(HasSubstr("blue shot")));
  EXPECT_THAT(UserText(by_scene.at(2).body), HasSubstr("words in the blue shot"));
  EXPECT_THAT(UserText(by_scene.at(3).body), HasSubstr("Nothing is spoken"));
  const testing::OpenAiCall& summary_call = by_scene.at(0);
  EXPECT_EQ(summary_call.model, "test-summary");
  EXPECT_EQ(summary_call.images, 0);
  EXPECT_THAT(UserText(summary_call.body), HasSubstr("Shot 3 shows a coloured screen."));
  EXPECT_THAT(UserText(summary_call.body), HasSubstr("words in the blue shot"));

  nlohmann::json doc = SemanticsJson();
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc.at("source"), "model");
  EXPECT_EQ(doc.at("models"), nlohmann::json({{"scene", "test-vision-2024-test"},
                                              {"summary", "test-summary-2024-test"}}));
  EXPECT_EQ(doc.at("summary"), "Three coloured shots, two with speech.");
  EXPECT_EQ(doc.at("tags"), nlohmann::json({"colours", "speech"}));
  ASSERT_EQ(doc.at("scenes").size(), static_cast<size_t>(kShots));
  for (int i = 0; i < kShots; ++i) {
    const auto& scene = doc.at("scenes")[i];
    std::string n = std::to_string(i + 1);
    EXPECT_EQ(scene.at("index"), i);
    EXPECT_NEAR(scene.at("start").get<double>(), i * kShotSeconds, 0.1);
    EXPECT_NEAR(scene.at("end").get<double>(), (i + 1) * kShotSeconds, 0.1);
    EXPECT_EQ(scene.at("description"), "Shot " + n + " shows a coloured screen.");
    EXPECT_EQ(scene.at("entities").at("objects"), nlohmann::json({"screen " + n}));
    EXPECT_EQ(scene.at("actions"), nlohmann::json({"flickering"}));
    EXPECT_EQ(scene.at("tags"), nlohmann::json({"colour-" + n, "screen"}));
    EXPECT_FALSE(scene.contains("error"));
    EXPECT_FALSE(scene.contains("signals"));
  }
  // Search finds each scene's description, entities and actions and tags at its times,
  // the summary, and the video's tags.
  std::vector<catalog::SearchEntry> expected;
  for (int i = 0; i < kShots; ++i) {
    const auto& scene = doc.at("scenes")[i];
    const double start = scene.at("start").get<double>();
    const double end = scene.at("end").get<double>();
    std::string n = std::to_string(i + 1);
    expected.push_back({"description", "Shot " + n + " shows a coloured screen.", start, end, i});
    expected.push_back({"description", "screen " + n + ", flickering", start, end, i});
    expected.push_back({"tag", "colour-" + n, start, end, i});
    expected.push_back({"tag", "screen", start, end, i});
  }
  expected.push_back({"summary", "Three coloured shots, two with speech.", -1, -1, -1});
  expected.push_back({"tag", "colours", -1, -1, -1});
  expected.push_back({"tag", "speech", -1, -1, -1});
  EXPECT_EQ(outcome.result.search, expected);
  const nlohmann::json& usage = doc.at("usage");
  EXPECT_EQ(usage.at("requests"), kShots + 1);
  EXPECT_GT(usage.at("prompt_tokens").get<int64_t>(), 0);
  EXPECT_GT(usage.at("completion_tokens").get<int64_t>(), 0);
  // Every call's tokens, as the server counts them (a quarter of the request's and of the
  // answer's bytes), are in the sum.
  int64_t prompt = 0;
  int64_t completion = 0;
  for (const auto& call : calls) {
    prompt += static_cast<int64_t>(call.body.dump().size() / 4) + 1;
    completion += static_cast<int64_t>(Answer(call.body).dump().size() / 4) + 1;
  }
  EXPECT_EQ(usage.at("prompt_tokens").get<int64_t>(), prompt);
  EXPECT_EQ(usage.at("completion_tokens").get<int64_t>(), completion);
  const int64_t total = usage.at("total_tokens").get<int64_t>();
  EXPECT_EQ(total, usage.at("prompt_tokens").get<int64_t>() +
                       usage.at("completion_tokens").get<int64_t>());

  const nlohmann::json& metadata = outcome.result.metadata;
  EXPECT_EQ(metadata.at("source"), "model");
  EXPECT_EQ(metadata.at("scenes"), kShots);
  EXPECT_EQ(metadata.at("failed_scenes"), 0);
  EXPECT_EQ(metadata.at("scene_model"), "test-vision");
  EXPECT_EQ(metadata.at("summary_model"), "test-summary");
  EXPECT_EQ(metadata.at("models").at("scene"), "test-vision-2024-test");
  EXPECT_EQ(metadata.at("total_tokens"), total);
  EXPECT_EQ(metadata.at("requests"), kShots + 1);
  EXPECT_DOUBLE_EQ(metadata.at("cost").get<double>(), static_cast<double>(total) / 1000 * 0.01);
  EXPECT_EQ(semantics_sink_.blobs.size(), 1u);
  EXPECT_EQ(semantics_sink_.blobs[0].content_type, "application/json");
}

// Without a price the derivative records tokens but no cost.
TEST_F(SemanticsStageTest, NoPriceRecordsNoCost) {
  server_.SetChatScript(Answer);
  StageOutcome outcome = RunModel(ServiceAt(server_.base_url()));
  ASSERT_EQ(outcome.state, DerivativeState::kDone) << Why(outcome);
  EXPECT_FALSE(outcome.result.metadata.contains("cost"));
  EXPECT_GT(outcome.result.metadata.at("total_tokens").get<int64_t>(), 0);
}

// An answer breaking the schema fails only its scene: the others and the summary stand.
TEST_F(SemanticsStageTest, AnUnusableAnswerFailsOnlyItsScene) {
  server_.SetChatScript([](const nlohmann::json& body) {
    if (SceneNumber(body) != 2) return Answer(body);
    nlohmann::json broken = SceneAnswer(2);
    broken["description"] = 5;
    return broken;
  });
  StageOutcome outcome = RunModel(ServiceAt(server_.base_url()));
  ASSERT_EQ(outcome.state, DerivativeState::kDone) << Why(outcome);
  nlohmann::json doc = SemanticsJson();
  ASSERT_EQ(doc.at("scenes").size(), static_cast<size_t>(kShots));
  const auto& failed = doc.at("scenes")[1];
  EXPECT_THAT(failed.at("error").get<std::string>(), HasSubstr("/description"));
  EXPECT_EQ(failed.at("description"), "");
  EXPECT_TRUE(failed.at("tags").empty());
  EXPECT_TRUE(failed.at("entities").at("people").empty());
  EXPECT_EQ(doc.at("scenes")[0].at("description"), "Shot 1 shows a coloured screen.");
  EXPECT_EQ(doc.at("scenes")[2].at("description"), "Shot 3 shows a coloured screen.");
  EXPECT_FALSE(doc.at("scenes")[0].contains("error"));
  EXPECT_EQ(doc.at("summary"), "Three coloured shots, two with speech.");
  EXPECT_EQ(outcome.result.metadata.at("failed_scenes"), 1);
  // The failed scene's description is not offered to the summary.
  EXPECT_THAT(UserText(ByScene(server_.calls()).at(0).body), Not(HasSubstr("Shot 2")));
}

// Prose where JSON was promised (the server's fault, whichever scene it hits) fails that
// scene alone, saying so.
TEST_F(SemanticsStageTest, ProseInsteadOfJsonFailsOneScene) {
  server_.SetChatScript(Answer);
  testing::OpenAiFaultSpec prose;
  prose.fault = testing::OpenAiFault::kNotJsonContent;
  server_.QueueFaults({prose});
  StageOutcome outcome = RunModel(ServiceAt(server_.base_url()));
  ASSERT_EQ(outcome.state, DerivativeState::kDone) << Why(outcome);
  nlohmann::json doc = SemanticsJson();
  int failed = 0;
  for (const auto& scene : doc.at("scenes")) {
    if (!scene.contains("error")) continue;
    ++failed;
    EXPECT_THAT(scene.at("error").get<std::string>(), HasSubstr("JSON"));
  }
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(outcome.result.metadata.at("failed_scenes"), 1);
  EXPECT_FALSE(doc.at("summary").get<std::string>().empty());
}

// Every answer unusable: nothing worth keeping, the run fails as internal.
TEST_F(SemanticsStageTest, EverySceneFailingFailsTheRun) {
  server_.SetChatAnswer({{"nonsense", true}});
  StageOutcome outcome = RunModel(ServiceAt(server_.base_url()));
  ASSERT_EQ(outcome.state, DerivativeState::kFailed);
  EXPECT_EQ(outcome.error->code, ErrorCode::kInternal);
  EXPECT_THAT(outcome.error->message, HasSubstr("every scene"));
  EXPECT_TRUE(semantics_sink_.files.empty());
}

// A service that keeps answering 500 past max_attempts fails the run as unavailable, so
// the queue retries it later; nothing is written.
TEST_F(SemanticsStageTest, AServiceThatIsDownFailsTheRunAsUnavailable) {
  server_.SetChatScript(Answer);
  testing::OpenAiFaultSpec failure;
  failure.fault = testing::OpenAiFault::kServerError;
  server_.QueueFaults(std::vector<testing::OpenAiFaultSpec>(2 * kShots, failure));
  StageOutcome outcome = RunModel(ServiceAt(server_.base_url(), /*max_attempts=*/2));
  ASSERT_EQ(outcome.state, DerivativeState::kFailed);
  EXPECT_EQ(outcome.error->code, ErrorCode::kUnavailable) << outcome.error->ToString();
  EXPECT_TRUE(semantics_sink_.files.empty());
  for (const auto& call : server_.calls()) EXPECT_EQ(call.status, 500);
}

// Scenes go out concurrently up to the service's max_concurrent, never beyond it: the
// server holds each request until three are in flight, which the cap of two never allows.
TEST_F(SemanticsStageTest, ScenesAreSentConcurrentlyWithinTheServiceCap) {
  server_.SetChatScript(Answer);
  server_.HoldUntilInFlight(3, std::chrono::milliseconds(1000));
  StageOutcome outcome = RunModel(ServiceAt(server_.base_url(), 1, /*max_concurrent=*/2));
  ASSERT_EQ(outcome.state, DerivativeState::kDone) << Why(outcome);
  EXPECT_EQ(server_.max_in_flight(), 2);
  EXPECT_EQ(outcome.result.metadata.at("failed_scenes"), 0);
}

// The prompt and models are recipe; the endpoint serving them is deployment. The backend
// follows whether the service is configured.
TEST(SemanticsStageParams, PromptsAreRecipeAndTheEndpointIsNot) {
  SystemClock clock;
  auto here = Directory(ServiceAt("http://127.0.0.1:9/v1"), clock);
  auto there = Directory(ServiceAt("http://127.0.0.1:10/v1"), clock);
  auto a = SemanticsStage::Create(nullptr, StageServices(clock, here.get()));
  auto b = SemanticsStage::Create(nullptr, StageServices(clock, there.get()));
  auto prompt = SemanticsStage::Create({{"scene_prompt", "Describe the scene in French."}},
                                       StageServices(clock, here.get()));
  ASSERT_TRUE(a && b && prompt);
  EXPECT_EQ((*a)->Params(), (*b)->Params());
  EXPECT_NE((*a)->Params(), (*prompt)->Params());
  EXPECT_EQ((*a)->Params().at("backend"), "openai");
  EXPECT_EQ((*a)->Params().at("scene_model"), "gpt-4o");
  EXPECT_EQ((*a)->Params().at("summary_model"), "gpt-4o-mini");
  EXPECT_EQ((*a)->Params().at("image_detail"), "low");
  EXPECT_FALSE((*a)->Params().contains("service"));
  EXPECT_EQ((*a)->Services(), (std::vector<ServiceUse>{{"openai", {"gpt-4o", "gpt-4o-mini"}}}));

  auto offline = SemanticsStage::Create(nullptr, StageServices());
  ASSERT_TRUE(offline) << offline.error().ToString();
  EXPECT_EQ((*offline)->Params().at("backend"), "signal");
  EXPECT_TRUE((*offline)->Services().empty());
  EXPECT_TRUE((*offline)->Consumes().video == std::nullopt);
  EXPECT_FALSE((*offline)->Consumes().audio.has_value());

  StageServices services(clock, here.get());
  for (const nlohmann::json& bad : std::vector<nlohmann::json>{
           {{"backend", "gpt"}},
           {{"image_detail", "medium"}},
           {{"max_tokens", 2}},
           {{"temperature", 3}},
           {{"scene_model", ""}},
           {{"backend", "signal"}, {"still_below", 0.5}, {"high_motion_above", 0.1}},
           {{"backend", "signal"}, {"service", "openai2"}},
           {{"backend", "openai"}, {"service", "elsewhere"}},
           {{"unknown", 1}}}) {
    auto refused = SemanticsStage::Create(bad, services);
    ASSERT_FALSE(refused) << bad.dump();
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument) << bad.dump();
  }
  auto without = SemanticsStage::Create({{"backend", "openai"}}, StageServices());
  ASSERT_FALSE(without);
  EXPECT_THAT(without.error().message, HasSubstr("[services.openai]"));
}

semantics::KeyframeSignals Signals(std::string light, std::string colour, double share, int faces,
                                   std::string text) {
  semantics::KeyframeSignals signals;
  signals.colours = {{colour, "#123456", share}, {"grey", "#808080", 0.1}};
  signals.brightness = light == "dark" ? 0.1 : 0.8;
  signals.light = std::move(light);
  signals.faces = faces;
  signals.text = std::move(text);
  return signals;
}

// Offline, each scene says what was measured: the injected analyzer's colours, light,
// faces and text, and speech exactly where the transcript overlaps the scene.
TEST_F(SemanticsStageTest, TheSignalBackendTagsWhatWasMeasured) {
  auto stage = SemanticsStage::Create(nullptr, StageServices(), [] {
    return Result<std::unique_ptr<semantics::KeyframeSignalsSource>>(
        std::make_unique<ScriptedSignals>(std::vector<Result<semantics::KeyframeSignals>>{
            Signals("dark", "red", 0.7, 2, "SALE"), Signals("bright", "blue", 0.8, 0, ""),
            Signals("normal", "green", 0.9, 0, "")}));
  });
  ASSERT_TRUE(stage) << stage.error().ToString();
  EXPECT_EQ((*stage)->Params().at("backend"), "signal");
  StageOutcome outcome = RunSemantics(**stage, ThreeShots());
  ASSERT_EQ(outcome.state, DerivativeState::kDone) << Why(outcome);
  nlohmann::json doc = SemanticsJson();
  EXPECT_EQ(doc.at("source"), "signal");
  EXPECT_FALSE(doc.contains("models"));
  ASSERT_EQ(doc.at("scenes").size(), static_cast<size_t>(kShots));
  // scenes@2 measures motion: each scene's motion tag follows it (the noise makes it
  // vary), the other tags are the analyzer's and the transcript's.
  auto tags_but_motion = [](const nlohmann::json& scene) {
    const double motion = scene.at("signals").at("motion").get<double>();
    EXPECT_GE(motion, 0);
    EXPECT_LE(motion, 1);
    nlohmann::json others = nlohmann::json::array();
    for (const auto& tag : scene.at("tags")) {
      if (tag == "still") {
        EXPECT_LT(motion, 0.002) << scene.dump();
      } else if (tag == "high-motion") {
        EXPECT_GT(motion, 0.05) << scene.dump();
      } else {
        others.push_back(tag);
      }
    }
    const bool tagged = others.size() != scene.at("tags").size();
    EXPECT_EQ(tagged, motion < 0.002 || motion > 0.05) << scene.dump();
    return others;
  };
  const auto& first = doc.at("scenes")[0];
  EXPECT_EQ(tags_but_motion(first), nlohmann::json({"dark", "red", "faces", "text", "speech"}));
  EXPECT_EQ(first.at("signals").at("faces"), 2);
  EXPECT_EQ(first.at("signals").at("text"), "SALE");
  EXPECT_EQ(first.at("signals").at("speech"), true);
  EXPECT_EQ(first.at("signals").at("spoken"), "hello from the red shot");
  EXPECT_THAT(first.at("description").get<std::string>(), HasSubstr("2 faces"));
  EXPECT_THAT(first.at("description").get<std::string>(), HasSubstr("\"SALE\""));
  const auto& second = doc.at("scenes")[1];
  EXPECT_EQ(tags_but_motion(second), nlohmann::json({"bright", "blue", "speech"}));
  EXPECT_EQ(second.at("signals").at("speech"), true);
  const auto& third = doc.at("scenes")[2];
  EXPECT_EQ(tags_but_motion(third), nlohmann::json({"green"}));
  EXPECT_EQ(third.at("signals").at("speech"), false);
  EXPECT_EQ(third.at("signals").at("spoken"), "");
  EXPECT_THAT(third.at("description").get<std::string>(), HasSubstr("no speech"));
  for (const auto& scene : doc.at("scenes")) {
    EXPECT_FALSE(scene.contains("error"));
    EXPECT_TRUE(scene.at("entities").at("people").empty()) << "nothing is invented";
  }
  // "speech" is a tag two scenes share: among the video's tags.
  EXPECT_THAT(doc.at("tags").get<std::vector<std::string>>(), ::testing::Contains("speech"));
  EXPECT_THAT(doc.at("summary").get<std::string>(), HasSubstr("in 3 scenes"));
  EXPECT_THAT(doc.at("summary").get<std::string>(), HasSubstr("with speech over"));
  EXPECT_EQ(doc.at("usage").at("requests"), 0);
  EXPECT_EQ(outcome.result.metadata.at("source"), "signal");
  EXPECT_EQ(outcome.result.metadata.at("keyframe_signals"), true);
  EXPECT_EQ(outcome.result.metadata.at("failed_scenes"), 0);
}

// A keyframe the analyzer cannot read fails that scene alone; without speech in the
// transcript (skipped: no_speech) no scene has speech.
TEST_F(SemanticsStageTest, TheSignalBackendKeepsGoingPastAKeyframeItCannotRead) {
  auto stage = SemanticsStage::Create(nullptr, StageServices(), [] {
    return Result<std::unique_ptr<semantics::KeyframeSignalsSource>>(
        std::make_unique<ScriptedSignals>(std::vector<Result<semantics::KeyframeSignals>>{
            Signals("dark", "red", 0.7, 0, ""),
            Fail(ErrorCode::kUnsupportedMedia, "not a picture it can read"),
            Signals("bright", "green", 0.9, 0, "")}));
  });
  ASSERT_TRUE(stage) << stage.error().ToString();
  StageOutcome outcome = RunSemantics(**stage, ThreeShots(), "no_speech");
  ASSERT_EQ(outcome.state, DerivativeState::kDone) << Why(outcome);
  nlohmann::json doc = SemanticsJson();
  ASSERT_EQ(doc.at("scenes").size(), static_cast<size_t>(kShots));
  EXPECT_THAT(doc.at("scenes")[1].at("error").get<std::string>(),
              HasSubstr("not a picture it can read"));
  EXPECT_FALSE(doc.at("scenes")[1].at("signals").contains("light"));
  for (const auto& scene : doc.at("scenes")) {
    EXPECT_EQ(scene.at("signals").at("speech"), false);
  }
  EXPECT_THAT(doc.at("summary").get<std::string>(), HasSubstr("without speech"));
  EXPECT_EQ(outcome.result.metadata.at("failed_scenes"), 1);
  EXPECT_EQ(outcome.result.metadata.at("transcript"), "no_speech");
}

// Audio alone has no scenes: semantics is skipped for the same reason as scenes.
TEST_F(SemanticsStageTest, AudioOnlyInputIsSkippedAsNoVideoStream) {
  auto stage = SemanticsStage::Create(nullptr, StageServices());
  ASSERT_TRUE(stage) << stage.error().ToString();
  StageOutcome outcome = RunSemantics(**stage, samples_->AudioOnlyM4a(), "no_speech");
  ASSERT_EQ(outcome.state, DerivativeState::kSkipped) << Why(outcome);
  EXPECT_EQ(outcome.skip_reason, "no_video_stream");
  EXPECT_TRUE(semantics_sink_.files.empty());
}

// Started without its inputs (never by the runner), the stage says what it needs.
TEST(SemanticsStageParams, StartWithoutInputsIsRefused) {
  auto stage = SemanticsStage::Create(nullptr, StageServices());
  ASSERT_TRUE(stage);
  auto run = (*stage)->Start(media::MediaInfo{});
  ASSERT_FALSE(run);
  EXPECT_EQ(run.error().code, ErrorCode::kInvalidArgument);
}

// Inputs are read defensively: a scenes.json that is not the scenes stage's shape, or a
// keyframe name that would leave the derivative's files, is refused naming the file.
TEST(SemanticsInputs, MalformedInputFilesAreRefusedNamingTheFile) {
  for (const std::string& bad :
       {std::string("not json"), std::string("{\"scenes\": 3}"),
        std::string("{\"scenes\": [{\"start\": 0}]}"),
        std::string("{\"scenes\": [{\"start\": 2, \"end\": 1, \"keyframe\": \"a.jpg\"}]}"),
        std::string("{\"scenes\": [{\"start\": 0, \"end\": 1, \"keyframe\": \"../x.jpg\"}]}")}) {
    auto parsed = semantics::ParseScenes(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(parsed.error().message, HasSubstr("scenes.json")) << bad;
  }
  auto transcript = semantics::ParseTranscript("{\"segments\": [{\"start\": 1}]}");
  ASSERT_FALSE(transcript);
  EXPECT_THAT(transcript.error().message, HasSubstr("transcript.json"));
}

// Text sent or kept is cut at a word boundary, never inside a UTF-8 character, and speech
// time counts overlapping segments once.
TEST(SemanticsInputs, TextIsBoundedAndSpeechTimeCountedOnce) {
  EXPECT_EQ(semantics::Bounded("short", 10), "short");
  EXPECT_EQ(semantics::Bounded("one two three four five", 14), "one two...");
  std::string accents = "caf\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";  // café and more é
  std::string cut = semantics::Bounded(accents, 9);
  EXPECT_EQ(cut, "caf\xc3\xa9...") << "not inside a two-byte character";
  std::vector<semantics::Spoken> spoken = {{0, 2, "a"}, {1, 3, "b"}, {5, 6, "c"}, {9, 12, "d"}};
  EXPECT_DOUBLE_EQ(semantics::SpeechSeconds(spoken, 10), 3 + 1 + 1);
  EXPECT_EQ(semantics::TextDuring(spoken, 2.5, 5.5, 100), "b c");
  EXPECT_TRUE(semantics::SpeechDuring(spoken, 5.5, 5.6));
  EXPECT_FALSE(semantics::SpeechDuring(spoken, 3, 5));
}

}  // namespace
}  // namespace reprise::stages
