#include "stages/shot_detector.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "tests/media/media_test_util.h"

namespace reprise::stages {
namespace {

constexpr int kW = 48;
constexpr int kH = 32;
constexpr double kFps = 25;

// A frame whose luma at (x, y) is luma(x, y) and whose chroma is flat (u, v).
SmallFrame Picture(int index, const std::function<int(int x, int y)>& luma, int u, int v) {
  SmallFrame frame;
  frame.width = kW;
  frame.height = kH;
  frame.pts = index / kFps;
  for (int y = 0; y < kH; ++y) {
    for (int x = 0; x < kW; ++x) {
      frame.y.push_back(static_cast<uint8_t>(std::clamp(luma(x, y), 0, 255)));
    }
  }
  frame.u.assign(static_cast<size_t>(kW / 2) * (kH / 2), static_cast<uint8_t>(u));
  frame.v.assign(frame.u.size(), static_cast<uint8_t>(v));
  return frame;
}

// A textured picture (diagonal stripes) shifted `shift` pixels and scaled by `gain`.
SmallFrame Stripes(int index, int shift, double gain = 1.0, int period = 12) {
  return Picture(
      index,
      [&](int x, int y) {
        double base = 128 + 90 * std::sin(2 * M_PI * (x + shift + y / 2.0) / period);
        return static_cast<int>(std::lround(base * gain));
      },
      static_cast<int>(std::lround(128 + 40 * gain)), 128);
}

SmallFrame Checks(int index, double gain = 1.0) {
  return Picture(
      index,
      [&](int x, int y) {
        return static_cast<int>(std::lround((((x / 6) + (y / 6)) % 2 ? 220 : 40) * gain));
      },
      128, static_cast<int>(std::lround(128 - 50 * gain)));
}

std::vector<ShotBoundary> Detect(const std::vector<SmallFrame>& frames,
                                 ShotDetectorOptions options = {}) {
  ShotDetector detector(options);
  std::vector<ShotBoundary> found;
  for (const SmallFrame& frame : frames) {
    for (const ShotBoundary& boundary : detector.Push(frame)) found.push_back(boundary);
  }
  for (const ShotBoundary& boundary : detector.Flush()) found.push_back(boundary);
  return found;
}

TEST(ShotDetector, HardCutIsFoundAtItsFrame) {
  std::vector<SmallFrame> frames;
  for (int i = 0; i < 60; ++i) frames.push_back(i < 30 ? Stripes(i, i) : Checks(i));
  auto found = Detect(frames);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].frame, 30);
  EXPECT_DOUBLE_EQ(found[0].time, 30 / kFps);
  EXPECT_EQ(found[0].transition, Transition::kCut);
  EXPECT_GE(found[0].difference, 0.08);
}

TEST(ShotDetector, NoCutWithoutChangeOrOnAPan) {
  std::vector<SmallFrame> still;
  std::vector<SmallFrame> pan;
  for (int i = 0; i < 100; ++i) {
    still.push_back(Checks(i));
    pan.push_back(Stripes(i, i));  // a pixel a frame over a 12-pixel period
  }
  EXPECT_TRUE(Detect(still).empty());
  EXPECT_TRUE(Detect(pan).empty());
}

// Strong noise on every frame keeps the local level high; only the real change counts.
TEST(ShotDetector, NoisyFootageCutsOnlyWhereTheShotChanges) {
  std::mt19937 random(42);
  std::normal_distribution<double> noise(0, 80);  // frame differences of ~0.15
  auto noisy = [&](int index, int level, int u) {
    SmallFrame frame = Picture(
        index, [&](int, int) { return static_cast<int>(level + noise(random)); }, u, 128);
    for (uint8_t& value : frame.u) {
      value = static_cast<uint8_t>(std::clamp(static_cast<int>(u + noise(random)), 0, 255));
    }
    return frame;
  };
  std::vector<SmallFrame> frames;
  for (int i = 0; i < 120; ++i) frames.push_back(i < 70 ? noisy(i, 40, 40) : noisy(i, 215, 215));
  auto found = Detect(frames);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].frame, 70);
}

// The adaptive threshold at work: a difference that would cut static footage does not
// cut footage that differs that much all the time.
TEST(ShotDetector, ThresholdIsRelativeToTheLocalLevel) {
  std::vector<SmallFrame> frames;
  // Alternating between two stripe phases: every frame differs strongly from the last.
  for (int i = 0; i < 60; ++i) frames.push_back(Stripes(i, (i % 2) * 6));
  EXPECT_TRUE(Detect(frames).empty());
  ShotDetectorOptions fixed;
  fixed.threshold = 0.0;  // any difference over min_difference cuts
  fixed.min_scene_seconds = 0;
  EXPECT_GT(Detect(frames, fixed).size(), 10u);
}

TEST(ShotDetector, FadeOutAndBackIntoTheSameShotIsNoBoundary) {
  std::vector<SmallFrame> frames;
  int index = 0;
  for (int i = 0; i < 25; ++i, ++index) frames.push_back(Stripes(index, index));
  for (int i = 1; i <= 20; ++i, ++index) frames.push_back(Stripes(index, index, 1 - i / 20.0));
  for (int i = 0; i < 10; ++i, ++index) frames.push_back(Stripes(index, index, 0));
  for (int i = 1; i <= 20; ++i, ++index) frames.push_back(Stripes(index, index, i / 20.0));
  for (int i = 0; i < 25; ++i, ++index) frames.push_back(Stripes(index, index));
  EXPECT_TRUE(Detect(frames).empty());
}

TEST(ShotDetector, FadeBetweenShotsIsOneBoundaryInTheMiddleOfTheBlack) {
  std::vector<SmallFrame> frames;
  int index = 0;
  for (int i = 0; i < 25; ++i, ++index) frames.push_back(Stripes(index, index));
  for (int i = 1; i <= 20; ++i, ++index) frames.push_back(Stripes(index, index, 1 - i / 20.0));
  int dark_from = index;
  for (int i = 0; i < 10; ++i, ++index) frames.push_back(Checks(index, 0));
  for (int i = 1; i <= 20; ++i, ++index) frames.push_back(Checks(index, i / 20.0));
  for (int i = 0; i < 25; ++i, ++index) frames.push_back(Checks(index));
  auto found = Detect(frames);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].transition, Transition::kFade);
  // The dark run: the last frames of the fade-out, the black, the first of the fade-in.
  EXPECT_GE(found[0].frame, dark_from - 3);
  EXPECT_LE(found[0].frame, dark_from + 13);
  EXPECT_DOUBLE_EQ(found[0].time, static_cast<double>(found[0].frame) / kFps);
}

TEST(ShotDetector, StartingAndEndingInBlackIsNoBoundary) {
  std::vector<SmallFrame> frames;
  int index = 0;
  for (int i = 0; i < 20; ++i, ++index) frames.push_back(Checks(index, 0));
  for (int i = 1; i <= 10; ++i, ++index) frames.push_back(Checks(index, i / 10.0));
  for (int i = 0; i < 30; ++i, ++index) frames.push_back(Checks(index));
  for (int i = 1; i <= 10; ++i, ++index) frames.push_back(Checks(index, 1 - i / 10.0));
  for (int i = 0; i < 20; ++i, ++index) frames.push_back(Checks(index, 0));
  EXPECT_TRUE(Detect(frames).empty());
}

TEST(ShotDetector, CutsCloserThanTheMinimumSceneAreDropped) {
  std::vector<SmallFrame> frames;
  // Stripes, then checks from frame 30, then stripes again from frame 40 (0.4 s later).
  for (int i = 0; i < 80; ++i) {
    frames.push_back(i >= 30 && i < 40 ? Checks(i) : Stripes(i, 0));
  }
  auto found = Detect(frames);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].frame, 30);
  ShotDetectorOptions short_scenes;
  short_scenes.min_scene_seconds = 0.2;
  auto both = Detect(frames, short_scenes);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[1].frame, 40);
}

TEST(ShotDetectorShrink, AveragesAreasAndStretchesLimitedRange) {
  // Left half white, right half black, converted to limited-range yuv420p.
  media::FramePtr picture = testing::PaintedPicture(64, 48, AV_PIX_FMT_YUV420P, [](int x, int) {
    return x < 32 ? testing::Rgb{255, 255, 255} : testing::Rgb{0, 0, 0};
  });
  auto small = Shrink(*picture, 8, 1.5);
  ASSERT_TRUE(small.has_value()) << small.error().ToString();
  EXPECT_EQ(small->width, 8);
  EXPECT_EQ(small->height, 6);
  EXPECT_EQ(small->u.size(), 12u);
  EXPECT_DOUBLE_EQ(small->pts, 1.5);
  EXPECT_NEAR(small->y[0], 255, 2);
  EXPECT_NEAR(small->y[7], 0, 2);
  EXPECT_NEAR(small->u[0], 128, 2);

  media::FramePtr rgb = testing::PaintedPicture(16, 16, AV_PIX_FMT_RGB24, [](int, int) {
    return testing::Rgb{1, 2, 3};
  });
  auto refused = Shrink(*rgb, 8, 0);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace reprise::stages
