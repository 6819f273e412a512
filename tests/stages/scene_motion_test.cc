#include "stages/scene_motion.h"

#include <gtest/gtest.h>

namespace reprise::stages {
namespace {

TEST(SceneMotion, MeanOfTheSceneLeavingOutItsBoundary) {
  SceneMotion motion;
  // Frames 0..9; a boundary at frame 5 becomes known after frame 7 was added.
  for (int frame = 0; frame <= 7; ++frame) motion.Add(frame, frame == 5 ? 0.9 : 0.1 * frame);
  // Frames 1..4: 0.1, 0.2, 0.3, 0.4 (frame 0 has no difference).
  EXPECT_NEAR(motion.Take(5), 0.25, 1e-12);
  motion.Add(8, 0.8);
  motion.Add(9, 0.9);
  // Frames 6..9 (frame 5, the boundary, left out).
  EXPECT_NEAR(motion.Take(10), (0.6 + 0.7 + 0.8 + 0.9) / 4, 1e-12);
}

TEST(SceneMotion, BoundaryKnownBeforeItsFrameIsStillLeftOut) {
  SceneMotion motion;
  motion.Add(0, 0);
  motion.Add(1, 0.2);
  EXPECT_NEAR(motion.Take(2), 0.2, 1e-12);
  motion.Add(2, 0.9);  // the boundary frame, added after its Take
  motion.Add(3, 0.4);
  EXPECT_NEAR(motion.Take(4), 0.4, 1e-12);
}

TEST(SceneMotion, OneFrameSceneHasNoMotion) {
  SceneMotion motion;
  motion.Add(0, 0);
  motion.Add(1, 0.5);
  EXPECT_EQ(motion.Take(1), 0.0);  // frame 0 alone
  EXPECT_EQ(motion.Take(2), 0.0);  // frame 1 alone: its difference is its boundary's
}

// A boundary known very late (a long dark run) merges spans, so memory stays bounded;
// a boundary inside a merged span splits it by frames, so the means are off by at most
// a span's worth of frames (about 2 x 5120 / 512) over thousands.
TEST(SceneMotion, LateBoundariesKeepMemoryBoundedAndMeansRight) {
  SceneMotion motion;
  constexpr int64_t kFrames = 10 * SceneMotion::kMaxSpans;
  constexpr int64_t kBoundary = kFrames / 2;
  for (int64_t frame = 0; frame < kFrames; ++frame) {
    motion.Add(frame, frame < kBoundary ? 0.1 : 0.3);
    ASSERT_LE(motion.spans(), SceneMotion::kMaxSpans);
  }
  EXPECT_NEAR(motion.Take(kBoundary), 0.1, 0.2 * 24 / kBoundary);
  EXPECT_NEAR(motion.Take(kFrames), 0.3, 0.2 * 24 / kBoundary);
  EXPECT_EQ(motion.spans(), 0u);
}

}  // namespace
}  // namespace reprise::stages
