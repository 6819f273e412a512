#include "stages/scenes_stage.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "stages/runner.h"
#include "tests/media/media_test_util.h"
#include "tests/stages/memory_sink.h"
#include "tests/support/media_suite.h"

namespace reprise::stages {
namespace {

constexpr int kWidth = 320;
constexpr int kHeight = 240;
constexpr double kFrame = 1.0 / 25;

// One stretch of a generated video: a lavfi source (with any filters of its own) giving
// 320x240 at 25 fps, cut to `seconds`.
struct Segment {
  std::string source;
  double seconds;
};

// A boundary the video is made with: a cut at `time`, or a fade through black whose
// boundary may lie anywhere in [time, time_to].
struct TrueBoundary {
  double time;
  double time_to = -1;
};

struct GeneratedVideo {
  std::string name;
  std::vector<Segment> segments;
  std::vector<TrueBoundary> boundaries;
};

std::string Rate() { return "r=25"; }
std::string Size() { return "s=" + std::to_string(kWidth) + "x" + std::to_string(kHeight); }

// A solid colour with strong per-frame noise, so consecutive frames always differ.
std::string NoisyColour(const std::string& colour) {
  return "color=c=" + colour + ":" + Size() + ":" + Rate() + ",noise=alls=40:allf=t+u";
}

// The segments' true cuts at their joins.
std::vector<TrueBoundary> Joins(const std::vector<Segment>& segments) {
  std::vector<TrueBoundary> cuts;
  double time = 0;
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    time += segments[i].seconds;
    cuts.push_back({time});
  }
  return cuts;
}

GeneratedVideo Cuts(std::string name, std::vector<Segment> segments) {
  auto boundaries = Joins(segments);
  return {std::move(name), std::move(segments), std::move(boundaries)};
}

bool MakeVideo(const std::string& path, const std::vector<Segment>& segments) {
  std::string graph;
  std::string inputs;
  for (size_t i = 0; i < segments.size(); ++i) {
    std::string label = "[v" + std::to_string(i) + "]";
    graph += segments[i].source + ",trim=duration=" + std::to_string(segments[i].seconds) +
             ",setpts=PTS-STARTPTS,format=yuv420p,setsar=1" + label + ";";
    inputs += label;
  }
  graph += inputs + "concat=n=" + std::to_string(segments.size()) + ":v=1:a=0";
  return testing::Ffmpeg({"-f", "lavfi", "-i", graph, "-c:v", "libx264", "-preset", "ultrafast",
                          "-pix_fmt", "yuv420p", "-an", path});
}

// Every generated video for the precision/recall set.
std::vector<GeneratedVideo> Videos() {
  std::string moving = "testsrc2=" + Size() + ":" + Rate();
  return {
      Cuts("sources", {{"testsrc=" + Size() + ":" + Rate(), 2},
                       {"smptebars=" + Size() + ":" + Rate(), 2},
                       {"mandelbrot=" + Size() + ":" + Rate(), 2},
                       {NoisyColour("red"), 2},
                       {NoisyColour("blue"), 2},
                       {moving, 2}}),
      Cuts("busy", {{"life=" + Size() + ":" + Rate() + ":mold=10:ratio=0.3:seed=7", 3},
                    {"cellauto=" + Size() + ":" + Rate() + ":rule=110:seed=3", 2.4},
                    {"rgbtestsrc=" + Size() + ":" + Rate(), 1.2},
                    {NoisyColour("yellow"), 1.6},
                    {NoisyColour("orange"), 1.0},
                    {"smptehdbars=" + Size() + ":" + Rate(), 2}}),
      // Footage that differs a lot from frame to frame all the time: a fast pan, then
      // heavy flickering noise, then a cut to a still pattern.
      Cuts("motion", {{"testsrc=s=2800x240:" + Rate() + ",crop=320:240:x='t*1200':y=0", 2},
                      {"color=c=gray:" + Size() + ":" + Rate() + ",noise=alls=100:allf=t+u", 3},
                      {"smptebars=" + Size() + ":" + Rate(), 2}}),
      // 4 s of a slow pan across a detailed wide picture (2 px a frame), then a cut.
      Cuts("pan", {{"testsrc=s=1280x240:" + Rate() + ",crop=320:240:x='t*50':y=0", 4},
                   {"testsrc=" + Size() + ":" + Rate(), 2}}),
      // The same moving shot fading out to black (1.0..1.8 s) and back in (2.2..3.0 s):
      // no cut; then a cut at 4 s.
      {"fade_same_shot",
       {{moving + ",fade=t=out:st=1:d=0.8", 2},
        {moving + ",trim=start=2,setpts=PTS-STARTPTS,fade=t=in:st=0.2:d=0.8", 2},
        {"mandelbrot=" + Size() + ":" + Rate(), 2}},
       {{4.0}}},
      // Bars fade out (1.5..2.5 s), the test pattern fades in (2.5..3.5 s): one boundary
      // in the black between, nothing else.
      {"fade_between_shots",
       {{"smptebars=" + Size() + ":" + Rate() + ",fade=t=out:st=1.5:d=1", 2.5},
        {"testsrc=" + Size() + ":" + Rate() + ",fade=t=in:st=0:d=1", 2.5}},
       {{2.4, 2.6}}},
  };
}

// Checks what every finished run must hold: scenes in order covering [0, duration],
// each with a real keyframe JPEG of the configured width taken inside the scene.
void ExpectWellFormed(const nlohmann::json& index, const MemorySink& sink,
                      const nlohmann::json& metadata, int width = 640, int height = 480) {
  const nlohmann::json& scenes = index["scenes"];
  ASSERT_GE(scenes.size(), 1u);
  double duration = index["duration"].get<double>();
  EXPECT_EQ(metadata["scenes"], scenes.size());
  EXPECT_NEAR(scenes.front()["start"].get<double>(), 0.0, kFrame / 2);
  EXPECT_NEAR(scenes.back()["end"].get<double>(), duration, 1e-9);
  EXPECT_EQ(sink.blobs.size(), scenes.size() + 1);
  for (size_t i = 0; i < scenes.size(); ++i) {
    const nlohmann::json& scene = scenes[i];
    SCOPED_TRACE("scene " + std::to_string(i));
    EXPECT_EQ(scene["index"], i);
    double start = scene["start"].get<double>();
    double end = scene["end"].get<double>();
    EXPECT_LT(start, end);
    if (i > 0) {
      EXPECT_DOUBLE_EQ(start, scenes[i - 1]["end"].get<double>());
    }
    // Taken from the middle half of the scene (candidates are sampled, so within a few
    // frames of it).
    double keyframe_time = scene["keyframe_time"].get<double>();
    EXPECT_GE(keyframe_time, start);
    EXPECT_LT(keyframe_time, end);
    EXPECT_GE(keyframe_time, start + (end - start) / 4 - 3 * kFrame);
    EXPECT_LE(keyframe_time, end - (end - start) / 4 + 3 * kFrame);
    EXPECT_GT(scene["sharpness"].get<double>(), 0);
    EXPECT_GE(scene["motion"].get<double>(), 0);
    EXPECT_LE(scene["motion"].get<double>(), 1);
    std::string name = scene["keyframe"].get<std::string>();
    EXPECT_EQ(name, ScenesStage::KeyframeName(static_cast<int>(i)));
    auto file = sink.files.find(name);
    ASSERT_NE(file, sink.files.end()) << name;
    ASSERT_GE(file->second.size(), 4u);
    EXPECT_EQ(file->second.substr(0, 3), "\xFF\xD8\xFF") << name << " is not a JPEG";
    media::FramePtr picture = testing::DecodeRgb(file->second, name);
    ASSERT_NE(picture, nullptr);
    EXPECT_EQ(picture->width, width);
    EXPECT_EQ(picture->height, height);
  }
}

// A run of the stage alone: what it wrote, its outcome and its parsed scenes.json (null
// when the run did not finish).
struct Finished {
  MemorySink sink;
  StageOutcome outcome;
  nlohmann::json index;
  const nlohmann::json& scenes() const { return index["scenes"]; }
};

class ScenesStageTest : public testing::MediaSuite {
 protected:
  static void SetUpTestSuite() {
    MediaSuite::SetUpTestSuite();
    videos_ = new std::vector<GeneratedVideo>(Videos());
  }
  static void TearDownTestSuite() {
    delete videos_;
    videos_ = nullptr;
    MediaSuite::TearDownTestSuite();
  }

  static std::string PathOf(const GeneratedVideo& video) {
    std::string path = samples_->dir().Join("scenes_" + video.name + ".mp4");
    if (!std::filesystem::exists(path)) {
      EXPECT_TRUE(MakeVideo(path, video.segments)) << video.name;
    }
    return path;
  }

  static std::unique_ptr<ScenesStage> Stage(const nlohmann::json& overrides = nullptr) {
    auto stage = ScenesStage::Create(overrides);
    EXPECT_TRUE(stage.has_value()) << (stage ? "" : stage.error().ToString());
    return stage ? std::move(*stage) : nullptr;
  }

  // The stage (with `overrides`) run alone on `path`; a finished run is checked with
  // ExpectWellFormed (keyframes `width` x `height`), one that did not finish fails the test.
  static std::unique_ptr<Finished> Run(const std::string& path,
                                       const nlohmann::json& overrides = nullptr, int width = 640,
                                       int height = 480) {
    auto run = std::make_unique<Finished>();
    auto stage = Stage(overrides);
    run->outcome = RunAlone(*stage, path, run->sink);
    auto file = run->sink.files.find("scenes.json");
    if (run->outcome.state != catalog::DerivativeState::kDone || file == run->sink.files.end()) {
      ADD_FAILURE() << path << ": "
                    << (run->outcome.error ? run->outcome.error->ToString()
                                           : run->outcome.skip_reason);
      return run;
    }
    run->index = nlohmann::json::parse(file->second);
    ExpectWellFormed(run->index, run->sink, run->outcome.result.metadata, width, height);
    return run;
  }

  static inline std::vector<GeneratedVideo>* videos_ = nullptr;
};

struct Score {
  int true_positives = 0;
  int false_positives = 0;
  int false_negatives = 0;
};

// Matches found boundaries to true ones: a cut within one frame, a fade within its span.
Score Compare(const GeneratedVideo& video, const nlohmann::json& scenes) {
  std::vector<double> found;
  for (size_t i = 1; i < scenes.size(); ++i) found.push_back(scenes[i]["start"].get<double>());
  std::vector<bool> used(found.size(), false);
  Score score;
  for (const TrueBoundary& truth : video.boundaries) {
    double from = truth.time - kFrame - 1e-6;
    double to = (truth.time_to < 0 ? truth.time : truth.time_to) + kFrame + 1e-6;
    bool matched = false;
    for (size_t i = 0; i < found.size() && !matched; ++i) {
      if (!used[i] && found[i] >= from && found[i] <= to) used[i] = matched = true;
    }
    if (matched) {
      ++score.true_positives;
    } else {
      ++score.false_negatives;
      ADD_FAILURE() << video.name << ": no boundary found near " << truth.time << " s";
    }
  }
  for (size_t i = 0; i < found.size(); ++i) {
    if (used[i]) continue;
    ++score.false_positives;
    ADD_FAILURE() << video.name << ": false boundary at " << found[i] << " s";
  }
  return score;
}

TEST_F(ScenesStageTest, FindsEveryCutWithinOneFrameAndNoFalseOnes) {
  Score total;
  for (const GeneratedVideo& video : *videos_) {
    SCOPED_TRACE(video.name);
    auto run = Run(PathOf(video));
    ASSERT_FALSE(run->index.is_null());
    std::string starts;
    for (const auto& scene : run->scenes()) {
      starts += " " + nlohmann::json(scene["start"]).dump() + "(" +
                scene["transition"].get<std::string>() + ")";
    }
    std::printf("[ scenes   ] %s:%s\n", video.name.c_str(), starts.c_str());
    Score score = Compare(video, run->scenes());
    total.true_positives += score.true_positives;
    total.false_positives += score.false_positives;
    total.false_negatives += score.false_negatives;
  }
  double found = total.true_positives + total.false_positives;
  double real = total.true_positives + total.false_negatives;
  double precision = found > 0 ? total.true_positives / found : 1;
  double recall = real > 0 ? total.true_positives / real : 1;
  std::printf("[ scenes   ] precision %.3f recall %.3f (%d true, %d false, %d missed)\n", precision,
              recall, total.true_positives, total.false_positives, total.false_negatives);
  EXPECT_GE(precision, 0.95);
  EXPECT_GE(recall, 0.95);
}

TEST_F(ScenesStageTest, VideoWithoutCutIsOneScene) {
  GeneratedVideo video{"no_cut", {{"testsrc2=" + Size() + ":" + Rate(), 3}}, {}};
  auto run = Run(PathOf(video));
  ASSERT_EQ(run->scenes().size(), 1u);
  EXPECT_EQ(run->scenes()[0]["transition"], "start");
  EXPECT_NEAR(run->index["duration"].get<double>(), 3.0, 1e-6);
  const nlohmann::json& metadata = run->outcome.result.metadata;
  EXPECT_EQ(metadata["cuts"], 0);
  EXPECT_EQ(metadata["frames"], 75);
  EXPECT_EQ(metadata["keyframe_width"], 640);

  auto narrow = Run(PathOf(video), {{"keyframe_width", 320}}, 320, 240);
  EXPECT_EQ(narrow->scenes().size(), 1u);
}

// The picture is blurred except from 2.2 s to 2.6 s: the keyframe of the one scene comes
// from that sharp stretch in its middle half, not from its exact middle (2.0 s).
TEST_F(ScenesStageTest, KeyframeIsTheSharpestFrameNearTheMiddle) {
  GeneratedVideo video{
      "blurred",
      {{"testsrc=" + Size() + ":" + Rate() + ",boxblur=lr=4:enable='not(between(t,2.2,2.6))'", 4}},
      {}};
  auto run = Run(PathOf(video));
  ASSERT_EQ(run->scenes().size(), 1u);
  double time = run->scenes()[0]["keyframe_time"].get<double>();
  EXPECT_GE(time, 2.2 - 1e-6);
  EXPECT_LT(time, 2.6);
}

// A moving shot has more motion than still ones in the same video: testsrc2's moving
// pattern, then still colour bars (a frozen picture), then a plain colour (a grid on it,
// so its keyframe has some sharpness).
TEST_F(ScenesStageTest, MovingSceneHasMoreMotionThanStillOnes) {
  GeneratedVideo video =
      Cuts("motion_levels",
           {{"testsrc2=" + Size() + ":" + Rate(), 2},
            {"smptebars=" + Size() + ":" + Rate(), 2},
            {"color=c=blue:" + Size() + ":" + Rate() + ",drawgrid=w=80:h=80:t=2:c=white", 2}});
  auto run = Run(PathOf(video));
  ASSERT_EQ(run->scenes().size(), 3u);
  double moving = run->scenes()[0]["motion"].get<double>();
  double still = run->scenes()[1]["motion"].get<double>();
  double plain = run->scenes()[2]["motion"].get<double>();
  std::printf("[ scenes   ] motion: moving %.4f, still %.4f, plain %.4f\n", moving, still, plain);
  EXPECT_GT(moving, 0.003);
  EXPECT_GT(moving, 4 * still);
  EXPECT_GT(moving, 4 * plain);
  // The cuts' own differences (0.1 and more) are not part of the still scenes' motion.
  EXPECT_LT(still, 0.001);
  EXPECT_LT(plain, 0.001);
}

// Keyframes are upright: the phone video's coded 1280x720 shows 720x1280.
TEST_F(ScenesStageTest, KeyframesOfARotatedVideoAreUpright) {
  // 640 * 1280 / 720 = 1137.8, even: 1138.
  auto run = Run(samples_->RotatedPhoneMp4(), nullptr, 640, 1138);
  media::FramePtr picture = testing::DecodeRgb(run->sink.files["scene-0000.jpg"], "scene-0000.jpg");
  ASSERT_NE(picture, nullptr);
  EXPECT_TRUE(testing::ColourNear(testing::MeanColour(*picture, 0.1, 0.05, 0.9, 0.4),
                                  testing::samples::kRed, 30));
}

// Scenes shorter than min_scene_seconds are merged into the one before: "busy" has
// scenes of 1.2 s and 1.0 s.
TEST_F(ScenesStageTest, MinSceneSecondsDropsCutsTooClose) {
  const GeneratedVideo& busy = (*videos_)[1];
  ASSERT_EQ(busy.name, "busy");
  auto run = Run(PathOf(busy), {{"min_scene_seconds", 1.5}});
  std::vector<double> starts;
  for (const auto& scene : run->scenes()) starts.push_back(scene["start"].get<double>());
  // 3.0 and 5.4 stay; 6.6 is 1.2 s after 5.4; 8.2 is 2.8 s after 5.4; 9.2 is 1.0 after.
  ASSERT_EQ(starts.size(), 4u);
  EXPECT_NEAR(starts[1], 3.0, 1e-6);
  EXPECT_NEAR(starts[2], 5.4, 1e-6);
  EXPECT_NEAR(starts[3], 8.2, 1e-6);
}

TEST_F(ScenesStageTest, AudioAndStillPicturesAreSkipped) {
  auto stage = Stage();
  for (const std::string& path :
       {samples_->AudioOnlyM4a(), samples_->Mp3WithCover(), samples_->PngImage()}) {
    MemorySink sink;
    StageOutcome outcome = RunAlone(*stage, path, sink);
    EXPECT_EQ(outcome.state, catalog::DerivativeState::kSkipped) << path;
    EXPECT_EQ(outcome.skip_reason, "no_video_stream") << path;
    EXPECT_TRUE(sink.blobs.empty());
  }
}

// Damaged inputs end in a precise error or in the scenes of what decoded; never a crash.
TEST_F(ScenesStageTest, DamagedVideosFailPreciselyOrYieldWhatDecoded) {
  auto stage = Stage();
  {
    MemorySink sink;
    StageOutcome outcome = RunAlone(*stage, samples_->UndecodableMp4(), sink);
    ASSERT_EQ(outcome.state, catalog::DerivativeState::kFailed);
    EXPECT_EQ(outcome.error->code, ErrorCode::kUnsupportedMedia) << outcome.error->ToString();
    EXPECT_TRUE(sink.blobs.empty());
  }
  {
    MemorySink sink;
    StageOutcome outcome = RunAlone(*stage, samples_->ScrambledMp4(), sink);
    ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
        << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
    nlohmann::json index = nlohmann::json::parse(sink.files["scenes.json"]);
    const nlohmann::json& scenes = index["scenes"];
    ASSERT_GE(scenes.size(), 1u);
    EXPECT_EQ(sink.blobs.size(), scenes.size() + 1);
    for (size_t i = 1; i < scenes.size(); ++i) {
      EXPECT_GT(scenes[i]["start"].get<double>(), scenes[i - 1]["start"].get<double>());
    }
  }
  {
    auto reader = testing::OpenOrDie(samples_->TruncatedMp4());
    MemorySink sink;
    StageTask task{stage.get(), &sink};
    auto report = RunStages(*reader, std::span(&task, 1));
    if (report) {
      const StageOutcome& outcome = report->outcomes[0];
      if (outcome.state == catalog::DerivativeState::kFailed) {
        EXPECT_EQ(outcome.error->code, ErrorCode::kUnsupportedMedia) << outcome.error->ToString();
      } else {
        EXPECT_EQ(outcome.state, catalog::DerivativeState::kDone);
      }
    } else {
      EXPECT_EQ(report.error().code, ErrorCode::kUnsupportedMedia) << report.error().ToString();
    }
  }
}

// A cross-dissolve is not found as a boundary (each frame differs little from the last;
// docs/STAGES.md says so), and above all it is not a string of cuts.
TEST_F(ScenesStageTest, CrossDissolveIsNotAStringOfCuts) {
  std::string path = samples_->dir().Join("scenes_dissolve.mp4");
  std::string bars = "smptebars=" + Size() + ":" + Rate() + ",trim=duration=3,format=yuv420p";
  std::string pattern = "testsrc=" + Size() + ":" + Rate() + ",trim=duration=3,format=yuv420p";
  // Bars for 2 s, a 1 s dissolve into the pattern, then 2 s of the pattern.
  ASSERT_TRUE(
      testing::Ffmpeg({"-f", "lavfi", "-i",
                       bars + "[a];" + pattern +
                           "[b];[a][b]xfade=transition=fade:"
                           "duration=1:offset=2",
                       "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", path}));
  auto run = Run(path);
  const nlohmann::json& scenes = run->scenes();
  ASSERT_LE(scenes.size(), 2u);
  if (scenes.size() == 2) {
    EXPECT_GE(scenes[1]["start"].get<double>(), 2.0 - kFrame);
    EXPECT_LE(scenes[1]["start"].get<double>(), 3.0 + kFrame);
  }
}

TEST(ScenesStageParams, OutOfRangeOrUnknownParamsFail) {
  for (const nlohmann::json& overrides :
       {nlohmann::json{{"threshold", 1.0}}, nlohmann::json{{"min_difference", 0.0}},
        nlohmann::json{{"min_scene_seconds", -1}}, nlohmann::json{{"keyframe_width", 4000}},
        nlohmann::json{{"analysis_width", 8}}, nlohmann::json{{"quality", 0}},
        nlohmann::json{{"threshold", "high"}}, nlohmann::json{{"sensitivity", 2}}}) {
    auto stage = ScenesStage::Create(overrides);
    ASSERT_FALSE(stage.has_value()) << overrides.dump();
    EXPECT_EQ(stage.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(stage.error().message.find("scenes"), std::string::npos) << stage.error().message;
  }
  auto stage = ScenesStage::Create({{"min_scene_seconds", 2}, {"keyframe_width", 320}});
  ASSERT_TRUE(stage.has_value()) << stage.error().ToString();
  EXPECT_EQ((*stage)->Params()["min_scene_seconds"], 2.0);
  EXPECT_EQ(ScenesStage::KeyframeName(7), "scene-0007.jpg");
  EXPECT_EQ(ScenesStage::KeyframeName(12345), "scene-12345.jpg");
}

}  // namespace
}  // namespace reprise::stages
